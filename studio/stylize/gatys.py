"""Stylize a photo: Gatys et al. style transfer by optimising the pixels through VGG-19.

Following the ECE 285 report: content loss on one layer, Gram style loss on several, L-BFGS (Adam as
an option), start from the content image or from noise, and a content-to-style weighting ``ratio``.

The ratio: the report's table uses 1, 1e3, 1e6, 1e9 and its images get *more* stylised as the number
grows (its weighting puts the larger factor on the style term). We keep that meaning so the table's
values behave as printed: ``loss = content + ratio · 1e-3 · style`` on the normalised losses of
:mod:`studio.losses` (each term is relative, ~1 for unrelated images), so ratio 1 keeps the photo
nearly intact, 1e3 gives a balanced stylisation, and 1e6–1e9 are style-dominated. A small TV term
keeps the result free of high-frequency noise.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.core.device import resolve_device
from studio.core.errors import ImageLoadError, JobCancelled, StudioError
from studio.core.export import image_format, save_result
from studio.core.grid import to_uint8
from studio.core.images import load_image, pil_to_tensor
from studio.core.jobs import Reporter, cancelled_with
from studio.losses.perceptual import GATYS_LOSS, FeatureNetwork, LossConfig, PerceptualLoss, build_loss_network

RATIO_SCALE = 1e-3
_MAX_SIDE = 2048
_MIN_SIDE = 16  # VGG-19 pools four times before conv5_1: a thinner image has no features left there


@dataclass
class StylizeConfig:
    """Settings of one stylisation (written into the PNG's metadata)."""

    ratio: float = 1e3
    optimizer: str = "lbfgs"  # 'lbfgs' (Gatys) or 'adam'
    init: str = "content"  # 'content' or 'noise'
    size: int = 256  # the output's longer side, px
    steps: int = 100
    lr: float = 0.02  # Adam only (pixels in [0,1]); L-BFGS uses lr 1 with a strong-Wolfe line search
    tv_weight: float = 1.0
    style_scale: float = 1.0  # style image's size relative to the output (texture scale)
    seed: int = 0
    preview_every: int = 5
    loss: LossConfig = field(default_factory=lambda: GATYS_LOSS)

    def __post_init__(self) -> None:
        if isinstance(self.loss, Mapping):
            self.loss = LossConfig.from_dict(self.loss)
        checks = [
            (self.ratio > 0, "ratio must be positive"),
            (self.optimizer in ("lbfgs", "adam"), "optimizer must be 'lbfgs' or 'adam'"),
            (self.init in ("content", "noise"), "init must be 'content' or 'noise'"),
            (16 <= self.size <= _MAX_SIDE, f"size must be 16–{_MAX_SIDE} px"),
            (self.steps >= 1, "steps must be at least 1"),
            (self.lr > 0, "lr must be positive"),
            (0.1 <= self.style_scale <= 4, "style scale must be 0.1–4"),
        ]
        for ok, msg in checks:
            if not ok:
                raise StudioError(f"stylize settings: {msg}")

    @property
    def style_weight(self) -> float:
        return self.ratio * RATIO_SCALE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StylizeConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _load(path: str | Path, longer_side: int) -> torch.Tensor:
    """A user image as [1,3,H,W] in [0,1] with its longer side = ``longer_side`` (any mode, any size)."""
    from PIL import Image

    img = load_image(path)
    w, h = img.size
    scale = longer_side / max(w, h)
    if min(w, h) * scale < _MIN_SIDE:
        raise ImageLoadError(
            path,
            f"a {w}×{h} px image is too thin to stylize: at {longer_side} px its shorter side would be "
            f"{min(w, h) * scale:.0f} px, and the loss network needs at least {_MIN_SIDE} "
            "(crop it closer to square or raise --size)",
        )
    img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)
    return pil_to_tensor(img).unsqueeze(0)


