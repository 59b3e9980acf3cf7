"""A training run's folder, whose state is saved as one unit: one safetensors file.

Why one file: a run state is many tensors (networks, optimizer moments, EMA copies, RNG states) plus
JSON (step, phase, history, options). Two files (tensors + card) cannot be replaced together, and a
kill between the two renames left runs unresumable. Here the JSON travels inside the safetensors
header (``__metadata__``), so one atomic rename replaces the whole state: a kill at any instant leaves
the old state or the new one. Temp files left by a killed save are removed when the run is opened.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from studio.core.atomic import atomic_path
from studio.core.errors import CheckpointError, StudioError

RUN_FILE = "run.safetensors"
META_KEY = "gan-studio-run"
RUN_FORMAT_VERSION = 1
_MAX_HEADER = 64 * 1024 * 1024
# files that runs of GAN Studio before the shared Trainer left behind
_LEGACY = ("checkpoint.json", "state.json")


class RunFolder:
    """Where a run lives: ``run.safetensors`` plus whatever caches the family keeps beside it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @property
    def state_path(self) -> Path:
        return self.path / RUN_FILE

    def has_state(self) -> bool:
        return self.state_path.is_file()

    def legacy_state(self) -> Path | None:
        """The state file of a run saved by the old per-family loops, if that is what is here."""
        if self.has_state():
            return None
        for name in _LEGACY:
            if (self.path / name).is_file():
                return self.path / name
        return None

    def refuse_legacy(self) -> None:
        old = self.legacy_state()
        if old is not None:
            raise StudioError(
                f"{self.path} holds a run saved by an older GAN Studio ({old.name}); this version keeps runs "
                f"in one file ({RUN_FILE}) and cannot continue it. Its exported model is still usable: "
                "fine-tune or evaluate that, or finish this run with GAN Studio 0.1 (git commit 5640abe) "
                "and start new runs in a fresh --run-dir."
            )

    def clean_temp_files(self) -> int:
        """Remove temp files of saves that a kill interrupted (they are never a valid state)."""
        removed = 0
        if self.path.is_dir():
            for tmp in self.path.glob(f".{RUN_FILE}.*.tmp"):
                try:
                    tmp.unlink()
                    removed += 1
                except OSError:
                    pass
        return removed

    def save(self, tensors: Mapping[str, torch.Tensor], meta: Mapping[str, Any]) -> Path:
        """Write the whole state atomically (temp file, fsync, rename)."""
        from safetensors.torch import save_file

        flat = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
        text = json.dumps({**meta, "format_version": RUN_FORMAT_VERSION}, allow_nan=False)
        try:
            with atomic_path(self.state_path) as tmp:
                save_file(flat, str(tmp), metadata={META_KEY: text})
        except OSError as exc:
            raise CheckpointError(self.state_path, f"could not save the run state ({exc.strerror or exc})") from exc
        return self.state_path

    def load(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Tensors and metadata of the saved state, validated; every problem is a CheckpointError."""
        from safetensors.torch import load_file

        path = self.state_path
        if not path.is_file():
            raise CheckpointError(path, "no saved run state here (start without --resume)")
        meta = read_run_meta(path)
        try:
            tensors = load_file(str(path))
        except Exception as exc:  # safetensors raises its own error types
            raise CheckpointError(path, f"could not read the run state ({exc})") from exc
        return tensors, meta


def read_run_meta(path: Path) -> dict[str, Any]:
    """The JSON half of a run state, read from the safetensors header without loading tensors."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise CheckpointError(path, "the run state is truncated")
            (n,) = struct.unpack("<Q", head)
            if n > min(_MAX_HEADER, size - 8):
                raise CheckpointError(path, "the run state's header is damaged or the file is truncated")
            header = json.loads(fh.read(n))
    except OSError as exc:
        raise CheckpointError(path, f"could not read the run state ({exc.strerror or exc})") from exc
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(path, "the run state's header is not valid JSON (damaged file?)") from exc
    text = (header.get("__metadata__") or {}).get(META_KEY) if isinstance(header, dict) else None
    if not isinstance(text, str):
        raise CheckpointError(path, "this file is not a GAN Studio run state")
    try:
        meta = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(path, "the run state's metadata is not valid JSON") from exc
    if not isinstance(meta, dict):
        raise CheckpointError(path, "the run state's metadata is not a JSON object")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > RUN_FORMAT_VERSION:
        raise CheckpointError(
            path,
            f"run state format {version!r} is not one this GAN Studio understands "
            f"(up to {RUN_FORMAT_VERSION}); update GAN Studio",
        )
    return meta
