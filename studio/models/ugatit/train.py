"""U-GAT-IT training on the shared Trainer (Kim et al.): four discriminators (global + local per
domain), each with a CAM head; losses weighted adversarial 1, cycle 10, identity 10, CAM 1000 (LSGAN
adversarial terms, BCE on the generators' CAM logits: "is this from the other domain?"). Adam 1e-4,
weight decay 1e-4; ρ clipped to [0, 1] after every generator step. With ``--discriminator projected``
the four are replaced by one projected discriminator per domain, scored with the hinge loss (and no
discriminator CAM terms). The rest of a translator run is
:class:`studio.models.translate.train.TranslatorTask`'s and the Trainer's."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from studio.models.projected import hinge_d_loss, hinge_g_loss
from studio.models.translate.data import from_model_range
from studio.models.translate.train import TranslatorTask, TranslatorTrainJob, set_requires_grad
from studio.train import TrainContext, Trainer

from .config import UGATITConfig
from .networks import UGATITDiscriminator, UGATITGenerator, clip_rho

DISCS = ("D_ga", "D_la", "D_gb", "D_lb")
PROJECTED_DISCS = ("D_a", "D_b")
# the options that override the defaults for the crop size (CLI flags of the 'train' job)
CONFIG_KEYS = (
    "light",
    "ngf",
    "ndf",
    "n_res",
    "global_layers",
    "local_layers",
    "adv_weight",
    "cycle_weight",
    "identity_weight",
    "cam_weight",
    "lr",
    "weight_decay",
    "decay_start",
    "augment",
    "discriminator",
)


def mse(pred: torch.Tensor, target: float) -> torch.Tensor:
    return F.mse_loss(pred, torch.full_like(pred, target))


def bce(logit: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logit, torch.full_like(logit, target))


def heatmap_image(heatmap: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """[N,1,h,w] attention sums -> [N,3,H,W] grey images in [0,1] (min-max per image), for previews."""
    hm = heatmap - heatmap.amin(dim=(1, 2, 3), keepdim=True)
    hm = hm / hm.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-8)
    return F.interpolate(hm, size=size, mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)


def config_from_options(options: Mapping[str, Any]) -> UGATITConfig:
    """The defaults for ``--size`` (discriminator depths capped to fit) with the flags given on top."""
    return UGATITConfig.for_size(int(options.get("size") or 64), **{k: options.get(k) for k in CONFIG_KEYS})


class UGATITTask(TranslatorTask):
    family = "ugatit"
    config_cls = UGATITConfig

    @property
    def projected(self) -> bool:
        return self.cfg.discriminator == "projected"

    @property
    def disc_names(self) -> tuple[str, ...]:
        return PROJECTED_DISCS if self.projected else DISCS

    def build(self) -> dict[str, torch.nn.Module]:
        cfg: UGATITConfig = self.cfg
        gens: dict[str, torch.nn.Module] = {"G_ab": UGATITGenerator(cfg), "G_ba": UGATITGenerator(cfg)}
        if self.projected:
            from studio.models.projected import translator_pair

            return {**gens, **translator_pair(self.options.size, self.trainer.seed)}
        return {
            **gens,
            "D_ga": UGATITDiscriminator(cfg.ndf, cfg.global_layers),
            "D_gb": UGATITDiscriminator(cfg.ndf, cfg.global_layers),
            "D_la": UGATITDiscriminator(cfg.ndf, cfg.local_layers),
            "D_lb": UGATITDiscriminator(cfg.ndf, cfg.local_layers),
        }

    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg: UGATITConfig = self.cfg
        kw: dict[str, Any] = {"lr": cfg.lr, "betas": (cfg.beta1, cfg.beta2), "weight_decay": cfg.weight_decay}
        gens = itertools.chain(self.nets["G_ab"].parameters(), self.nets["G_ba"].parameters())
        return {
            "G": torch.optim.Adam(gens, **kw),
            "D": torch.optim.Adam(itertools.chain(*(self.nets[k].parameters() for k in self.disc_names)), **kw),
        }

    def judged_by(self) -> list[tuple[torch.nn.Module, str]]:
        """Each discriminator with the domain it judges ("a" or "b")."""
        return [(self.nets[k], "a" if k.endswith("a") else "b") for k in self.disc_names]

    def discriminator_loss(self, d: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """One discriminator's loss on a real and a generated batch: LSGAN on its logit and CAM logit
        (the paper), or the hinge loss (projected)."""
        if self.projected:
            return hinge_d_loss(self.judge(d, real), self.judge(d, fake))
        r_logit, r_cam, _ = self.judge(d, real)
        f_logit, f_cam, _ = self.judge(d, fake)
        return mse(r_logit, 1) + mse(f_logit, 0) + mse(r_cam, 1) + mse(f_cam, 0)

    def generator_adversarial(self, d: torch.nn.Module, fake: torch.Tensor) -> torch.Tensor:
        """The generators' adversarial loss against one discriminator."""
        if self.projected:
            return hinge_g_loss(self.judge(d, fake))
        f_logit, f_cam, _ = self.judge(d, fake)
        return mse(f_logit, 1) + mse(f_cam, 1)

    def step(self, ctx: TrainContext, real_a: torch.Tensor, real_b: torch.Tensor) -> dict[str, float]:
        cfg: UGATITConfig = self.cfg
        g_ab, g_ba = self.nets["G_ab"], self.nets["G_ba"]
        discs = self.judged_by()

        # discriminators
        self.optims["D"].zero_grad(set_to_none=True)
        with ctx.autocast():
            with torch.no_grad():
                fakes = {"b": g_ab(real_a)[0], "a": g_ba(real_b)[0]}
            reals = {"a": real_a, "b": real_b}
            loss_d = real_a.new_zeros((), dtype=torch.float32)
            for d, dom in discs:
                loss_d = loss_d + cfg.adv_weight * self.discriminator_loss(d, reals[dom], fakes[dom])
        ctx.backward(loss_d)
        ctx.step_optimizer(self.optims["D"])

        # generators
        set_requires_grad([d for d, _ in discs], False)
        self.optims["G"].zero_grad(set_to_none=True)
        with ctx.autocast():
            fake_b, cam_ab, _ = g_ab(real_a)
            fake_a, cam_ba, _ = g_ba(real_b)
            rec_a = g_ba(fake_b)[0]
            rec_b = g_ab(fake_a)[0]
            idt_a, cam_aa, _ = g_ba(real_a)
            idt_b, cam_bb, _ = g_ab(real_b)
            adv = real_a.new_zeros((), dtype=torch.float32)
            fakes = {"a": fake_a, "b": fake_b}
            for d, dom in discs:
                adv = adv + self.generator_adversarial(d, fakes[dom])
            cyc = F.l1_loss(rec_a, real_a) + F.l1_loss(rec_b, real_b)
            idt = F.l1_loss(idt_a, real_a) + F.l1_loss(idt_b, real_b)
            cam = bce(cam_ba, 1) + bce(cam_aa, 0) + bce(cam_ab, 1) + bce(cam_bb, 0)
            loss_g = cfg.adv_weight * adv + cfg.cycle_weight * cyc + cfg.identity_weight * idt + cfg.cam_weight * cam
        ctx.backward(loss_g)
        ctx.step_optimizer(self.optims["G"])
        set_requires_grad([d for d, _ in discs], True)
        clip_rho(g_ab)
        clip_rho(g_ba)
        return {
            "G_adv": float(adv.detach()),
            "cycle": float(cyc.detach()),
            "identity": float(idt.detach()),
            "cam": float(cam.detach()),
            "D": float(loss_d.detach()),
        }

    def card_extra(self) -> dict[str, Any]:
        """With projected discriminators: which frozen network judged (the card's metrics use another
        one, MobileNetV2), their projections and loss."""
        if not self.projected:
            return {}
        from studio.models.projected import describe_pair

        return {"discriminator": describe_pair(self.nets["D_a"], self.nets["D_b"], "hinge")}

    def preview_rows(self, val_a: torch.Tensor, val_b: torch.Tensor) -> list[torch.Tensor]:
        """Rows: A, attention(A→B), A→B, A→B→A, then the same for B."""
        rows = []
        for x, g, back in (
            (val_a, self.nets["G_ab"], self.nets["G_ba"]),
            (val_b, self.nets["G_ba"], self.nets["G_ab"]),
        ):
            y, _, hm = g(x)
            rows += [
                from_model_range(x),
                heatmap_image(hm.float(), (x.shape[-2], x.shape[-1])),
                from_model_range(y.float()),
                from_model_range(back(y)[0].float()),
            ]
        return rows


def UGATITTrainJob(**options: Any) -> Trainer:
    """``studio train ugatit``: the U-GAT-IT task on the shared Trainer (options as parsed by the CLI)."""
    return TranslatorTrainJob(UGATITTask, config_from_options(options), options)
