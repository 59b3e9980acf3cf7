"""Checkpoints: tensors in ``NAME.safetensors`` plus a JSON model card ``NAME.json``.

Why this shape: safetensors never executes code, so a checkpoint a user downloads cannot run anything;
the JSON card says what the tensors are (family, architecture config, labels) and where they came from
(data, licence, command, steps, wall time, metrics, parent model), so every model can be reproduced.

Loading validates both files and raises one error type, :class:`CheckpointError`, naming the file
and the problem. The pair is saved as one unit: the new tensors go to a temp file, the new card (with
the SHA-256 of those tensors) to ``.NAME.json.pending``, then the tensors are renamed into place and
then the card. A kill before the first rename leaves the old pair; after it, the load finds the new
tensors, sees that the old card does not match them, finds the pending card that does, and finishes
the save (rolls forward). So a reader sees the old pair or the new one, never a mix. Every rename is
followed by an fsync of the folder (:mod:`studio.core.atomic`).

What a killed save leaves behind is put right by the next save of the same model, before it writes
anything: a pending card whose tensors landed is finished, one whose tensors never landed is removed,
and the temp files (``.NAME.safetensors.*.tmp``…) are deleted. None of them is ever loaded.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .atomic import atomic_path, atomic_write_text, remove_temp_files, replace_file
from .errors import CheckpointError
from .safeio import MAX_CARD_BYTES, open_regular, parse_json, read_json

FORMAT_NAME = "gan-studio-model"
FORMAT_VERSION = 1
_MAX_HEADER = 100 * 1024 * 1024


@dataclass
class TrainingInfo:
    """Where a model came from: enough to reproduce it."""

    data: str = ""
    licence: str = ""
    command: str = ""
    steps: int = 0
    wall_time_s: float = 0.0
    device: str = ""
    notes: str = ""


@dataclass
class ModelCard:
    """The JSON half of a checkpoint. ``config`` is the family's architecture config as a dict."""

    name: str
    family: str
    config: dict[str, Any]
    image_size: int
    latent_dim: int = 0
    labels: dict[str, list[str]] = field(default_factory=dict)
    training: TrainingInfo = field(default_factory=TrainingInfo)
    metrics: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION
    tensors_sha256: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str | Path = "<card>") -> ModelCard:
        if not isinstance(data, Mapping):
            raise CheckpointError(path, "the model card is not a JSON object")
        if data.get("format") != FORMAT_NAME:
            raise CheckpointError(
                path, f"not a GAN Studio model card (format is {data.get('format')!r}, expected {FORMAT_NAME!r})"
            )
        version = data.get("format_version")
        if not isinstance(version, int) or version < 1:
            raise CheckpointError(path, f"the model card has no valid format_version ({version!r})")
        if version > FORMAT_VERSION:
            raise CheckpointError(
                path,
                f"the model card is format version {version}, newer than this "
                f"GAN Studio understands ({FORMAT_VERSION}); please update GAN Studio",
            )
        required = {"name": str, "family": str, "config": dict, "image_size": int}
        for key, kind in required.items():
            if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
                raise CheckpointError(path, f"the model card's '{key}' is missing or not a {kind.__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        _check_card_values(values, path)
        training = values.get("training") or {}
        if not isinstance(training, Mapping):
            raise CheckpointError(path, "the model card's 'training' is not an object")
        tknown = {f.name for f in dataclasses.fields(TrainingInfo)}
        tvalues = {k: v for k, v in training.items() if k in tknown}
        _check_training_values(tvalues, path)
        values["training"] = TrainingInfo(**tvalues)
        labels = values.get("labels") or {}
        if not isinstance(labels, Mapping) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v) for k, v in labels.items()
        ):
            raise CheckpointError(path, "the model card's 'labels' must map names to lists of strings")
        return cls(**values)


