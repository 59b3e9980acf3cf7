"""The translator the studio loads: which generator translates which way, rendering the stored
validation images, translating any picture at its own size (tiled when large), and the job that does
it with a progress bar."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from studio.core.checkpoint import ModelCard, load_module_tensors
from studio.core.errors import StudioError
from studio.core.family import Control, LoadedModel, normalise_state
from studio.core.fastnet import net_pixels
from studio.core.grid import to_uint8
from studio.core.images import pil_to_tensor
from studio.core.jobs import Reporter

from .data import from_model_range, to_model_range
from .tiling import tiled_apply

DIRECTIONS = ("a2b", "b2a")


class TranslatorModel(LoadedModel):
    """A loaded translator. Not a latent generator: its controls are the direction (a2b/b2a) and a
    choice of stored validation image; ``render`` translates those stored images, and ``translate``
    applies the model to any picture at its own resolution.

    Subclasses set ``self.generators = {"a2b": module, "b2a": module}`` (in eval mode) and may
    override :meth:`forward` (e.g. U-GAT-IT returns attention maps too).
    """

    render_networks: tuple[str, ...] = ("generators",)  # run by studio.core.fastnet in the window (bf16, frozen)

    #: receptive-field radius in px (for the exact-tiling margin); subclasses refine it.
    receptive_radius: int = 16

    def __init__(
        self,
        card: ModelCard,
        device: torch.device,
        generators: Mapping[str, torch.nn.Module],
        validation: Mapping[str, torch.Tensor] | None = None,
    ):
        super().__init__(card, device)
        self.generators = {k: g.to(device).eval() for k, g in generators.items()}
        self.validation = dict(validation or {})  # "a"/"b" -> [N,3,S,S] float [0,1]
        self.domains = list(card.labels.get("domains", ["A", "B"]))[:2] or ["A", "B"]

    # -- what the canvas sees
    def controls(self) -> list[Control]:
        n = max((v.shape[0] for v in self.validation.values()), default=0)
        ctl = [
            Control(
                "choice",
                "direction",
                "Direction",
                default="a2b",
                options=DIRECTIONS,
                # the Translate tool's words, so Controls and the tool read alike (issue 17 item 8)
                option_labels=(f"{self.domains[0]} → {self.domains[-1]}", f"{self.domains[-1]} → {self.domains[0]}"),
                help=f"{self.domains[0]} → {self.domains[-1]} or the reverse",
            )
        ]
        if n:
            ctl.append(
                Control(
                    "seed",
                    "seed",
                    "Validation image",
                    0,
                    max(0, n - 1),
                    0,
                    help="which stored validation image to translate",
                )
            )
        return ctl

    def _sources(self, states: Sequence[Mapping[str, Any]]) -> dict[str, list[tuple[int, torch.Tensor]]]:
        """direction -> (index in ``states``, stored validation image [3,H,W] in [0,1]) per state."""
        todo: dict[str, list[tuple[int, torch.Tensor]]] = {}
        for i, st in enumerate(states):
            s = normalise_state(st)
            direction = s["labels"].get("direction", "a2b")
            if direction not in DIRECTIONS:
                direction = "a2b"
            src = self.validation.get("a" if direction == "a2b" else "b")
            if src is not None and src.shape[0] > 0:
                todo.setdefault(direction, []).append((i, src[int(s["seed"]) % src.shape[0]]))
        return todo

    def render(self, states: Sequence[Mapping[str, Any]]) -> torch.Tensor:
        """One batched forward per direction (a grid is one call, not one per cell)."""
        return self._render_sources(self._sources(states), len(states))

    def _render_sources(self, todo: dict[str, list[tuple[int, torch.Tensor]]], count: int) -> torch.Tensor:
        """[count,3,H,W] in [0,1]: the sources :meth:`_sources` chose, translated per direction."""
        out: torch.Tensor | None = None
        for direction, items in todo.items():
            x = to_model_range(torch.stack([img for _, img in items]).float())
            with torch.no_grad():
                y = from_model_range(self.forward(x.to(self.device), direction).float().cpu())
            if len(items) == count:  # every state in one direction (a frame, a grid): y as it is
                return y
            if out is None:  # in y's layout (channels_last from the fast path), so pixels convert fastest
                out = torch.zeros((count, *y.shape[1:]), dtype=y.dtype).to(memory_format=_layout(y))
            out[torch.tensor([i for i, _ in items])] = y
        return out if out is not None else torch.zeros(count, 3, self.image_size, self.image_size)

    def render_pixels(self, states: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """A frame or grid in one direction goes out as pixels from its render graph
        (:meth:`graph_pixels`); mixed directions, and batches a family has no graph for, render as floats
        first."""
        todo = self._sources(states)
        items = next(iter(todo.values()), [])
        if len(todo) == 1 and len(items) == len(states):
            x = to_model_range(torch.stack([img for _, img in items]).float()).to(self.device)
            pixels = self.graph_pixels(x, next(iter(todo)))
            if pixels is not None:
                return pixels
        return to_uint8(self._render_sources(todo, len(states)))  # the sources chosen once

    def graph_pixels(self, x: torch.Tensor, direction: str) -> np.ndarray | None:
        """The 8-bit pixels of ``x`` [N,3,H,W] in [-1,1] translated in ``direction`` by one render-network
        call, or None where the family's ``forward`` does more than one generator call (attention maps):
        those render as floats. Families with a graph of their own override it (Bayesian CycleGAN)."""
        if type(self).forward is not TranslatorModel.forward:
            return None
        return net_pixels(self.generators[direction], x, scale=0.5, shift=0.5)

    # -- the main API
    def forward(self, x: torch.Tensor, direction: str) -> torch.Tensor:
        """[N,3,H,W] in [-1,1] on the model's device -> translated [N,3,H,W] in [-1,1]."""
        return self.generators[direction](x)

    def translate_tensor(
        self,
        image: torch.Tensor,
        direction: str = "a2b",
        tile: int = 0,
        overlap: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> torch.Tensor:
        """[3,H,W] float [0,1] -> [3,H,W] float [0,1] on the CPU, at the same resolution."""
        if direction not in DIRECTIONS:
            raise StudioError(f"unknown direction '{direction}': use a2b or b2a")
        if image.dim() != 3 or image.shape[0] != 3:
            raise StudioError(f"expected a [3,H,W] image tensor, got {tuple(image.shape)}")
        x = to_model_range(image.float().unsqueeze(0))

        def fn(part: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return self.forward(part.to(self.device), direction).float().cpu()

        if tile and tile > 0:
            ov = overlap if overlap is not None else max(8, min(tile // 4, 4 * self.receptive_radius))
            margin = min(self.receptive_radius, ov // 2)
            y = tiled_apply(fn, x, tile, ov, margin=margin, progress=progress)
        else:
            if progress:
                progress(0, 1)
            y = fn(x)
            if progress:
                progress(1, 1)
        return from_model_range(y[0])

    def translate(
        self,
        image: Image.Image | torch.Tensor,
        direction: str = "a2b",
        tile: int = 0,
        overlap: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> Image.Image | torch.Tensor:
        """Translate a PIL image (-> PIL image) or a [3,H,W] tensor in [0,1] (-> tensor) at its size."""
        if isinstance(image, Image.Image):
            out = self.translate_tensor(pil_to_tensor(image.convert("RGB")), direction, tile, overlap, progress)
            return Image.fromarray(to_uint8(out)[0])
        return self.translate_tensor(image, direction, tile, overlap, progress)


class TranslateImageJob:
    """Translate one image as a job, so the GUI shows a progress bar (one step per tile) and can cancel
    between tiles. Outputs {"image": HxWx3 uint8 ndarray, "direction": ..., "tiles": n}."""

    def __init__(
        self,
        model: TranslatorModel,
        image: Image.Image | torch.Tensor,
        direction: str = "a2b",
        tile: int = 0,
        overlap: int | None = None,
    ):
        self.model, self.image, self.direction = model, image, direction
        self.tile, self.overlap = tile, overlap
        self.title = f"Translate ({direction})"

    def run(self, reporter: Reporter) -> dict[str, Any]:
        count = [0]

        def progress(done: int, total: int) -> None:
            count[0] = total
            reporter.report(done, total, message=f"tile {done}/{total}")

        img = self.image if isinstance(self.image, torch.Tensor) else pil_to_tensor(self.image.convert("RGB"))
        out = self.model.translate_tensor(img, self.direction, self.tile, self.overlap, progress)
        return {"image": to_uint8(out)[0], "direction": self.direction, "tiles": count[0]}


def load_generator_pair(
    build: Callable[[], torch.nn.Module], tensors: Mapping[str, torch.Tensor], card: ModelCard
) -> dict[str, torch.nn.Module]:
    """Both directions' generators ({'a2b': G_ab, 'b2a': G_ba}) built by ``build`` and loaded from a checkpoint."""
    gens = {}
    for direction, prefix in (("a2b", "G_ab"), ("b2a", "G_ba")):
        g = build()
        load_module_tensors(prefix, g, tensors, card.name + ".safetensors")
        gens[direction] = g
    return gens


def validation_tensors(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The stored validation images ("val.a"/"val.b", uint8) as float [0,1]."""
    out = {}
    for d in ("a", "b"):
        t = tensors.get(f"val.{d}")
        if t is not None:
            out[d] = t.float() / 255.0
    return out


def receptive_radius_of(module: torch.nn.Module) -> int:
    """A rough receptive-field radius: half the sum of (kernel-1)*dilation*stride products."""
    radius, scale = 0, 1
    for m in module.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            k = m.kernel_size[0]
            radius += (k - 1) // 2 * m.dilation[0] * scale
            if isinstance(m, torch.nn.Conv2d):
                scale *= m.stride[0]
            else:
                scale = max(1, scale // m.stride[0])
        elif isinstance(m, torch.nn.Upsample):
            factor = m.scale_factor[0] if isinstance(m.scale_factor, tuple) else m.scale_factor
            scale = max(1, int(scale // (factor or 1)))
    return max(1, radius)


def _layout(x: torch.Tensor) -> torch.memory_format:
    return torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format
