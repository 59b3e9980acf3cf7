"""Shared pieces of the small per-model jobs (steer, sort, encode, translate…): Qt-free.

These jobs run in two places through the same class: the window's tool panels (which pass a loaded
model and read the in-memory outputs) and ``studio run FAMILY JOB`` (which passes a model id or card
path and an output file). Outputs of a run that writes a file stay short (paths, counts, a few
numbers), because the CLI prints every output line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from studio.core.atomic import atomic_write_text
from studio.core.errors import StudioError


def add_model_argument(parser: Any, what: str = "model") -> None:
    parser.add_argument("model", help=f"{what} id (see 'studio models list') or card path")


def add_output_arguments(parser: Any, suffixes: Iterable[str], default_hint: str) -> None:
    """``-o/--out``, ``--overwrite`` (alias ``--force``) and ``--device``: the options every file-writing job has."""
    kinds = " or ".join(suffixes)
    parser.add_argument(
        "-o", "--out", default=None, help=f"output file, {kinds} by its suffix (default: {default_hint})"
    )
    parser.add_argument(
        "--overwrite", "--force", dest="force", action="store_true", help="replace the output file if it exists"
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")


def check_output(out: str | Path, force: bool, suffixes: Iterable[str]) -> Path:
    """The output path, or a clear error: unknown suffix, or the file exists and ``force`` is off."""
    path = Path(out).expanduser()
    allowed = tuple(s.lower() for s in suffixes)
    if path.suffix.lower() not in allowed:
        raise StudioError(f"{path}: the output must end in {' or '.join(allowed)}")
    if path.is_dir():
        raise StudioError(f"{path} is a folder; give a file name")
    if path.exists() and not force:
        raise StudioError(f"{path} already exists; pass --overwrite to replace it")
    return path


def write_json(path: str | Path, data: Any) -> Path:
    """Write JSON atomically (a crash never leaves half a file)."""
    path = Path(path)
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")
    return path


def model_id_of(model: Any, given: str | None = None) -> str:
    """A model's id for states: the given id, else the card path's stem, else the card's name."""
    if given:
        return str(given)
    if isinstance(model, (str, Path)):
        return Path(model).stem if str(model).endswith((".json", ".safetensors")) else str(model)
    return str(getattr(getattr(model, "card", None), "name", "") or "")


def resolve_model(model: Any, device: str = "auto", reporter: Any = None, cache: dict | None = None):
    """A loaded model from a loaded model (returned as is), a model id or a card path.

    ``cache`` (a dict) keeps the last model loaded per (card path, device), so a tool that translates
    image after image loads its model once.
    """
    if not isinstance(model, (str, Path)):
        if model is None:
            raise StudioError("no model given")
        return model
    from studio.core.store import ModelStore, load_model

    given = Path(model)
    if given.suffix in (".json", ".safetensors") and given.is_file():
        path = given.with_suffix(".json")  # a card path: no need to scan the model folders
    else:
        path = ModelStore().resolve(str(model))
    key = (str(path), str(device))
    if cache is not None and key in cache:
        return cache[key]
    if reporter is not None:
        reporter.message(f"loading {path.stem}…")
    loaded = load_model(path, device=device)
    if cache is not None:
        cache.clear()
        cache[key] = loaded
    return loaded


def render_batched(model: Any, states: list[dict], batch: int = 32, reporter: Any = None):
    """Render many states in batches (checking for Cancel between batches): [N, 3, H, W] in [0, 1]."""
    import torch

    parts = []
    for i in range(0, len(states), batch):
        if reporter is not None:
            reporter.check()
        parts.append(model.render(states[i : i + batch]))
    return torch.cat(parts) if parts else torch.zeros(0, 3, model.image_size, model.image_size)
