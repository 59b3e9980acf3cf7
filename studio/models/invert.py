"""GAN inversion: find the code whose image looks like a given picture (one job for CLI and window).

Why this recipe (Abdal et al. 2019, Karras et al. 2020's projector, on a CPU budget):

1. **A good start.** Many random codes (seeds ``first_seed …``) are scored with the same loss in
   batches, without gradients, and the best is kept; a family with an encoder (GADN's E) adds its guess
   as one more candidate. Optimising from the best of 64 starts beats optimising from one random code.
2. **Loss** = LPIPS-style VGG distance (:class:`studio.losses.distance.VGGDistance`) + ``pixel_weight`` ×
   pixel MSE + ``prior_weight`` × the space's prior (keeps z typical, so the sliders still behave).
3. **Adam** on the code, with the learning rate ramped down over the last quarter.

Progress reports the current and the best loss every step (the best never increases: the result is
the best code seen, not the last) and a preview of the current reconstruction. The result holds the
canvas state of the best code and its quality: ``vgg_distance`` and ``psnr`` (and the same for the
start, so the gain is visible). Cancel keeps the best code found so far (and writes it, with ``out``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.core.errors import JobCancelled, StudioError
from studio.core.inversion import InversionSpace, supports_inversion
from studio.core.jobs import Reporter, cancelled_with

from .job_common import check_output, model_id_of, resolve_model, write_json

OUT_SUFFIXES = (".json", ".png")


def _pixels(images01: torch.Tensor) -> np.ndarray:
    return (images01[0].detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)


def load_target(image: Any, size: int, fit: str = "crop") -> torch.Tensor:
    """A user image (path, PIL image, or a [3, H, W] / [1, 3, H, W] tensor in [0, 1]) as [1, 3, size, size],
    through the safe loader (a bad file is an ImageLoadError naming it)."""
    from PIL import Image

    from studio.core.images import fit_square, load_image, pil_to_tensor

    if isinstance(image, torch.Tensor):
        t = image.float().unsqueeze(0) if image.dim() == 3 else image.float()
        if t.dim() != 4 or t.shape[:2] != (1, 3):
            raise StudioError(f"the target must be one RGB image, not a tensor of shape {tuple(image.shape)}")
        if t.shape[-2:] != (size, size):
            t = torch.nn.functional.interpolate(t, size=(size, size), mode="bilinear", antialias=True)
        return t.clamp(0, 1)
    img = image if isinstance(image, Image.Image) else load_image(image)
    return pil_to_tensor(fit_square(img.convert("RGB"), size, fit)).unsqueeze(0)


class InvertJob:
    """Project an image into a model's latent space; outputs the state that renders it."""

    title = "Find it in the latent space"

    def __init__(
        self,
        model: Any,
        image: Any,
        out: str | Path | None = None,
        force: bool = False,
        steps: int = 150,
        starts: int = 64,
        lr: float = 0.05,
        pixel_weight: float = 1.0,
        prior_weight: float = 0.05,
        first_seed: int = 0,
        fit: str = "crop",
        state: dict[str, Any] | None = None,
        device: str = "auto",
        preview_every: int = 5,
        model_id: str | None = None,
        state_in_outputs: bool = True,
    ) -> None:
        if steps < 0 or starts < 1:
            raise StudioError("inversion needs steps ≥ 0 and at least one start")
        self.model, self.image = model, image
        self.out = check_output(out, force, OUT_SUFFIXES) if out is not None else None
        self.steps, self.starts, self.lr = int(steps), int(starts), float(lr)
        self.pixel_weight, self.prior_weight = float(pixel_weight), float(prior_weight)
        self.first_seed, self.fit, self.state = int(first_seed), fit, state
        self.device, self.preview_every = device, max(1, int(preview_every))
        self.model_id = model_id
        self.state_in_outputs = state_in_outputs  # the CLI writes the state to a file instead of printing it
        self.best_history: list[float] = []  # the best loss after each step (for tests and benches)

    # --------------------------------------------------------------------------------- pieces
    def _space(self, model: Any) -> InversionSpace:
        if not supports_inversion(model):
            name = getattr(getattr(model, "card", None), "name", "this model")
            family = getattr(getattr(model, "card", None), "family", "?")
            raise StudioError(
                f"{name} ({family}) cannot find images in its latent space: its family declares no "
                "inversion space (CSGAN, CAN and GADN models can)"
            )
        mid = model_id_of(self.model, self.model_id)
        state = dict(self.state) if self.state else model.default_state(mid)
        state["model"] = mid
        return model.inversion_space(state)

    def _loss(self, space: InversionSpace, dist: Any, target: torch.Tensor, codes: torch.Tensor):
        images = space.synthesize(codes)
        vgg = dist(images)
        mse = (images - target).pow(2).mean(dim=(1, 2, 3))
        total = vgg + self.pixel_weight * mse
        if space.prior is not None and self.prior_weight:
            total = total + self.prior_weight * space.prior(codes)
        return total, vgg, mse, images

    def _start(self, space, dist, target, reporter: Reporter) -> tuple[torch.Tensor, int, str]:
        """The best of ``starts`` random codes (and the encoder's guess): (code [1, D], seed, how)."""
        best: tuple[float, torch.Tensor, int, str] | None = None
        seeds = list(range(self.first_seed, self.first_seed + self.starts))
        with torch.no_grad():
            for i in range(0, len(seeds), 16):
                reporter.check()
                chunk = seeds[i : i + 16]
                codes = space.sample(chunk)
                total = self._loss(space, dist, target, codes)[0]
                j = int(torch.argmin(total))
                if best is None or float(total[j]) < best[0]:
                    best = (float(total[j]), codes[j : j + 1].clone(), chunk[j], f"seed {chunk[j]}")
            if space.encode is not None:
                code = space.encode(target).to(space.device)
                total = float(self._loss(space, dist, target, code)[0][0])
                assert best is not None
                if total < best[0]:
                    best = (total, code.clone(), best[2], "encoder")
        assert best is not None
        return best[1], best[2], best[3]

    # --------------------------------------------------------------------------------- run
    def run(self, reporter: Reporter) -> dict[str, Any]:
        from studio.losses.distance import DISTANCE_LAYERS, VGGDistance, psnr
        from studio.losses.vgg import last_of, load_vgg19

        model = resolve_model(self.model, self.device, reporter)
        space = self._space(model)
        target = load_target(self.image, int(model.image_size), self.fit).to(space.device)
        reporter.message("loading the VGG-19 loss network…")
        dist = VGGDistance(load_vgg19(space.device, "max", last_of(DISTANCE_LAYERS)))
        dist.set_target(target)
        reporter.message(f"scoring {self.starts} starting codes…")
        code, seed, how = self._start(space, dist, target, reporter)
        with torch.no_grad():
            _, vgg0, _, img0 = self._loss(space, dist, target, code)
            start_quality = {"start_vgg_distance": float(vgg0[0]), "start_psnr": float(psnr(img0, target)[0])}
        z = code.clone().requires_grad_(True)
        opt = torch.optim.Adam([z], lr=self.lr)
        best_code, best_loss = code.clone(), math.inf
        outputs: dict[str, Any] = {"start": how}
        try:
            for step in range(1, self.steps + 1):
                ramp = min(1.0, (self.steps - step + 1) / max(1.0, 0.25 * self.steps))
                for group in opt.param_groups:
                    group["lr"] = self.lr * (0.5 - 0.5 * math.cos(math.pi * ramp))
                total, vgg, mse, images = self._loss(space, dist, target, z)
                (grad,) = torch.autograd.grad(total.sum(), [z])  # never touches the model's .grad
                loss = float(total[0].detach())
                if loss < best_loss:  # the loss of the code *before* this step's update
                    best_loss, best_code = loss, z.detach().clone()
                opt.zero_grad(set_to_none=True)
                z.grad = grad
                opt.step()
                self.best_history.append(best_loss)
                preview = _pixels(images) if step % self.preview_every == 0 or step == 1 else None
                reporter.report(
                    step,
                    self.steps,
                    {
                        "loss": loss,
                        "best": best_loss,
                        "vgg": float(vgg[0].detach()),
                        "pixel_mse": float(mse[0].detach()),
                    },
                    preview=preview,
                )
            with torch.no_grad():  # the code after the last update may be the best
                total = self._loss(space, dist, target, z.detach())[0]
                if float(total[0]) < best_loss:
                    best_loss, best_code = float(total[0]), z.detach().clone()
        except JobCancelled:
            outputs.update(self._finish(model, space, dist, target, best_code, seed, start_quality))
            raise cancelled_with(outputs) from None
        outputs.update(self._finish(model, space, dist, target, best_code, seed, start_quality))
        outputs["steps"] = self.steps
        return outputs

    def _finish(self, model, space, dist, target, code, seed, start_quality) -> dict[str, Any]:
        from studio.losses.distance import psnr

        state = space.state_for(code[0], seed)
        with torch.no_grad():  # quality of what the state really renders (rounded code, the model's render)
            image = model.render([state]).to(space.device).float()
            quality = {"vgg_distance": float(dist(image)[0]), "psnr": float(psnr(image, target)[0])}
        out: dict[str, Any] = {"state": state} if self.state_in_outputs else {}
        out.update({**quality, **start_quality})
        if self.out is not None:
            out["out"] = str(self._write(image, state, quality))
        return out

    def _write(self, image: torch.Tensor, state: dict[str, Any], quality: dict[str, float]) -> Path:
        assert self.out is not None
        if self.out.suffix.lower() == ".png":
            from studio.core.export import save_png

            extra = {"gan-studio-inversion": json.dumps({k: round(v, 5) for k, v in quality.items()})}
            return save_png(self.out, _pixels(image.cpu()), state, extra)
        return write_json(self.out, {"state": state, "quality": {k: round(v, 5) for k, v in quality.items()}})
