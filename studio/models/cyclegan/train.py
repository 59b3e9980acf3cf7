"""CycleGAN training on the shared Trainer: the networks, optimisers, losses and one step (the rest of
a translator run is :class:`studio.models.translate.train.TranslatorTask`'s and the Trainer's).

Generators (one Adam for both): adversarial (fakes scored as real) + λ_cycle·L1 cycle
(+ λ_identity·λ_cycle·L1 identity in the standard configuration). Each discriminator has its own Adam:
real→1 and fake→0, fakes drawn through the image pool (size 0 = the newest fakes, as ECE 285). The
adversarial terms are MSE (LSGAN; ECE 285, Zhu et al.) or the log loss (BCE on logits; the Kaggle preset).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from studio.core.errors import StudioError
from studio.models.projected import hinge_fake_loss, hinge_g_loss, hinge_real_loss
from studio.models.translate.data import ImagePool, from_model_range
from studio.models.translate.train import TranslatorTask, TranslatorTrainJob, set_requires_grad
from studio.train import TrainContext, Trainer

from .config import CycleGANConfig
from .networks import build_discriminator, build_generator, init_weights

# the options that override the preset (CLI flags of the 'train' job)
CONFIG_KEYS = (
    "generator",
    "channels",
    "depth",
    "residual",
    "n_blocks",
    "skips",
    "discriminator",
    "d_channels",
    "d_strides",
    "ndf",
    "d_norm",
    "lambda_cycle",
    "lambda_identity",
    "pool_size",
    "lr",
    "decay_start",
    "g_norm",
    "upsample",
    "gan_loss",
    "exp_decay",
    "exp_decay_epochs",
    "augment",
)


def cycle_loss(
    g_ab: torch.nn.Module, g_ba: torch.nn.Module, real_a: torch.Tensor, real_b: torch.Tensor
) -> torch.Tensor:
    """||G_ba(G_ab(a)) - a||_1 + ||G_ab(G_ba(b)) - b||_1 (mean over pixels)."""
    return F.l1_loss(g_ba(g_ab(real_a)), real_a) + F.l1_loss(g_ab(g_ba(real_b)), real_b)


def lsgan(pred: torch.Tensor, target: float) -> torch.Tensor:
    return F.mse_loss(pred, torch.full_like(pred, target))


def log_loss(pred: torch.Tensor, target: float) -> torch.Tensor:
    """The report's −log D / −log(1 − D) with D = sigmoid(pred) (BCE on logits, numerically stable)."""
    return F.binary_cross_entropy_with_logits(pred, torch.full_like(pred, target))


def hinge(pred: torch.Tensor, target: float) -> torch.Tensor:
    """The discriminator's hinge loss: on reals (target 1) or on fakes (target 0)."""
    return hinge_real_loss(pred) if target >= 0.5 else hinge_fake_loss(pred)


class Adversarial:
    """The adversarial criterion a config names (lsgan, bce or hinge): ``crit(pred, target)`` is the
    discriminator's loss on real (1) or fake (0) predictions, ``crit.generator(pred)`` the generators'
    loss on their fakes. They differ only for the hinge loss, whose generator term is −mean(D)."""

    def __init__(self, kind: str):
        self.kind = kind
        self.criterion = {"bce": log_loss, "hinge": hinge}.get(kind, lsgan)

    def __call__(self, pred: torch.Tensor, target: float) -> torch.Tensor:
        return self.criterion(pred, target)

    def generator(self, pred: torch.Tensor) -> torch.Tensor:
        return hinge_g_loss(pred) if self.kind == "hinge" else self.criterion(pred, 1.0)


def adversarial(kind: str) -> Adversarial:
    """The adversarial criterion a config names: lsgan, bce or hinge."""
    return Adversarial(kind)


def config_from_options(options: Mapping[str, Any]) -> CycleGANConfig:
    """``--preset`` (ece, standard or kaggle) with the flags given on top of it."""
    return CycleGANConfig.preset(options.get("preset") or "ece", **{k: options.get(k) for k in CONFIG_KEYS})


