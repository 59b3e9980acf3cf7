"""Bayesian CycleGAN training on the shared Trainer: the networks, optimisers, losses and one step (the
rest of a translator run is :class:`studio.models.translate.train.TranslatorTask`'s and the Trainer's).

One step, as the authors' ``CycleGAN_bayes_z.py`` (noise marginalisation) does it:

- draw ``mc_y`` latents for A→B and ``mc_x`` for B→A (from the run's RNG, so a resume is exact) and
  translate each batch once per latent: fake_b holds mc_y × N images, fake_a mc_x × N;
- reconstruct every fake with the other generator and the last latent drawn for that generator;
- generators (one Adam): adversarial on all fakes (mean over the samples) + γ · adversarial on the
  reconstructions + λ_cycle · L1 cycle summed over the samples + the Gaussian prior of both generators
  (+ identity when configured);
- each discriminator (own Adam): ½(mc · real + fakes) + ½γ(mc · real + reconstructions) + its prior,
  where the real term is multiplied by the number of samples as in their code.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import torch
import torch.nn.functional as F

from studio.models.cyclegan.train import CONFIG_KEYS as CYCLEGAN_KEYS
from studio.models.cyclegan.train import CycleGANTask, adversarial
from studio.models.translate.data import from_model_range
from studio.models.translate.train import TranslatorTrainJob, set_requires_grad
from studio.train import TrainContext, Trainer

from .config import BayesCycleGANConfig
from .networks import INFER_SEED, LatentGenerator, build_latent_generator, latent_noise

CONFIG_KEYS = (*CYCLEGAN_KEYS, "latent_channels", "mc_x", "mc_y", "gamma", "prior_weight", "infer_samples")


def gaussian_prior(params: Iterable[torch.Tensor], batch: int) -> torch.Tensor:
    """The authors' ``get_prior``: Σ over parameter tensors of mean(θ²), divided by the batch size —
    the negative log of a Gaussian prior on the weights up to constants (a weight decay)."""
    total = None
    for p in params:
        term = p.float().pow(2).mean()
        total = term if total is None else total + term
    if total is None:
        return torch.zeros(())
    return total / max(1, batch)


def config_from_options(options: Mapping[str, Any]) -> BayesCycleGANConfig:
    """``--preset`` (bayes, ece, standard or kaggle) with the flags given on top of it."""
    return BayesCycleGANConfig.preset(options.get("preset") or "bayes", **{k: options.get(k) for k in CONFIG_KEYS})


class BayesCycleGANTask(CycleGANTask):
    """CycleGAN's networks, pools and optimizers (inherited) with latent-input generators, and the
    authors' Monte-Carlo step."""

    family = "bayes-cyclegan"
    config_cls = BayesCycleGANConfig

    def build_generator(self, cfg) -> torch.nn.Module:
        return build_latent_generator(cfg)

    def generator_losses(
        self, real_a: torch.Tensor, real_b: torch.Tensor, zs_ab: list[torch.Tensor], zs_ba: list[torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """The generators' total loss for given latents, its parts, and the fakes and reconstructions
        (fake_b: one A→B translation per latent in ``zs_ab``, stacked; rec_a: each brought back)."""
        cfg: BayesCycleGANConfig = self.cfg
        g_ab: LatentGenerator = self.nets["G_ab"]  # type: ignore[assignment]
        g_ba: LatentGenerator = self.nets["G_ba"]  # type: ignore[assignment]
        d_a, d_b = self.nets["D_a"], self.nets["D_b"]
        gan = adversarial(cfg.gan_loss)
        n = real_a.shape[0]
        fake_b = torch.cat([g_ab.sample(real_a, z) for z in zs_ab])
        fake_a = torch.cat([g_ba.sample(real_b, z) for z in zs_ba])
        rec_a = g_ba.sample(fake_b, zs_ba[-1])  # the authors reconstruct with the last latent drawn
        rec_b = g_ab.sample(fake_a, zs_ab[-1])
        adv = gan.generator(self.judge(d_b, fake_b)) + gan.generator(self.judge(d_a, fake_a))
        adv_rec = gan.generator(self.judge(d_a, rec_a)) + gan.generator(self.judge(d_b, rec_b))
        # L1 per sample, summed over the samples (their loop adds λ·L1 once per sample)
        cyc = len(zs_ab) * F.l1_loss(rec_a, real_a.repeat(len(zs_ab), 1, 1, 1)) + len(zs_ba) * F.l1_loss(
            rec_b, real_b.repeat(len(zs_ba), 1, 1, 1)
        )
        prior = gaussian_prior(itertools.chain(g_ab.parameters(), g_ba.parameters()), n).to(adv.dtype)
        loss = adv + cfg.gamma * adv_rec + cfg.lambda_cycle * cyc + cfg.prior_weight * prior
        parts = {"G_adv": adv, "G_adv_rec": adv_rec, "cycle": cyc, "prior_G": prior}
        if cfg.lambda_identity > 0:
            idt = F.l1_loss(g_ab.sample(real_b, zs_ab[0]), real_b) + F.l1_loss(g_ba.sample(real_a, zs_ba[0]), real_a)
            loss = loss + cfg.lambda_identity * cfg.lambda_cycle * idt
            parts["identity"] = idt
        return loss, parts, {"fake_a": fake_a, "fake_b": fake_b, "rec_a": rec_a, "rec_b": rec_b}

    def discriminator_loss(
        self, d: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor, rec: torch.Tensor, samples: int
    ) -> torch.Tensor:
        """½(mc·real + fakes) + ½γ(mc·real + reconstructions) + prior, as the authors' backward_D."""
        cfg: BayesCycleGANConfig = self.cfg
        gan = adversarial(cfg.gan_loss)
        loss_real = gan(self.judge(d, real), 1.0) * samples
        loss = 0.5 * (loss_real + gan(self.judge(d, fake), 0.0)) + 0.5 * cfg.gamma * (
            loss_real + gan(self.judge(d, rec), 0.0)
        )
        return loss + cfg.prior_weight * gaussian_prior(d.parameters(), real.shape[0]).to(loss.dtype)

    def step(self, ctx: TrainContext, real_a: torch.Tensor, real_b: torch.Tensor) -> dict[str, float]:
        cfg: BayesCycleGANConfig = self.cfg
        d_a, d_b = self.nets["D_a"], self.nets["D_b"]
        zs_ab = [latent_noise(real_a, cfg.latent_channels, ctx.rng) for _ in range(cfg.mc_y)]
        zs_ba = [latent_noise(real_b, cfg.latent_channels, ctx.rng) for _ in range(cfg.mc_x)]
        # generators
        set_requires_grad([d_a, d_b], False)
        self.optims["G"].zero_grad(set_to_none=True)
        with ctx.autocast():
            loss_g, parts, images = self.generator_losses(real_a, real_b, zs_ab, zs_ba)
        ctx.backward(loss_g)
        ctx.step_optimizer(self.optims["G"])
        set_requires_grad([d_a, d_b], True)
        out = {k: float(v.detach()) for k, v in parts.items()}
        # discriminators: D_a judges domain A (fakes B→A, reconstructions of A), D_b domain B
        for name, d, real, fake, rec, pool, samples in (
            ("D_a", d_a, real_a, images["fake_a"], images["rec_a"], self.pools["a"], cfg.mc_x),
            ("D_b", d_b, real_b, images["fake_b"], images["rec_b"], self.pools["b"], cfg.mc_y),
        ):
            self.optims[name].zero_grad(set_to_none=True)
            with ctx.autocast():
                fakes = pool.query(fake.detach(), ctx.rng)
                loss_d = self.discriminator_loss(d, real, fakes, rec.detach(), samples)
            ctx.backward(loss_d)
            ctx.step_optimizer(self.optims[name])
            out[name] = float(loss_d.detach())
        return out

    def card_extra(self) -> dict[str, Any]:
        cfg: BayesCycleGANConfig = self.cfg
        return {
            **super().card_extra(),
            "inference": (
                f"each translation is the mean of {cfg.infer_samples} outputs, one per latent sample "
                f"({cfg.latent_channels} channel(s) of N(0, 1) noise drawn from fixed seeds {INFER_SEED}…"
                f"{INFER_SEED + cfg.infer_samples - 1}): the Monte-Carlo estimate of the translation "
                "marginalised over the latent, as training marginalises over mc_x / mc_y samples "
                "(the authors' test script draws a single latent instead)"
            ),
            "method": (
                "Bayesian CycleGAN (You et al., 2018, arXiv:1811.07465; papers/002), following the authors' "
                "noise-marginalisation code (CycleGAN_bayes_z.py): latent-concatenated inputs, "
                f"mc_x={cfg.mc_x} / mc_y={cfg.mc_y} Monte-Carlo samples per step, adversarial loss on the "
                f"reconstructions weighted gamma={cfg.gamma:g}, Gaussian prior on every weight "
                f"(sum of mean(w^2) / batch) weighted {cfg.prior_weight:g}; no SGHMC noise term "
                "(commented out in their code)"
            ),
        }

    def preview_rows(self, val_a: torch.Tensor, val_b: torch.Tensor) -> list[torch.Tensor]:
        """Rows: A, A→B, A→B→A, B, B→A, B→A→B (each the marginal: the mean over ``infer_samples`` latents)."""
        g_ab, g_ba = self.nets["G_ab"], self.nets["G_ba"]
        ab, ba = g_ab(val_a), g_ba(val_b)
        return [from_model_range(t.float()) for t in (val_a, ab, g_ba(ab), val_b, ba, g_ab(ba))]


def BayesCycleGANTrainJob(**options: Any) -> Trainer:
    """``studio train bayes-cyclegan``: the Bayesian CycleGAN task on the shared Trainer."""
    return TranslatorTrainJob(BayesCycleGANTask, config_from_options(options), options)
