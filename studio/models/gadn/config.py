"""Typed architecture and training configs (``dataclasses.asdict`` goes into the model card)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class GADNConfig:
    """Architecture. The paper's table runs 256 px -> 4 px with 32..1024 channels and a 2048-wide FC
    layer; here the number of stride-2/stride-1 block pairs follows ``image_size`` (64 px: 4 pairs)
    and ``width`` scales every channel count so tests can use tiny networks."""

    image_size: int = 64
    num_artists: int = 2
    content_dim: int = 128
    style_dim: int = 64
    base_channels: int = 64  # channels after the first stride-2 block, doubled per level
    max_channels: int = 1024
    fc_features: int = 1024
    width: float = 1.0
    # 0: the paper's content code, a vector through the FC layers. N > 0: the same flat code laid out as
    # a [content_dim / N², N, N] map, taken from E's N×N level and fed into G's N×N level, so where the
    # eyes and mouth are survives the code (a 64 px emoji through a 64-number vector kept its outline
    # only: content identity 0.018; issue 14). The style still enters G through the FC path.
    content_grid: int = 0
    # with a content map: the style also scales and shifts every channel after the merge and after each
    # later block (FiLM, Perez et al. 2018), so it can restyle what the map carries (False: only the FC path)
    style_film: bool = False

    def __post_init__(self) -> None:
        if self.image_size < 8 or self.image_size & (self.image_size - 1):
            raise ValueError(f"image_size must be a power of two >= 8, got {self.image_size}")
        if self.num_artists < 2:
            raise ValueError("GADN needs at least two artists (style labels)")
        g = self.content_grid
        if g:
            if g < 4 or g & (g - 1) or g >= self.image_size:
                raise ValueError(f"content_grid must be 0 or a power of two from 4 to below image_size, got {g}")
            if self.content_dim % (g * g):
                raise ValueError(f"content_dim ({self.content_dim}) must be a multiple of content_grid² ({g * g})")
        elif self.style_film:
            raise ValueError("style_film needs a content map (content_grid > 0)")

    @property
    def content_channels(self) -> int:
        """Channels of the content map (content_grid > 0)."""
        return self.content_dim // (self.content_grid**2) if self.content_grid else 0

    @property
    def grid_level(self) -> int:
        """How many stride-2 levels lead from the image down to the content map (content_grid > 0)."""
        return int(math.log2(self.image_size // self.content_grid)) if self.content_grid else 0

    @property
    def levels(self) -> int:
        return int(math.log2(self.image_size // 4))

    def channels(self) -> list[int]:
        """Output channels of each stride-2/stride-1 level, from full resolution down to 4x4."""
        base = max(4, int(round(self.base_channels * self.width)))
        cap = max(base, int(round(self.max_channels * self.width)))
        return [min(cap, base * 2**i) for i in range(self.levels)]

    @property
    def fc(self) -> int:
        return max(8, int(round(self.fc_features * self.width)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GADNConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class TrainConfig:
    """Loss weights, learning rates and schedule. Defaults are the authors' (stage 1: Adam lr 5e-5,
    style-code lr 5e-3, reconstruction 1, KLs 1e-5, classifier 0.2; stage 2: RMSprop lr 2e-5,
    style-code lr 2e-3, content 0.1, classifier 1, discriminator 1; classifier pre-training batch 16)
    except the step counts, which are sized for a CPU. The stage-1/stage-2 batch (the authors' 8), the
    seed and the preview/checkpoint cadence are the shared Trainer's options (``--batch``...)."""

    steps1: int = 4000
    steps_cls: int = 1000
    steps2: int = 4000
    batch_cls: int = 16
    lr1: float = 5e-5
    lr1_style: float = 5e-3
    lr_cls: float = 5e-5
    lr2: float = 2e-5
    lr2_style: float = 2e-3
    w_rec: float = 1.0
    w_kl_content: float = 1e-5
    w_kl_style: float = 1e-5
    w_cls1: float = 0.2
    w_content2: float = 0.1
    w_cls2: float = 1.0
    w_dis2: float = 1.0
    # E/G/S vs C1 in stage 1: "likelihood" (paper, appendix C.2) maximises C1's -log p(a), i.e. minimises
    # +log p(a); "unlikelihood" minimises -log(1 - p(a)) (the form the paper keeps for stage 2's C2)
    adversary1: str = "likelihood"
    # Not in the paper (issue 14), off by default. Where the data folder draws the same content for two
    # artists (the same file stem, e.g. one emoji by three vendors), stage 1 and 2 also ask G(E(x_a), S(b))
    # to be b's own drawing of it (pixel distance, weight w_paired), and stage 1 asks E to give both
    # drawings the same content code (their squared distance over that of two different contents' codes,
    # so shrinking every code does not help; weight w_paired_code). Why: an unpaired
    # GADN here redrew emoji as soft generic faces (content identity 0.018) or kept the source vendor's
    # look with its content; the pairs say exactly what "same content, other artist" looks like.
    w_paired: float = 0.0
    w_paired_code: float = 0.0
    # this fraction of the contents (file stems, every artist's drawing of them) is left out of training,
    # chosen by a fixed seed, so a transfer can be judged on contents the model never saw (evaluate.py)
    holdout_contents: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
