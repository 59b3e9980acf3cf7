"""Stylize a photo: Gatys et al. style transfer by optimising the pixels through VGG-19.

Following the ECE 285 report: content loss on one layer, Gram style loss on several, L-BFGS (Adam as
an option), start from the content image or from noise, and a content-to-style weighting ``ratio``.

The ratio: the report's table uses 1, 1e3, 1e6, 1e9 and its images get *more* stylised as the number
grows (its weighting puts the larger factor on the style term). We keep that meaning so the table's
values behave as printed: ``loss = content + ratio · 1e-3 · style`` on the normalised losses of
:mod:`studio.losses` (each term is relative, ~1 for unrelated images), so ratio 1 keeps the photo
nearly intact, 1e3 only tints it, 1e4 (the default, measured: see DEFAULT_RATIO) paints it visibly
with its subject readable, and 1e5–1e9 are style-dominated. A small TV term keeps the result free of
high-frequency noise.

Resolution: by default the output has the photo's own size, up to AUTO_SIZE_LIMIT (1024 px on the
longer side; ``size`` asks for another, up to 2048). Outputs above TILE_ABOVE (768 px) are optimised in
overlapping 512 px tiles blended without seams (:mod:`studio.core.tiling`), each tile matched to the
same style, so memory stays that of one tile.
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
from studio.core.tiling import tile_count, tiled_apply
from studio.losses.perceptual import GATYS_LOSS, FeatureNetwork, LossConfig, PerceptualLoss, build_loss_network

RATIO_SCALE = 1e-3
_MAX_SIDE = 2048
_MIN_SIDE = 16  # VGG-19 pools four times before conv5_1: a thinner image has no features left there
AUTO_SIZE_LIMIT = 1024  # size 0 = the photo's own longer side, up to this (the documented limit)
TILE_ABOVE = 768  # an output with a longer side above this is optimised in overlapping tiles
TILE, TILE_OVERLAP = 512, 64  # tile size and overlap (px): VGG-19 + L-BFGS memory stays bounded
# the default ratio, measured by scripts/stylize_ratio_sweep.py (Mona Lisa x Van Gogh, 128 px, 30 L-BFGS
# steps; final content / style loss): 1e3 0.15 / 0.32 barely tints the photo, 1e4 0.66 / 0.080 is clearly
# painted with the face still readable, 1e5-1e7 1.1-1.2 / 0.061-0.064 are style-dominated and alike
DEFAULT_RATIO = 1e4


@dataclass
class StylizeConfig:
    """Settings of one stylisation (written into the PNG's metadata)."""

    ratio: float = DEFAULT_RATIO
    optimizer: str = "lbfgs"  # 'lbfgs' (Gatys) or 'adam'
    init: str = "content"  # 'content' or 'noise'
    size: int = 0  # the output's longer side, px; 0 = the photo's own, up to AUTO_SIZE_LIMIT
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
            (self.size == 0 or 16 <= self.size <= _MAX_SIDE, f"size must be 16–{_MAX_SIDE} px (or 0: the photo's)"),
            (self.steps >= 1, "steps must be at least 1"),
            (self.lr > 0, "lr must be positive"),
            (0.1 <= self.style_scale <= 4, "style scale must be 0.1–4"),
        ]
        for ok, msg in checks:
            if not ok:
                raise StudioError(f"stylize settings: {msg}")

    def output_side(self, photo_size: tuple[int, int]) -> int:
        """The output's longer side for a photo of ``photo_size``: ``size``, or the photo's own up to
        AUTO_SIZE_LIMIT (never below the loss network's minimum)."""
        if self.size:
            return self.size
        return max(_MIN_SIDE, min(max(photo_size), AUTO_SIZE_LIMIT))

    @property
    def style_weight(self) -> float:
        return self.ratio * RATIO_SCALE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StylizeConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _load(path: str | Path, longer_side: int | None, scale_down: bool = False, image: Any = None) -> torch.Tensor:
    """A user image as [1,3,H,W] in [0,1] with its longer side = ``longer_side`` (None: as it is; any
    mode). A picture over the loader's pixel limit is refused, or decoded scaled down with ``scale_down``
    (the window asks the user first). ``image``: the picture already opened from ``path``."""
    from PIL import Image

    img = image if image is not None else load_image(path, scale_down=scale_down)
    w, h = img.size
    if longer_side is None:
        return pil_to_tensor(img).unsqueeze(0)
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


class _TileReporter:
    """Reports a tile's steps as part of the whole run (tile k of n: steps k·S+1 … (k+1)·S of n·S)."""

    def __init__(self, reporter: Reporter, index: int, count: int):
        self.reporter, self.index, self.count = reporter, index, count

    def check(self) -> None:
        self.reporter.check()

    def report(self, step: int, total: int, **kw: Any) -> None:
        self.reporter.report(self.index * total + step, self.count * total, **kw)

    def message(self, text: str) -> None:
        self.reporter.message(text)


def stylize_tiled(
    content: torch.Tensor,
    style: torch.Tensor,
    config: StylizeConfig,
    network: FeatureNetwork,
    reporter: Reporter | None = None,
    tile: int | None = None,
    overlap: int | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """:func:`stylize` in overlapping tiles blended without seams (the translators' tiling), every tile
    matching the same style Grams: memory stays that of one tile whatever the photo's size. A Cancel
    keeps the finished tiles and the best of the current one (the rest stay the photo); the
    JobCancelled carries that image as ``exc.image``."""
    tile = TILE if tile is None else tile
    overlap = TILE_OVERLAP if overlap is None else overlap
    h, w = content.shape[2:]
    count = tile_count(h, w, tile, overlap)
    done = [0]
    stopped: list[JobCancelled] = []
    losses: list[dict[str, float]] = []

    def one(piece: torch.Tensor) -> torch.Tensor:
        if stopped:
            return piece.cpu()
        sub = _TileReporter(reporter, done[0], count) if reporter is not None else None
        try:
            out, last = stylize(piece, style, config, network, sub)  # type: ignore[arg-type]
        except JobCancelled as exc:
            stopped.append(exc)
            return getattr(exc, "image", piece).cpu()
        done[0] += 1
        losses.append(last)
        return out.cpu()

    image = tiled_apply(one, content, tile, overlap).clamp(0, 1).to(content.device)
    if stopped:
        exc = stopped[0]
        exc.image = image  # type: ignore[attr-defined]
        exc.steps = done[0] * config.steps + getattr(exc, "steps", 0)  # type: ignore[attr-defined]
        raise exc
    mean = {k: sum(d[k] for d in losses) / len(losses) for k in losses[0]} if losses else {}
    return image, mean


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
        scale_down: bool = False,
    ):
        self.scale_down = scale_down  # open pictures over 100 MP scaled down (the user agreed in the window)
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
        photo = load_image(self.content, scale_down=self.scale_down)
        side = cfg.output_side(photo.size)
        content = _load(self.content, side, image=photo).to(device)
        style = _load(self.style, max(16, round(side * cfg.style_scale)), self.scale_down).to(device)
        net = self.loss_network or build_loss_network(cfg.loss, device)
        t0 = time.perf_counter()
        try:
            if side > TILE_ABOVE:
                image, last = stylize_tiled(content, style, cfg, net, reporter)
            else:
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