MAX_IMAGE_SIZE = 16384  # px per side; the bundled models are 64 px
MAX_LATENT_DIM = 1 << 20


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_card_values(values: dict[str, Any], path: str | Path) -> None:
    """Refuse cards whose fields have the right names but nonsense values (a clear error, not a crash later)."""
    if not values["name"].strip():
        raise CheckpointError(path, "the model card's 'name' is empty")
    if not values["family"].strip():
        raise CheckpointError(path, "the model card's 'family' is empty")
    size = values["image_size"]
    if not 1 <= size <= MAX_IMAGE_SIZE:
        raise CheckpointError(
            path, f"the model card's 'image_size' must be between 1 and {MAX_IMAGE_SIZE} (got {size})"
        )
    latent = values.get("latent_dim", 0)
    if not _is_int(latent) or not 0 <= latent <= MAX_LATENT_DIM:
        raise CheckpointError(
            path, f"the model card's 'latent_dim' must be a whole number from 0 to {MAX_LATENT_DIM} (got {latent!r})"
        )
    for key in ("metrics", "extra"):
        if values.get(key) is not None and not isinstance(values[key], Mapping):
            raise CheckpointError(
                path, f"the model card's '{key}' must be an object (got {type(values[key]).__name__})"
            )
    for key in ("created", "tensors_sha256", "format"):
        if values.get(key) is not None and not isinstance(values[key], str):
            raise CheckpointError(path, f"the model card's '{key}' must be a string")
    sha = values.get("tensors_sha256") or ""
    if sha and not (len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)):
        raise CheckpointError(path, "the model card's 'tensors_sha256' is not a SHA-256 hex digest")
    parent = values.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise CheckpointError(path, "the model card's 'parent' must be a model id (a string) or null")
    for key in ("metrics", "extra"):  # None spelled in JSON as null: the defaults
        if values.get(key) is None and key in values:
            values[key] = {}


def _check_training_values(values: Mapping[str, Any], path: str | Path) -> None:
    for key in ("data", "licence", "command", "device", "notes"):
        if key in values and not isinstance(values[key], str):
            raise CheckpointError(path, f"the model card's 'training.{key}' must be a string")
    steps = values.get("steps", 0)
    if not _is_int(steps) or steps < 0:
        raise CheckpointError(path, f"the model card's 'training.steps' must be a whole number >= 0 (got {steps!r})")
    wall = values.get("wall_time_s", 0.0)
    if isinstance(wall, bool) or not isinstance(wall, (int, float)) or not wall >= 0:
        raise CheckpointError(path, f"the model card's 'training.wall_time_s' must be seconds >= 0 (got {wall!r})")


def card_path(path: str | Path) -> Path:
    """The ``.json`` card for a checkpoint given by its card, tensors or stem path."""
    p = Path(path)
    return p.with_suffix(".json") if p.suffix in (".json", ".safetensors") else Path(str(p) + ".json")


def tensors_path(path: str | Path) -> Path:
    p = Path(path)
    return p.with_suffix(".safetensors") if p.suffix in (".json", ".safetensors") else Path(str(p) + ".safetensors")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open_regular(path, CheckpointError, "tensors file") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sniff_foreign(path: Path, head: bytes) -> str | None:
    """Name what a file is when it is clearly not safetensors (so the message can say so)."""
    if head.startswith(b"PK\x03\x04"):
        return (
            "this is a PyTorch .pt/.pth file (a zip of pickles), not a safetensors checkpoint; "
            "GAN Studio never unpickles user files — convert a plain state dict with "
            f"'studio models import {path.name} --like MODEL'"
        )
    if head[:1] == b"\x80" and len(head) > 1 and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return (
            "this is a Python pickle, not a safetensors checkpoint; GAN Studio never unpickles "
            f"user files — convert a plain state dict with 'studio models import {path.name} --like MODEL'"
        )
    if head.startswith((b"\x89HDF", b"\x89PNG", b"\xff\xd8")):
        return "this is not a checkpoint (it looks like an HDF5 or image file)"
    return None


