"""``studio models``: list, inspect, validate and import model cards."""

from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("models", help="list, inspect or validate models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    ls = msub.add_parser("list", help="list the installed models (default)")
    ls.set_defaults(func=run_list)
    ins = msub.add_parser("inspect", help="show a model card")
    ins.add_argument("model", help="model id or card path")
    ins.set_defaults(func=run_inspect)
    val = msub.add_parser("validate", help="fully load checkpoints and report problems")
    val.add_argument("paths", nargs="*", help="card or safetensors files (default: every installed model)")
    val.set_defaults(func=run_validate)
    p.set_defaults(func=run_list)


def run_list(args) -> int:
    from studio.core.store import ModelStore

    store = ModelStore()
    if not store.entries:
        print("no models found")
    for e in store.entries.values():
        where = "bundled" if e.bundled else "user"
        parent = f"  (child of {e.card.parent})" if e.card.parent else ""
        print(f"{e.id:32s} {e.card.family:10s} {e.card.image_size:4d}px  {where}{parent}")
    for problem in store.problems:
        print(f"problem: {problem}")
    return 0


def run_inspect(args) -> int:
    from studio.core.checkpoint import read_card
    from studio.core.store import ModelStore

    card = read_card(ModelStore().resolve(args.model))
    print(json.dumps(card.to_dict(), indent=2))
    return 0


def run_validate(args) -> int:
    from studio.core.errors import StudioError
    from studio.core.store import ModelStore, load_model

    store = ModelStore()
    paths = [Path(p) for p in args.paths] or [e.path for e in store.entries.values()]
    bad = 0
    for path in paths:
        try:
            model = load_model(path, device="cpu", registry=store.registry)
            print(f"ok       {path}  ({model.card.family}, {model.card.image_size}px)")
        except StudioError as exc:
            bad += 1
            print(f"INVALID  {exc}")
    for problem in store.problems:
        bad += 1
        print(f"INVALID  {problem}")
    return 1 if bad else 0