def stylize(
    content: torch.Tensor,
    style: torch.Tensor,
    config: StylizeConfig,
    network: FeatureNetwork,
    reporter: Reporter | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Optimise an image to have ``content``'s features and ``style``'s Grams. Returns (image, last losses).

    ``content`` and ``style`` are [1,3,H,W] in [0,1] on the network's device. When the reporter raises
    JobCancelled, the exception carries the best image so far as ``exc.image``.
    """
    cfg = config
    loss = PerceptualLoss(network, cfg.loss)
    loss.set_style(style)
    target = loss.content_target(content)
    gen = torch.Generator().manual_seed(cfg.seed)
    if cfg.init == "content":
        start = content.clone()
    else:
        start = torch.rand(content.shape, generator=gen).to(content.device) * 0.2 + 0.4
    x = start.clone().requires_grad_(True)
    sw = cfg.style_weight
    last: dict[str, float] = {}
    best: tuple[float, torch.Tensor, dict[str, float]] = (float("inf"), x.detach().clone(), {})

    def objective() -> tuple[torch.Tensor, dict[str, float]]:
        terms = loss(x, target)
        total = terms.content + sw * terms.style + cfg.tv_weight * terms.tv
        return total, dict(
            total=float(total.detach()),
            content=float(terms.content.detach()),
            style=float(terms.style.detach()),
            tv=float(terms.tv.detach()),
        )

    if cfg.optimizer == "lbfgs":
        opt: torch.optim.Optimizer = torch.optim.LBFGS(
            [x], lr=1.0, max_iter=1, history_size=20, line_search_fn="strong_wolfe"
        )
    else:
        opt = torch.optim.Adam([x], lr=cfg.lr)

    evaluations = [0]

    def closure() -> torch.Tensor:
        if reporter is not None:
            reporter.check()
        with torch.no_grad():  # keep every evaluated point a valid image (as the PyTorch tutorial does)
            x.clamp_(0, 1)
        opt.zero_grad(set_to_none=True)
        total, values = objective()
        if evaluations[0] == 0:  # the loss at the start of this step: the current image
            last.clear()
            last.update(values)
        evaluations[0] += 1
        total.backward()
        return total

    try:
        for step in range(1, cfg.steps + 1):
            evaluations[0] = 0
            before = x.detach().clone()
            opt.step(closure)  # type: ignore[arg-type]  # torch types closures as -> float; a loss tensor works
            with torch.no_grad():
                x.clamp_(0, 1)
            if last.get("total", float("inf")) < best[0]:  # 'last' scored the image we started from
                best = (last["total"], before, dict(last))
            if reporter is not None:
                preview = None
                if step % max(1, cfg.preview_every) == 0 or step == cfg.steps or step == 1:
                    preview = to_uint8(x.detach())[0]
                reporter.report(step, cfg.steps, losses=dict(last), preview=preview)
    except JobCancelled as exc:
        exc.image = best[1]  # type: ignore[attr-defined]
        exc.steps = step  # type: ignore[attr-defined]
        raise
    with torch.no_grad():
        final, values = objective()
    if float(final) > best[0]:  # L-BFGS can overshoot on its last step: keep the best image seen
        return best[1].clamp(0, 1), best[2]
    return x.detach().clamp(0, 1), values


class StylizeJob:
    """Content photo + style image -> stylised PNG (with settings in its metadata), as a studio job."""

    def __init__(
        self,
        content: str | Path,
        style: str | Path,
        out: str | Path,
        config: StylizeConfig | None = None,
        device: str | torch.device = "auto",
        loss_network: FeatureNetwork | None = None,
        save_on_cancel: bool = True,
    ):
        self.content = Path(content)
        self.style = Path(style)
        self.out = Path(out)
        self.config = config or StylizeConfig()
        self.device_name = device
        self.loss_network = loss_network
        self.save_on_cancel = save_on_cancel
        self.title = f"Stylize {self.content.name} like {self.style.name}"
        image_format(self.out)  # .png, .jpg/.jpeg or .webp (the settings go in its metadata); else a StudioError

    def run(self, reporter: Reporter) -> dict[str, Any]:
        cfg = self.config
        device = resolve_device(self.device_name)
        reporter.message("loading images and the loss network…")
        content = _load(self.content, cfg.size).to(device)
        style = _load(self.style, max(16, round(cfg.size * cfg.style_scale))).to(device)
        net = self.loss_network or build_loss_network(cfg.loss, device)
        t0 = time.perf_counter()
        try:
            image, last = stylize(content, style, cfg, net, reporter)
        except JobCancelled as exc:
            steps = getattr(exc, "steps", 0)
            if self.save_on_cancel and steps > 0:
                path = self._save(exc.image, steps, time.perf_counter() - t0, {})  # type: ignore[attr-defined]
                raise cancelled_with({"image": str(path), "steps": steps}) from exc
            raise
        path = self._save(image, cfg.steps, time.perf_counter() - t0, last)
        return {"image": str(path), "steps": cfg.steps, **{f"{k}_loss": v for k, v in last.items()}}

    def _save(self, image: torch.Tensor, steps: int, wall: float, last: Mapping[str, float]) -> Path:
        meta = {
            "kind": "stylize",
            "method": "gatys",
            "content": self.content.name,
            "style": self.style.name,
            "settings": self.config.to_dict(),
            "steps": int(steps),
            "wall_time_s": round(wall, 2),
            "losses": dict(last),
        }
        pixels = to_uint8(image.cpu())[0]
        # a result that took minutes is never lost: a failed write keeps it in $STUDIO_HOME/recovered
        return save_result(self.out, np.ascontiguousarray(pixels), state=meta)