def _check_safetensors_header(path: Path) -> None:
    with open_regular(path, CheckpointError, "tensors file") as fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(16)
        foreign = sniff_foreign(path, head)
        if foreign:
            raise CheckpointError(path, foreign)
        if size < 8:
            raise CheckpointError(path, "the file is too short to be a safetensors checkpoint (truncated?)")
        (header_len,) = struct.unpack("<Q", head[:8])
        if header_len > min(_MAX_HEADER, size - 8):
            raise CheckpointError(path, "the safetensors header is damaged or the file is truncated")
        fh.seek(8)
        raw = fh.read(header_len)
    header = parse_json(raw, path, CheckpointError, "safetensors header")
    if not isinstance(header, dict):
        raise CheckpointError(path, "the safetensors header is not a JSON object (damaged or not a checkpoint)")
    end = 0
    for key, info in header.items():
        if key == "__metadata__":
            continue
        try:
            start, stop = (int(v) for v in info["data_offsets"])
        except (KeyError, TypeError, IndexError, ValueError) as exc:
            raise CheckpointError(path, f"the safetensors entry '{key}' is malformed") from exc
        if not 0 <= start <= stop:
            raise CheckpointError(path, f"the safetensors entry '{key}' has impossible offsets")
        end = max(end, stop)
    if 8 + header_len + end > size:
        raise CheckpointError(path, f"the file is truncated: {size} bytes, {8 + header_len + end} expected")


def read_card(path: str | Path) -> ModelCard:
    """Read and validate only the JSON card (cheap: used to list models)."""
    cpath = card_path(path)
    if not os.path.lexists(cpath):
        raise CheckpointError(cpath, "model card not found")
    data = read_json(cpath, MAX_CARD_BYTES, CheckpointError, "model card")
    return ModelCard.from_dict(data, cpath)


def load_checkpoint(
    path: str | Path, device: str | torch.device = "cpu", verify_hash: bool = True
) -> tuple[dict[str, torch.Tensor], ModelCard]:
    """Load tensors and card of one checkpoint, validating both."""
    from safetensors.torch import load_file

    if not os.path.lexists(card_path(path)):  # a first save killed between its renames: finish it if it can be
        finish_interrupted_save(path)
    card = read_card(path)
    tpath = tensors_path(path)
    if not os.path.lexists(tpath):
        raise CheckpointError(tpath, "the checkpoint's tensors file is missing (expected next to its card)")
    _check_safetensors_header(tpath)
    if verify_hash and card.tensors_sha256:
        actual = _sha256(tpath)
        if actual != card.tensors_sha256:
            finished = _roll_forward(tpath, card_path(path), actual)
            if finished is None:
                raise CheckpointError(
                    tpath, "the tensors do not match their model card (the file was changed or a save was interrupted)"
                )
            card = finished
    try:
        tensors = load_file(str(tpath), device=str(device))
    except Exception as exc:  # safetensors raises its own SafetensorError / OSError types
        raise CheckpointError(tpath, f"could not read the tensors ({exc})") from exc
    return tensors, card


def pending_card_path(path: str | Path) -> Path:
    """Where a save keeps the new card until its tensors are in place (see the module docstring)."""
    cpath = card_path(path)
    return cpath.with_name(f".{cpath.name}.pending")


def _roll_forward(tpath: Path, cpath: Path, actual_sha: str) -> ModelCard | None:
    """The card of a save that was killed between its two renames, if that is what happened here."""
    pending = pending_card_path(cpath)
    if not pending.is_file():
        return None
    try:
        card = ModelCard.from_dict(read_json(pending, MAX_CARD_BYTES, CheckpointError, "model card"), pending)
    except (CheckpointError, OSError):
        return None
    if card.tensors_sha256 != actual_sha:
        return None
    try:
        replace_file(pending, cpath)  # finish the interrupted save
    except OSError:
        pass  # a read-only folder: use the matching card without repairing the pair
    return card


def finish_interrupted_save(path: str | Path) -> str:
    """Put right what a killed save of this model left: ``"finished"`` (its tensors had landed: the
    pending card is moved into place), ``"discarded"`` (they had not: the pending card goes) or ``""``
    (nothing to do). Temp files are not touched here (:func:`save_checkpoint` removes them)."""
    tpath, cpath = tensors_path(path), card_path(path)
    pending = pending_card_path(path)
    if not pending.is_file() or pending.is_symlink():
        return ""
    actual = ""
    if tpath.is_file():
        try:
            actual = _sha256(tpath)
        except (OSError, CheckpointError):
            actual = ""
    if actual and _roll_forward(tpath, cpath, actual) is not None:  # the pending card is the valid one
        return "" if pending.exists() else "finished"
    try:
        pending.unlink()
    except OSError:
        return ""
    return "discarded"


