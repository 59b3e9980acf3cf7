"""A loaded GADN, ready to render (Qt-free).

State mapping:
  seed                     -> a content code drawn from the training set's content Gaussian
  state["content"]         -> an explicit content code (from an encoded image), overrides the seed
  directions {"pcI": v}    -> move the content v standard deviations along its I-th principal axis
  truncation               -> pull the content towards the mean content
  labels {"artist", "artist2"}, scalars {"blend"} -> style = (1-blend)·S(artist) + blend·S(artist2)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.core.checkpoint import ModelCard, load_module_tensors
from studio.core.direction_edits import state_offset
from studio.core.errors import CheckpointError, StudioError
from studio.core.family import Control, LoadedModel, normalise_state
from studio.core.fastnet import net_pixels
from studio.core.latents import seed_to_z

from .config import GADNConfig
from .networks import Classifier, Encoder, Generator, StyleTable

MAX_DIRECTIONS = 12


class GADNModel(LoadedModel):
    render_networks = ("G",)  # run by studio.core.fastnet in the window (bf16, frozen)
    label_blend = ("artist", "artist2", "blend")  # crossbreeding blends two artists (studio.core.breed)

    def __init__(self, card: ModelCard, cfg: GADNConfig, tensors: Mapping[str, torch.Tensor], device: torch.device):
        super().__init__(card, device)
        self.cfg = cfg
        self.artists: list[str] = list(card.labels.get("artists") or [])
        path = card.name + ".safetensors"
        self.E, self.G, self.S = Encoder(cfg), Generator(cfg), StyleTable(cfg)
        load_module_tensors("E", self.E, tensors, path)
        load_module_tensors("G", self.G, tensors, path)
        load_module_tensors("S", self.S, tensors, path)
        self.C2: Classifier | None = None
        if any(k.startswith("C2.") for k in tensors):
            self.C2 = Classifier(cfg)
            load_module_tensors("C2", self.C2, tensors, path)
        for net in (self.E, self.G, self.S, self.C2):
            if net is not None:
                net.to(device).eval().requires_grad_(False)
        D = cfg.content_dim
        mean = tensors.get("content.mean")
        axes = tensors.get("content.axes")
        var = tensors.get("content.variances")
        if mean is None or axes is None or var is None:  # a model saved before its statistics: N(0, I)
            mean, axes, var = torch.zeros(D), torch.eye(D), torch.ones(D)
            self.has_statistics = False
        else:
            self.has_statistics = True
        if mean.shape != (D,) or axes.shape != (D, D) or var.shape != (D,):
            raise CheckpointError(path, "the content statistics do not match the content size in the card")
        self.content_mean = mean.float().cpu()
        self.content_axes = axes.float().cpu()  # rows: principal axes, largest variance first
        self.content_stds = var.float().clamp_min(0).sqrt().cpu()

    # ----------------------------------------------------------------------------------- controls
    def controls(self) -> list[Control]:
        artists = tuple(self.artists)
        ctl = [
            Control(
                "seed",
                "seed",
                "Content seed",
                0,
                2**31 - 1,
                0,
                help="sample new content from the training set's content distribution",
            ),
            Control(
                "choice", "artist", "Artist", default=artists[0], options=artists, help="whose style draws the content"
            ),
            Control(
                "choice",
                "artist2",
                "Blend with",
                default=artists[min(1, len(artists) - 1)],
                options=artists,
                help="second artist for blending style codes",
            ),
            Control("scalar", "blend", "Blend", 0.0, 1.0, 0.0, help="0 = the first artist's style, 1 = the second's"),
            Control(
                "scalar", "truncation", "Truncation", 0.0, 1.5, 1.0, help="pull the content towards the average content"
            ),
        ]
        if self.has_statistics:
            for i in range(min(MAX_DIRECTIONS, self.cfg.content_dim)):
                ctl.append(
                    Control(
                        "direction",
                        f"pc{i}",
                        f"Content axis {i + 1}",
                        -3.0,
                        3.0,
                        0.0,
                        help="principal axis of the training set's content codes",
                    )
                )
        return ctl

    def default_state(self, model_id: str, seed: int = 0) -> dict[str, Any]:
        state = super().default_state(model_id, seed)
        state["scalars"].pop("truncation", None)
        return state

    # ----------------------------------------------------------------------------------- codes
    def artist_index(self, name: str) -> int:
        if name in self.artists:
            return self.artists.index(name)
        low = {a.lower(): i for i, a in enumerate(self.artists)}
        if str(name).lower() in low:
            return low[str(name).lower()]
        raise StudioError(f"unknown artist '{name}' (this model knows: {', '.join(self.artists)})")

    def sample_content(self, seed: int) -> torch.Tensor:
        """A [D] content code from the training set's content Gaussian (mean + axes·std·n)."""
        n = seed_to_z(seed, self.cfg.content_dim)[0]
        return self.content_mean + (n * self.content_stds) @ self.content_axes

    def content_for(self, state: Mapping[str, Any]) -> torch.Tensor:
        s = normalise_state(state)
        explicit = s.get("content")
        if isinstance(explicit, (list, tuple)) and len(explicit) == self.cfg.content_dim:
            try:
                c = torch.tensor([float(v) for v in explicit])
            except (TypeError, ValueError):
                c = self.sample_content(s["seed"])
        else:
            c = self.sample_content(s["seed"])
        var = s.get("variation")
        if isinstance(var, Mapping):
            n = seed_to_z(int(var.get("seed", 0)), self.cfg.content_dim)[0]
            c = c + float(var.get("spread", 0.5)) * (n * self.content_stds) @ self.content_axes
        for key, value in s["directions"].items():
            if isinstance(key, str) and key.startswith("pc") and key[2:].isdigit():
                i = int(key[2:])
                if i < self.cfg.content_dim:
                    try:
                        c = c + float(value) * self.content_stds[i] * self.content_axes[i]
                    except (TypeError, ValueError):
                        pass
        offset = state_offset(s, self.cfg.content_dim)  # two-state ("from A to B") directions
        if offset is not None:
            c = c + offset
        return self.content_mean + float(s["truncation"]) * (c - self.content_mean)

    def style_for(self, state: Mapping[str, Any]) -> torch.Tensor:
        """Style code: the artist's learned mean, optionally blended with a second artist's."""
        s = normalise_state(state)
        a = self.artist_index(s["labels"].get("artist", self.artists[0]))
        style = self.S.mean[a].detach().cpu()
        try:
            blend = float(s["scalars"].get("blend", 0.0))
        except (TypeError, ValueError):
            blend = 0.0
        if blend:
            b = self.artist_index(s["labels"].get("artist2", self.artists[a]))
            style = (1 - blend) * style + blend * self.S.mean[b].detach().cpu()
        return style

    @torch.no_grad()
    def generate(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """[N, D] content + [N, S] style -> [N, 3, H, W] in [0, 1] on the CPU."""
        out = self.G(content.to(self.device, torch.float32), style.to(self.device, torch.float32))
        return ((out + 1) / 2).clamp(0, 1).cpu()

    def codes_for(self, states: Sequence[Mapping[str, Any]]) -> tuple[torch.Tensor, torch.Tensor]:
        """The states' content [N, D] and style [N, S] codes, on the CPU."""
        return torch.stack([self.content_for(s) for s in states]), torch.stack([self.style_for(s) for s in states])

    def render(self, states: Sequence[Mapping[str, Any]]) -> torch.Tensor:
        if not states:
            return torch.zeros(0, 3, self.image_size, self.image_size)
        return self.generate(*self.codes_for(states))

    def render_pixels(self, states: Sequence[Mapping[str, Any]]) -> np.ndarray:
        if not states:
            return super().render_pixels(states)
        content, style = (c.to(self.device, torch.float32) for c in self.codes_for(states))
        return net_pixels(self.G, content, style, scale=0.5, shift=0.5)

    def inversion_space(self, state: Mapping[str, Any]) -> Any:
        """GAN inversion (studio.models.invert) of the content code under the state's style; E's code of
        the image is one of the starts. The result keeps the artist and blend, with ``content`` set."""
        from .inversion import gadn_space

        return gadn_space(self, state)

    # ----------------------------------------------------------------------------------- grids
    def content_grid(self, state: Mapping[str, Any], artists: Sequence[str] | None = None) -> torch.Tensor:
        """This content drawn by every artist (or the given ones): [len(artists), 3, H, W]."""
        names = list(artists) if artists else list(self.artists)
        states = []
        for name in names:
            s = normalise_state(state)
            s["labels"]["artist"] = name
            s["scalars"]["blend"] = 0.0
            states.append(s)
        return self.render(states)

    def artist_grid(self, artist: str, n: int, first_seed: int = 0) -> torch.Tensor:
        """Many contents (seeds first_seed..first_seed+n-1) in one artist's style: [n, 3, H, W]."""
        self.artist_index(artist)
        states = []
        for i in range(n):
            s = self.default_state(self.card.name, first_seed + i)
            s["labels"]["artist"] = artist
            states.append(s)
        return self.render(states)

    # ----------------------------------------------------------------------------------- images
    def image_tensor(self, image: str | Path | Any) -> torch.Tensor:
        """A user image (path or PIL image) as [1, 3, H, W] in [-1, 1], through the safe loader."""
        from PIL import Image

        from studio.core.images import fit_square, load_image, pil_to_tensor

        img = image if isinstance(image, Image.Image) else load_image(image)
        img = fit_square(img.convert("RGB"), self.image_size)
        return pil_to_tensor(img).unsqueeze(0) * 2 - 1

    @torch.no_grad()
    def encode(self, image: str | Path | Any) -> torch.Tensor:
        """Content code [D] of any image (the mean of E's distribution)."""
        return self.E(self.image_tensor(image).to(self.device))[0][0].cpu()

    def transfer(
        self, image: str | Path | Any, artist: str, blend_with: str | None = None, blend: float = 0.0
    ) -> torch.Tensor:
        """Redraw an image's content in an artist's style: [3, H, W] in [0, 1]."""
        state: dict[str, Any] = {"content": self.encode(image).tolist(), "labels": {"artist": artist}, "scalars": {}}
        if blend_with:
            state["labels"]["artist2"] = blend_with
            state["scalars"]["blend"] = float(blend)
        return self.render([state])[0]

    def transfer_state(self, image: str | Path | Any, artist: str) -> dict[str, Any]:
        """The canvas state that shows ``image`` redrawn by ``artist`` (content stored explicitly)."""
        state = self.default_state(self.card.name)
        state["content"] = [round(float(v), 6) for v in self.encode(image)]
        state["labels"]["artist"] = artist
        return state

    @torch.no_grad()
    def classify(self, images: torch.Tensor) -> torch.Tensor:
        """C2's artist probabilities for [N, 3, H, W] images in [0, 1] (None-safe: raises if no C2)."""
        if self.C2 is None:
            raise StudioError(f"{self.card.name}: this model has no artist classifier")
        return torch.softmax(self.C2(images.to(self.device) * 2 - 1), 1).cpu()


def to_pixels(images: torch.Tensor) -> np.ndarray:
    from studio.core.grid import to_uint8

    return to_uint8(images)
