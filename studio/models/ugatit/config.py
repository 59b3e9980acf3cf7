"""U-GAT-IT's typed configuration (defaults follow Kim et al. and the Kaggle report).

Loss weights: adversarial 1, cycle 10, identity 10, CAM 1000; Adam lr 1e-4, betas (0.5, 0.999),
weight decay 1e-4; lr decays linearly over the second half. ``light`` computes AdaLIN's γ, β from
globally pooled attention features instead of the full flattened feature map (much less memory).
The discriminators' depths shrink for small images: each needs its last map to be at least 2×2.

``discriminator="projected"`` (not in the paper) replaces the four CAM discriminators (global and local
per domain) by one projected discriminator per domain (Sauer et al. 2021, :mod:`studio.models.projected`)
with the hinge loss; the discriminators' CAM terms go with them, the generators' CAM loss (which trains
the attention maps the Translate tool shows) stays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from studio.core.errors import StudioError
from studio.models.diffaugment import parse_policy

DISCRIMINATORS = ("ugatit", "projected")


@dataclass
class UGATITConfig:
    ngf: int = 64
    n_res: int = 4
    ndf: int = 64
    global_layers: int = 7
    local_layers: int = 5
    light: bool = False
    img_size: int = 256  # the training size (non-light AdaLIN FC is built for it)
    adv_weight: float = 1.0
    cycle_weight: float = 10.0
    identity_weight: float = 10.0
    cam_weight: float = 1000.0
    lr: float = 1e-4
    weight_decay: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999
    decay_start: float = 0.5
    augment: str = "none"  # DiffAugment of every image the discriminators see (not in the paper)
    discriminator: str = "ugatit"  # the paper's four CAM discriminators, or "projected" (not in the paper)

    def validate(self) -> UGATITConfig:
        if self.discriminator not in DISCRIMINATORS:
            raise StudioError(
                f"unknown U-GAT-IT discriminator '{self.discriminator}' (use {', '.join(DISCRIMINATORS)})"
            )
        self.augment = ",".join(parse_policy(self.augment)) or "none"  # a bad policy raises a StudioError
        if self.ngf < 1 or self.ndf < 1 or self.n_res < 1:
            raise StudioError("U-GAT-IT ngf, ndf and n_res must be at least 1")
        if self.img_size < 16 or self.img_size % 4:
            raise StudioError(
                f"U-GAT-IT needs an image size that is a multiple of 4 and at least 16 (got {self.img_size})"
            )
        for name, n in (("global", self.global_layers), ("local", self.local_layers)):
            if n < 3:
                raise StudioError(f"the {name} discriminator needs at least 3 layers (got {n})")
            if discriminator_out_size(self.img_size, n) < 2:
                raise StudioError(
                    f"a {n}-layer {name} discriminator is too deep for {self.img_size} px "
                    f"images (at most {max_layers(self.img_size)} layers fit)"
                )
        return self

    @classmethod
    def for_size(cls, size: int, **overrides: Any) -> UGATITConfig:
        """Defaults adapted to ``size``: discriminator depths capped so they fit."""
        values: dict[str, Any] = {"img_size": size}
        values.update({k: v for k, v in overrides.items() if v is not None})
        cap = max_layers(values["img_size"])
        values.setdefault("global_layers", min(7, cap))
        values.setdefault("local_layers", min(5, max(3, cap - 2)))
        return cls.from_dict(values)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UGATITConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise StudioError(f"unknown U-GAT-IT config keys: {', '.join(sorted(unknown))}")
        return cls(**dict(data)).validate()


def discriminator_out_size(size: int, n_layers: int) -> int:
    """Spatial size of the CAM feature map of an n-layer discriminator (reflect pad 1, 4×4 convs)."""
    s = size
    for _ in range(n_layers - 2):  # stride-2 convs
        s = (s + 2 - 4) // 2 + 1
    s = s + 2 - 4 + 1  # the stride-1 conv
    return s


def max_layers(size: int) -> int:
    n = 3
    while discriminator_out_size(size, n + 1) >= 2:
        n += 1
    return n
