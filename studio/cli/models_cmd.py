"""``studio models``: list, inspect, validate and import model cards."""

from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("models", help="list, inspect, validate or import models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    ls = msub.add_parser("list", help="list the installed models (default)")
    ls.set_defaults(func=run_list)
    ins = msub.add_parser("inspect", help="show a model card")
    ins.add_argument("model", help="model id or card path")
    ins.add_argument(
        "--paper", action="store_true", help="only the card's comparison with its source paper (docs/papers.md)"
    )
    ins.set_defaults(func=run_inspect)
    val = msub.add_parser(
        "validate",
        help="fully load checkpoints and report problems",
        description="Fully load the named checkpoints (card + tensors, through their family) and report on "
        "them only; with --all (or no FILES) every installed model and every problem of the model folders.",
    )
    val.add_argument("paths", nargs="*", help="model ids, card or safetensors files")
    val.add_argument("--all", action="store_true", help="check every installed model and the model folders")
    val.set_defaults(func=run_validate)
    imp = msub.add_parser(
        "import",
        help="convert a legacy PyTorch state dict (.pt/.pth) into a GAN Studio model",
        description="Read a plain state dict of tensors from a .pt/.pth file WITHOUT running pickled code "
        "(torch.load weights_only=True: anything but tensors and plain containers is refused), take the "
        "architecture from an installed model's card (--like), check that the tensors fit it, and save "
        "NAME.safetensors + NAME.json in the user models folder.",
    )
    imp.add_argument("file", type=Path, help="the legacy .pt / .pth file")
    imp.add_argument("--like", required=True, metavar="MODEL", help="model id or card whose architecture it has")
    imp.add_argument("--out", metavar="NAME", help="the new model's name (default: the file's stem)")
    imp.set_defaults(func=run_import)
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
    if getattr(args, "paper", False):
        from studio.core.paper_comparison import format_paper_comparison

        print(format_paper_comparison(card))
        return 0
    print(json.dumps(card.to_dict(), indent=2))
    return 0


def run_validate(args) -> int:
    """Exit 0 when everything checked is fine, 1 otherwise. Files named on the command line are checked
    alone: the problems of unrelated cards in the model folders are reported only with --all."""
    from studio.core.errors import FileProblem, StudioError
    from studio.core.store import ModelStore, load_model

    store = ModelStore()
    check_all = args.all or not args.paths
    targets: list[str | Path] = list(args.paths)
    if check_all:
        targets += [e.path for e in store.entries.values()]
    bad = 0
    for target in targets:
        try:
            path = store.resolve(str(target))
            model = load_model(path, device="cpu", registry=store.registry)
            print(f"ok       {path}  ({model.card.family}, {model.card.image_size}px)")
        except StudioError as exc:
            bad += 1
            where, problem = (exc.path, exc.problem) if isinstance(exc, FileProblem) else (target, exc)
            print(f"INVALID  {where}: {problem}")
    if check_all:
        for problem in store.problems:
            bad += 1
            print(f"INVALID  {problem}")
    return 1 if bad else 0


def run_import(args) -> int:
    import torch

    from studio.core.checkpoint import import_legacy, read_card, save_checkpoint
    from studio.core.errors import CheckpointError, StudioError
    from studio.core.paths import model_out_stem
    from studio.core.safeio import regular_file
    from studio.core.store import ModelStore

    store = ModelStore()
    like = read_card(store.resolve(args.like))
    regular_file(args.file, CheckpointError, "legacy file")
    tensors = import_legacy(args.file)
    stem = model_out_stem(args.out, args.file.stem)
    card_file = stem.with_suffix(".json")
    if card_file.exists():
        raise StudioError(f"a model '{stem.name}' already exists at {stem.parent}; choose another --out name")
    card = like
    card.name = stem.name
    card.parent = None
    card.metrics = {}
    card.tensors_sha256 = ""
    card.created = ""
    card.training.notes = f"imported from {args.file.name} with the architecture of '{args.like}'"
    card.training.command = " ".join(["studio", *getattr(args, "argv", [])])
    family = store.registry.get(card.family)
    try:
        family.load(tensors, card, torch.device("cpu"))  # the tensors must fit the architecture
    except StudioError as exc:
        problem = getattr(exc, "problem", exc)
        raise CheckpointError(args.file, f"the tensors do not fit '{args.like}' ({problem})") from exc
    except Exception as exc:
        raise CheckpointError(args.file, f"the tensors do not fit '{args.like}' ({exc!r})") from exc
    saved = save_checkpoint(stem, tensors, card)
    print(f"imported {args.file} as '{stem.name}' ({saved})")
    return 0