def save_checkpoint(path: str | Path, tensors: Mapping[str, torch.Tensor], card: ModelCard) -> Path:
    """Save ``path``'s ``.safetensors`` and ``.json`` as one unit; returns the card path."""
    from safetensors.torch import save_file

    tpath, cpath = tensors_path(path), card_path(path)
    pending = pending_card_path(path)
    flat = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    # A save of this model killed earlier: finish it (or drop its pending card) before this one
    # writes its own pending card, which would otherwise replace the one the landed tensors need.
    finish_interrupted_save(path)
    for target in (tpath, cpath, pending):
        remove_temp_files(target)
    try:
        with atomic_path(tpath) as tmp:
            save_file(flat, str(tmp))
            card.tensors_sha256 = _sha256(tmp)
            if not card.created:
                card.created = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
            atomic_write_text(pending, json.dumps(card.to_dict(), indent=2, sort_keys=False) + "\n")
        # the tensors are in place: the pending card is now the valid one
        with open(pending, "rb") as fh:
            os.fsync(fh.fileno())
        replace_file(pending, cpath)
    except OSError as exc:
        raise CheckpointError(cpath, f"could not save the checkpoint ({exc.strerror or exc})") from exc
    finally:
        if pending.exists() and not tpath.exists():
            pending.unlink(missing_ok=True)
    return cpath


def update_card(path: str | Path, **changes: Any) -> ModelCard:
    """Rewrite fields of an existing card atomically (e.g. to add metrics)."""
    card = read_card(path)
    for key, value in changes.items():
        setattr(card, key, value)
    atomic_write_text(card_path(path), json.dumps(card.to_dict(), indent=2) + "\n")
    return card


def import_legacy(pt_path: str | Path) -> dict[str, torch.Tensor]:
    """Read tensors from a legacy .pt/.pth state dict without running pickled code.

    ``weights_only=True`` makes torch refuse any pickled object that is not a tensor or a plain
    container, so a malicious file raises instead of executing.
    """
    import warnings

    pt_path = Path(pt_path)
    try:
        with warnings.catch_warnings(), open_regular(pt_path, CheckpointError, "legacy file") as fh:
            warnings.simplefilter("ignore")  # torch warns about pickle protocols before refusing
            obj = torch.load(fh, map_location="cpu", weights_only=True)
    except CheckpointError:
        raise
    except Exception as exc:  # torch's message is a page long: keep the line that says why
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        why = next((line for line in lines if "Unsupported" in line or "not an allowed global" in line), "")
        why = why or (lines[0] if lines else type(exc).__name__)
        raise CheckpointError(
            pt_path,
            f"could not import as a weights-only PyTorch file: it is not a plain state dict of tensors "
            f"(refused without running anything: {why[:200]})",
        ) from exc
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(pt_path, "the file does not hold a flat state dict of tensors")
    return dict(obj)


def module_tensors(prefix: str, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A module's state dict with keys prefixed, ready to save alongside other modules."""
    return {f"{prefix}.{k}": v for k, v in module.state_dict().items()}


def load_module_tensors(
    prefix: str, module: torch.nn.Module, tensors: Mapping[str, torch.Tensor], path: str | Path = "<checkpoint>"
) -> None:
    """Load the ``prefix.*`` tensors into ``module``, turning shape/key mismatches into clear errors."""
    sub = {k[len(prefix) + 1 :]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
    if not sub:
        raise CheckpointError(path, f"the checkpoint holds no '{prefix}' network")
    try:
        module.load_state_dict(sub, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0:3]
        raise CheckpointError(
            path, f"the '{prefix}' tensors do not fit the architecture in the model card: " + " ".join(first)
        ) from exc
