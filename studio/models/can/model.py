"""A loaded CAN: renders states, and answers the style questions the studio's style meter asks.

Qt-free API for the UI (and scripts): ``style_posterior`` (D's probabilities over the K styles),
``ambiguity`` (their entropy: the "creativity" score), ``nearest_training_images`` (is it new, or
copied?), ``steer`` (gradient steps on z through the style head, returned as an ordinary state whose
``z_edits`` hold the new code, so it is undoable like any edit) and ``sample_sorted`` (many samples,
most ambiguous or most typical first).

Nearest training images: the checkpoint stores a small balanced sample of training images
(``index.images``/``index.labels``, written by the training job); their features in the style head's
hidden layer are computed on first use. ``use_folder_index(DIR)`` replaces that sample by every image
of a style folder when the full data is at hand.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from studio.core.checkpoint import ModelCard
from studio.core.errors import StudioError
from studio.core.family import LatentModel, normalise_state
from studio.core.fastnet import net_pixels

from .config import CANConfig
from .losses import entropy
from .networks import CANDiscriminator, CANGenerator


class CANModel(LatentModel):
    render_networks = ("g", "d")  # run by studio.core.fastnet in the window (bf16, frozen)

    def __init__(
        self,
        card: ModelCard,
        device: torch.device,
        generator: CANGenerator,
        discriminator: CANDiscriminator,
        index_images: torch.Tensor | None = None,
        index_labels: torch.Tensor | None = None,
        pca: tuple[torch.Tensor, torch.Tensor] | None = None,
    ):
        super().__init__(card, device)
        self.config = CANConfig.from_dict(card.config)
        self.latent_dim = self.config.latent_dim
        self.g = generator.to(device).eval()
        self.d = discriminator.to(device).eval()
        self.styles: list[str] = list(
            card.labels.get("styles") or [f"style {i}" for i in range(self.config.num_styles)]
        )
        if len(self.styles) != self.config.num_styles:
            raise StudioError(
                f"{card.name}: the card lists {len(self.styles)} styles but the network has {self.config.num_styles}"
            )
        self.index_images = index_images  # [M,3,S,S] uint8
        self.index_labels = index_labels
        self._index_features: torch.Tensor | None = None
        if pca is not None:
            self.pca_directions, self.pca_stds = pca

    # -- rendering ----------------------------------------------------------------------------------
    @torch.no_grad()
    def render(self, states: Sequence[Mapping[str, Any]]) -> torch.Tensor:
        if not states:
            return torch.zeros(0, 3, self.image_size, self.image_size)
        z = self.latents_for(states).to(self.device)
        return self.g(z).float().cpu()

    def render_pixels(self, states: Sequence[Mapping[str, Any]]) -> np.ndarray:
        if not states:
            return super().render_pixels(states)
        return net_pixels(self.g, self.latents_for(states).to(self.device))  # the generator maps to [0, 1]

    def inversion_space(self, state: Mapping[str, Any]) -> Any:
        """GAN inversion (studio.models.invert): z through the generator (already in [0, 1])."""
        from studio.core.inversion import latent_space

        return latent_space(self, lambda z: self.g(z).float(), state)

    # -- style meter --------------------------------------------------------------------------------
    @torch.no_grad()
    def style_logits_for(self, states: Sequence[Mapping[str, Any]]) -> torch.Tensor:
        out = []
        for i in range(0, len(states), 128):
            z = self.latents_for(states[i : i + 128]).to(self.device)
            out.append(self.d.style_logits(self.g(z)).float().cpu())
        return torch.cat(out) if out else torch.zeros(0, len(self.styles))

    def style_posterior(self, state: Mapping[str, Any]) -> np.ndarray:
        """D's probabilities over the K styles for the state's image (sums to 1)."""
        return F.softmax(self.style_logits_for([state]), dim=1)[0].numpy()

    def style_posteriors(self, states: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return F.softmax(self.style_logits_for(states), dim=1).numpy()

    def ambiguity(self, state: Mapping[str, Any]) -> float:
        """Entropy (nats) of the style posterior: 0 = clearly one style, log K = no style at all."""
        return float(entropy(self.style_logits_for([state]))[0])

    def ambiguities(self, states: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return entropy(self.style_logits_for(states)).numpy()

    @property
    def max_ambiguity(self) -> float:
        return math.log(len(self.styles))

    def posterior_of_images(self, images: torch.Tensor) -> np.ndarray:
        """Style posterior of arbitrary [N,3,S,S] images in [0,1] (e.g. a user's picture)."""
        with torch.no_grad():
            x = images.to(self.device).float()
            if x.shape[-1] != self.image_size:
                x = F.interpolate(x, size=(self.image_size, self.image_size), mode="area")
            return F.softmax(self.d.style_logits(x), dim=1).cpu().numpy()

    # -- nearest training images --------------------------------------------------------------------
    @property
    def has_index(self) -> bool:
        return self.index_images is not None and self.index_images.shape[0] > 0

    @torch.no_grad()
    def _features(self, images01: torch.Tensor) -> torch.Tensor:
        out = []
        for i in range(0, images01.shape[0], 256):
            f = self.d.style_features(images01[i : i + 256].to(self.device).float()).float().cpu()
            out.append(F.normalize(f, dim=1))
        return torch.cat(out)

    def use_folder_index(self, folder: str | Path, max_per_style: int = 0) -> int:
        """Index every image of a style folder (same layout as training data); returns the image count."""
        from .data import load_style_folder

        data = load_style_folder(folder, self.image_size, holdout=0.0, max_per_style=max_per_style)
        missing = [s for s in data.styles if s not in self.styles]
        if missing:
            raise StudioError(f"{folder}: styles {missing} are not styles of this model ({self.styles})")
        self.index_images = data.images
        self.index_labels = torch.tensor([self.styles.index(data.styles[int(k)]) for k in data.labels])
        self._index_features = None
        return int(data.images.shape[0])

    def nearest_training_images(self, state: Mapping[str, Any], k: int = 5) -> list[dict[str, Any]]:
        """The k training images closest to the state's image in the style head's feature space.

        Each item: {"image": HxWx3 uint8, "style": name, "distance": cosine distance (0 = same features)}.
        """
        images, labels = self.index_images, self.index_labels
        if images is None or labels is None or images.shape[0] == 0:
            raise StudioError(
                f"{self.card.name}: this model stores no training-image index; call "
                "use_folder_index(DATA_DIR) with its training data folder"
            )
        if self._index_features is None:
            self._index_features = self._features(images.float() / 255.0)
        q = self._features(self.render([state]))
        dist = 1.0 - (self._index_features @ q[0])
        order = torch.argsort(dist)[:k]
        out = []
        for i in order.tolist():
            img = images[i].permute(1, 2, 0).contiguous().numpy()
            out.append({"image": img, "style": self.styles[int(labels[i])], "distance": float(dist[i])})
        return out

    # -- steering -----------------------------------------------------------------------------------
    def _offsets(self, state: dict[str, Any]) -> torch.Tensor:
        """What directions and variation add on top of the seed code (before truncation)."""
        plain = copy.deepcopy(state)
        plain["truncation"] = 1.0
        full = self.latent_for(plain)
        plain["directions"] = {}
        plain.pop("variation", None)
        return full - self.latent_for(plain)

    def steer(
        self, state: Mapping[str, Any], style_index: int, amount: float = 1.0, towards: bool = True, steps: int = 8
    ) -> dict[str, Any]:
        """Move the latent code towards (or away from) one style by gradient steps through the style head.

        ``amount`` scales the distance travelled (each of ``steps`` normalised-gradient steps moves z by
        0.25·amount in L2). The result is the same state with every raw latent dimension set in
        ``z_edits``, so it renders the steered code, exports and undoes like any other edit.
        """
        if not 0 <= int(style_index) < len(self.styles):
            raise StudioError(
                f"style {style_index} does not exist (this model has {len(self.styles)} styles: "
                f"{', '.join(self.styles)})"
            )
        s = normalise_state(state)
        psi = float(s["truncation"])
        if abs(psi) < 1e-6:
            raise StudioError("steering has no effect at truncation 0 (every code is the average); raise it first")
        z = self.latent_for(s).to(self.device).clone().requires_grad_(True)
        sign = 1.0 if towards else -1.0
        step_len = 0.25 * float(amount)
        for _ in range(max(1, int(steps))):
            logp = F.log_softmax(self.d.style_logits(self.g(z.unsqueeze(0))), dim=1)[0, int(style_index)]
            (grad,) = torch.autograd.grad(sign * logp, z)
            with torch.no_grad():
                z += step_len * grad / grad.norm().clamp_min(1e-12)
        new_base = z.detach().cpu() / psi - self._offsets(s)
        s["z_edits"] = {str(i): round(float(v), 5) for i, v in enumerate(new_base)}
        return s

    # -- many samples, sorted -----------------------------------------------------------------------
    def sample_sorted(
        self,
        n: int,
        by: str = "ambiguity",
        pool: int = 0,
        seed: int = 0,
        model_id: str | None = None,
        truncation: float = 1.0,
    ) -> list[dict[str, Any]]:
        """Draw ``pool`` (default 4n) random seeds and return the n most ambiguous (``by='ambiguity'``)
        or most typical (``by='typicality'``: lowest entropy) states, best first."""
        if by not in ("ambiguity", "typicality"):
            raise StudioError(f"sort by 'ambiguity' or 'typicality', not {by!r}")
        n = max(0, int(n))
        pool = max(n, int(pool) if pool else 4 * n)
        gen = np.random.default_rng(seed)
        seeds = gen.choice(2**31 - 1, size=pool, replace=False)
        mid = model_id if model_id is not None else self.card.name
        states = []
        for sd in seeds:
            st = self.default_state(mid, int(sd))
            st["truncation"] = float(truncation)
            states.append(st)
        scores = self.ambiguities(states)
        order = np.argsort(-scores if by == "ambiguity" else scores, kind="stable")[:n]
        return [states[i] for i in order]
