"""A small LRU cache of loaded models keyed by (card path, device), so switching back is instant."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import torch

from studio.core.device import resolve_device
from studio.core.family import LoadedModel
from studio.core.fastnet import prepare_for_render
from studio.core.store import load_model


def model_key(path: str | Path) -> str:
    """One key per model whether it was named by its .json card or its .safetensors file. The folder is
    made absolute, the name is kept: a card that is a link is loaded as that link (its tensors next to
    it), and a link to something else (``/dev/zero``) is refused under its own name."""
    p = Path(path)
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix(".json")
    return str(p.parent.resolve() / p.name)


class ModelCache:
    """Thread-safe; loads through :func:`studio.core.store.load_model` (the same call the CLI uses), then
    readies the model for rendering (:func:`studio.core.fastnet.prepare_for_render`: bf16 stand-ins
    where the CPU has native bf16, a warm-up frame). ``precision``: 'auto', 'bf16' or 'fp32' (the
    reference); None reads ``STUDIO_RENDER_PRECISION``."""

    def __init__(
        self,
        capacity: int = 4,
        loader: Callable[[str, torch.device], LoadedModel] | None = None,
        precision: str | None = None,
    ):
        self.capacity = max(1, int(capacity))
        self.precision = precision
        self._loader = loader or (lambda path, device: prepare_for_render(load_model(path, device), self.precision))
        self._items: OrderedDict[tuple[str, str], LoadedModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str | Path, device: str = "auto") -> LoadedModel:
        dev = resolve_device(device)
        key = (model_key(path), str(dev))
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        model = self._loader(key[0], dev)
        with self._lock:
            self._items[key] = model
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return model

    def forget(self, path: str | Path | None = None) -> None:
        """Drop one model (all devices) or everything, e.g. after a checkpoint was re-trained."""
        with self._lock:
            if path is None:
                self._items.clear()
                return
            k = model_key(path)
            for key in [key for key in self._items if key[0] == k]:
                del self._items[key]

    def __len__(self) -> int:
        return len(self._items)
