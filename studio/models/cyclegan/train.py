"""CycleGAN training: one step of the generator pair and the two discriminators, in the resumable
loop of :class:`studio.models.translate_common.TranslatorTrainJob`.

Generators (one Adam for both): MSE adversarial (fakes scored as real) + λ_cycle·L1 cycle
(+ λ_identity·λ_cycle·L1 identity in the standard configuration). Each discriminator has its own Adam:
MSE of real→1 and fake→0, fakes drawn through the image pool (size 0 = the newest fakes, as ECE 285).
"""
from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from studio.core.errors import StudioError

from studio.models.translate_common import (ImagePool, TranslatorTrainJob, from_model_range,
                                            set_requires_grad)

from .config import CycleGANConfig
from .networks import build_discriminator, build_generator, init_weights


def cycle_loss(g_ab: torch.nn.Module, g_ba: torch.nn.Module, real_a: torch.Tensor,
               real_b: torch.Tensor) -> torch.Tensor:
    """||G_ba(G_ab(a)) - a||_1 + ||G_ab(G_ba(b)) - b||_1 (mean over pixels)."""
    return F.l1_loss(g_ba(g_ab(real_a)), real_a) + F.l1_loss(g_ab(g_ba(real_b)), real_b)


def lsgan(pred: torch.Tensor, target: float) -> torch.Tensor:
    return F.mse_loss(pred, torch.full_like(pred, target))


class CycleGANTrainJob(TranslatorTrainJob):
    family = "cyclegan"
    config_cls = CycleGANConfig

    def build(self, device: torch.device) -> None:
        cfg: CycleGANConfig = self.config
        if cfg.discriminator == "patch" and self.opts.size < 32:
            raise StudioError(f"the 70×70 PatchGAN needs crops of at least 32 px (got --size {self.opts.size}); "
                              "use a larger --size or the ECE discriminator")
        torch.manual_seed(self.opts.seed)
        self.nets = {"G_ab": build_generator(cfg), "G_ba": build_generator(cfg),
                     "D_a": build_discriminator(cfg), "D_b": build_discriminator(cfg)}
        for net in self.nets.values():
            init_weights(net)
            net.to(device).train()
        betas = (cfg.beta1, cfg.beta2)
        self.optims = {
            "G": torch.optim.Adam(itertools.chain(self.nets["G_ab"].parameters(), self.nets["G_ba"].parameters()),
                                  lr=cfg.lr, betas=betas),
            "D_a": torch.optim.Adam(self.nets["D_a"].parameters(), lr=cfg.lr, betas=betas),
            "D_b": torch.optim.Adam(self.nets["D_b"].parameters(), lr=cfg.lr, betas=betas)}
        for opt in self.optims.values():
            for g in opt.param_groups:
                g["initial_lr"] = cfg.lr
        self.pool_a = ImagePool(cfg.pool_size, self.opts.seed + 1)
        self.pool_b = ImagePool(cfg.pool_size, self.opts.seed + 2)

    def train_step(self, real_a: torch.Tensor, real_b: torch.Tensor, step: int) -> dict[str, float]:
        cfg: CycleGANConfig = self.config
        g_ab, g_ba, d_a, d_b = (self.nets[k] for k in ("G_ab", "G_ba", "D_a", "D_b"))
        # generators
        set_requires_grad([d_a, d_b], False)
        self.optims["G"].zero_grad(set_to_none=True)
        fake_b, fake_a = g_ab(real_a), g_ba(real_b)
        adv = lsgan(d_b(fake_b), 1.0) + lsgan(d_a(fake_a), 1.0)
        cyc = F.l1_loss(g_ba(fake_b), real_a) + F.l1_loss(g_ab(fake_a), real_b)
        loss_g = adv + cfg.lambda_cycle * cyc
        idt = torch.zeros(())
        if cfg.lambda_identity > 0:
            idt = F.l1_loss(g_ab(real_b), real_b) + F.l1_loss(g_ba(real_a), real_a)
            loss_g = loss_g + cfg.lambda_identity * cfg.lambda_cycle * idt
        loss_g.backward()
        self.optims["G"].step()
        # discriminators
        set_requires_grad([d_a, d_b], True)
        scale = 0.5 if cfg.d_loss_half else 1.0
        out = {"G_adv": adv.item(), "cycle": cyc.item()}
        if cfg.lambda_identity > 0:
            out["identity"] = idt.item()
        for name, d, real, fake, pool in (("D_a", d_a, real_a, fake_a, self.pool_a),
                                          ("D_b", d_b, real_b, fake_b, self.pool_b)):
            self.optims[name].zero_grad(set_to_none=True)
            loss_d = scale * (lsgan(d(real), 1.0) + lsgan(d(pool.query(fake.detach())), 0.0))
            loss_d.backward()
            self.optims[name].step()
            out[name] = loss_d.item()
        return out

    def preview_rows(self, val_a: torch.Tensor, val_b: torch.Tensor) -> list[torch.Tensor]:
        """Rows: A, A→B, A→B→A, B, B→A, B→A→B."""
        g_ab, g_ba = self.nets["G_ab"], self.nets["G_ba"]
        ab, ba = g_ab(val_a), g_ba(val_b)
        return [from_model_range(t) for t in (val_a, ab, g_ba(ab), val_b, ba, g_ab(ba))]
