"""The model list: every valid model card in the bundled and user model folders.

A model's id is its card's file stem. Children (fine-tunes) name their parent's id in ``parent``,
so the UI can show them under it. Invalid cards are listed in ``problems`` with a clear reason
instead of breaking the list.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .checkpoint import ModelCard, card_path, load_checkpoint, read_card
from .device import resolve_device
from .errors import CheckpointError, StudioError, UnknownFamily
from .family import LoadedModel
from .paths import bundled_models_dir, user_models_dir
from .registry import Registry, default_registry
from .safeio import link_escapes, regular_file

DEFAULT_MODEL_ID = "emoji-dcgan"  # the bundled starter CSGAN (resources/models/emoji-dcgan.json)


@dataclass
class ModelEntry:
    id: str
    path: Path  # the .json card
    card: ModelCard
    bundled: bool


class ModelStore:
    def __init__(self, folders: list[Path] | None = None, registry: Registry | None = None):
        self.folders = folders if folders is not None else [bundled_models_dir(), user_models_dir()]
        self.registry = registry or default_registry()
        self.entries: dict[str, ModelEntry] = {}
        self.problems: list[str] = []
        self.refresh()

    def refresh(self) -> None:
        self.entries.clear()
        self.problems.clear()
        bundled = self.folders[0] if self.folders else None
        for folder in self.folders:
            try:
                if not folder.is_dir():
                    continue
                cards = sorted(folder.glob("*.json"))
            except OSError as exc:
                self.problems.append(f"{folder}: the models folder could not be read ({exc.strerror or exc})")
                continue
            for cpath in cards:
                try:
                    card = self._read_listed_card(cpath, folder)
                except StudioError as exc:
                    self.problems.append(f"{cpath}: {getattr(exc, 'problem', exc)}")
                    continue
                except Exception as exc:  # one strange file never stops the list (the rest still works)
                    self.problems.append(f"{cpath}: could not be read ({exc!r})")
                    continue
                mid = cpath.stem
                if mid in self.entries:
                    self.problems.append(f"{cpath}: a model called '{mid}' is already listed; ignored")
                    continue
                self.entries[mid] = ModelEntry(mid, cpath, card, folder == bundled)

    @staticmethod
    def _read_listed_card(cpath: Path, folder: Path) -> ModelCard:
        """A card found in a models folder: links leading out of the folder and anything but regular files
        are skipped with a reason (never opened: a FIFO or a device would block or never end)."""
        outside = link_escapes(cpath, folder)
        if outside is not None:
            raise CheckpointError(cpath, f"skipped: it is a link to {outside}, outside the models folder")
        tpath = cpath.with_suffix(".safetensors")
        if os.path.lexists(tpath):
            outside = link_escapes(tpath, folder)
            if outside is not None:
                raise CheckpointError(
                    cpath, f"skipped: its tensors file is a link to {outside}, outside the models folder"
                )
            regular_file(tpath, CheckpointError, "tensors file")
        return read_card(cpath)

    def default_id(self) -> str | None:
        """The model to open when none is named: $STUDIO_DEFAULT_MODEL, the bundled starter, or any."""
        for mid in (os.environ.get("STUDIO_DEFAULT_MODEL"), DEFAULT_MODEL_ID):
            if mid and mid in self.entries:
                return mid
        candidates = [e.id for e in self.entries.values() if e.bundled] or list(self.entries)
        return candidates[0] if candidates else None

    def ids(self) -> list[str]:
        return list(self.entries)

    def children(self, model_id: str) -> list[str]:
        return [e.id for e in self.entries.values() if e.card.parent == model_id]

    def get(self, model_id: str) -> ModelEntry:
        if model_id not in self.entries:
            raise StudioError(f"no model called '{model_id}' (known: {', '.join(self.entries) or 'none'})")
        return self.entries[model_id]

    def resolve(self, name_or_path: str) -> Path:
        """A model id or a path to a card/safetensors file -> the card path."""
        if name_or_path in self.entries:
            return self.entries[name_or_path].path
        p = Path(name_or_path)
        if p.exists() or p.with_suffix(".json").exists():
            return p if p.suffix == ".json" else p.with_suffix(".json")
        raise StudioError(
            f"'{name_or_path}' is neither a known model id nor a checkpoint file "
            f"(known: {', '.join(self.entries) or 'none'})"
        )


def load_model(path: str | Path, device: str | torch.device = "auto", registry: Registry | None = None) -> LoadedModel:
    """Load any checkpoint into a ready-to-render model, through its family."""
    dev = resolve_device(device)
    tensors, card = load_checkpoint(path, device="cpu")
    try:
        family = (registry or default_registry()).get(card.family)
    except UnknownFamily as exc:  # say which file needs it
        raise UnknownFamily(f"{card_path(path).name}: {exc}") from None
    model = family.load(tensors, card, dev)
    return model


def describe(card: ModelCard) -> dict[str, Any]:
    """A short, human-oriented summary of a card (for `studio models` and the UI)."""
    t = card.training
    return {
        "name": card.name,
        "family": card.family,
        "image_size": card.image_size,
        "latent_dim": card.latent_dim,
        "labels": {k: len(v) for k, v in card.labels.items()},
        "parent": card.parent,
        "data": t.data,
        "licence": t.licence,
        "steps": t.steps,
        "wall_time_s": round(t.wall_time_s, 1),
        "command": t.command,
        "metrics": card.metrics,
    }