class CycleGANTask(TranslatorTask):
    family = "cyclegan"
    config_cls = CycleGANConfig

    def build(self) -> dict[str, torch.nn.Module]:
        cfg: CycleGANConfig = self.cfg
        if cfg.discriminator in ("patch", "kaggle") and self.options.size < 32:
            raise StudioError(
                f"the 70×70 PatchGAN (and the Kaggle D built on it) needs crops of at least 32 px "
                f"(got --size {self.options.size}); use a larger --size or the ECE discriminator"
            )
        nets = {"G_ab": self.build_generator(cfg), "G_ba": self.build_generator(cfg)}
        for net in nets.values():
            init_weights(net)
        nets.update(self.build_discriminators(cfg))
        self.pools = {"a": ImagePool(cfg.pool_size), "b": ImagePool(cfg.pool_size)}
        return nets

    def build_discriminators(self, cfg: CycleGANConfig) -> dict[str, torch.nn.Module]:
        """D_a and D_b. Projected ones share one frozen feature network (held outside their state) and
        draw their fixed projections from the run's seed; the others get CycleGAN's N(0, 0.02) init."""
        if cfg.discriminator == "projected":
            from studio.models.projected import translator_pair

            return dict(translator_pair(self.options.size, self.trainer.seed))
        nets = {"D_a": build_discriminator(cfg), "D_b": build_discriminator(cfg)}
        for net in nets.values():
            init_weights(net)
        return nets

    def build_generator(self, cfg: CycleGANConfig) -> torch.nn.Module:
        """One translator generator (a family built on CycleGAN's recipe swaps this one network)."""
        return build_generator(cfg)

    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg: CycleGANConfig = self.cfg
        betas = (cfg.beta1, cfg.beta2)
        gens = itertools.chain(self.nets["G_ab"].parameters(), self.nets["G_ba"].parameters())
        return {
            "G": torch.optim.Adam(gens, lr=cfg.lr, betas=betas),
            "D_a": torch.optim.Adam(self.nets["D_a"].parameters(), lr=cfg.lr, betas=betas),
            "D_b": torch.optim.Adam(self.nets["D_b"].parameters(), lr=cfg.lr, betas=betas),
        }

    def step(self, ctx: TrainContext, real_a: torch.Tensor, real_b: torch.Tensor) -> dict[str, float]:
        cfg: CycleGANConfig = self.cfg
        g_ab, g_ba, d_a, d_b = (self.nets[k] for k in ("G_ab", "G_ba", "D_a", "D_b"))
        gan = adversarial(cfg.gan_loss)
        # generators
        set_requires_grad([d_a, d_b], False)
        self.optims["G"].zero_grad(set_to_none=True)
        with ctx.autocast():
            fake_b, fake_a = g_ab(real_a), g_ba(real_b)
            adv = gan.generator(self.judge(d_b, fake_b)) + gan.generator(self.judge(d_a, fake_a))
            cyc = F.l1_loss(g_ba(fake_b), real_a) + F.l1_loss(g_ab(fake_a), real_b)
            loss_g = adv + cfg.lambda_cycle * cyc
            if cfg.lambda_identity > 0:
                idt = F.l1_loss(g_ab(real_b), real_b) + F.l1_loss(g_ba(real_a), real_a)
                loss_g = loss_g + cfg.lambda_identity * cfg.lambda_cycle * idt
        ctx.backward(loss_g)
        ctx.step_optimizer(self.optims["G"])
        set_requires_grad([d_a, d_b], True)
        out = {"G_adv": float(adv.detach()), "cycle": float(cyc.detach())}
        if cfg.lambda_identity > 0:
            out["identity"] = float(idt.detach())
        # discriminators, on the newest fakes or older ones from the pools
        scale = 0.5 if cfg.d_loss_half else 1.0
        for name, d, real, fake, pool in (
            ("D_a", d_a, real_a, fake_a, self.pools["a"]),
            ("D_b", d_b, real_b, fake_b, self.pools["b"]),
        ):
            self.optims[name].zero_grad(set_to_none=True)
            with ctx.autocast():
                fakes = pool.query(fake.detach(), ctx.rng)
                loss_d = scale * (gan(self.judge(d, real), 1.0) + gan(self.judge(d, fakes), 0.0))
            ctx.backward(loss_d)
            ctx.step_optimizer(self.optims[name])
            out[name] = float(loss_d.detach())
        return out

    def card_extra(self) -> dict[str, Any]:
        """With projected discriminators: which frozen network they judged through (the card's metrics
        use another one, MobileNetV2), their projections and loss."""
        if self.cfg.discriminator != "projected":
            return {}
        from studio.models.projected import describe_pair

        return {"discriminator": describe_pair(self.nets["D_a"], self.nets["D_b"], self.cfg.gan_loss)}

    def preview_rows(self, val_a: torch.Tensor, val_b: torch.Tensor) -> list[torch.Tensor]:
        """Rows: A, A→B, A→B→A, B, B→A, B→A→B."""
        g_ab, g_ba = self.nets["G_ab"], self.nets["G_ba"]
        ab, ba = g_ab(val_a), g_ba(val_b)
        return [from_model_range(t.float()) for t in (val_a, ab, g_ba(ab), val_b, ba, g_ab(ba))]


def CycleGANTrainJob(**options: Any) -> Trainer:
    """``studio train cyclegan``: the CycleGAN task on the shared Trainer (options as parsed by the CLI)."""
    return TranslatorTrainJob(CycleGANTask, config_from_options(options), options)
