"""U-GAT-IT training step (Kim et al.): four discriminators (global + local per domain), each with a CAM
head; losses weighted adversarial 1, cycle 10, identity 10, CAM 1000 (LSGAN adversarial terms, BCE on
the generators' CAM logits: "is this from the other domain?"). Adam 1e-4, weight decay 1e-4; ρ clipped
to [0, 1] after every generator step."""
from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from studio.models.translate_common import TranslatorTrainJob, from_model_range, set_requires_grad

from .config import UGATITConfig
from .networks import UGATITDiscriminator, UGATITGenerator, clip_rho

DISCS = ("D_ga", "D_la", "D_gb", "D_lb")


def mse(pred: torch.Tensor, target: float) -> torch.Tensor:
    return F.mse_loss(pred, torch.full_like(pred, target))


def bce(logit: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logit, torch.full_like(logit, target))


def heatmap_image(heatmap: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """[N,1,h,w] attention sums -> [N,3,H,W] grey images in [0,1] (min-max per image), for previews."""
    hm = heatmap - heatmap.amin(dim=(1, 2, 3), keepdim=True)
    hm = hm / hm.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-8)
    return F.interpolate(hm, size=size, mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)


class UGATITTrainJob(TranslatorTrainJob):
    family = "ugatit"
    config_cls = UGATITConfig

    def build(self, device: torch.device) -> None:
        cfg: UGATITConfig = self.config
        torch.manual_seed(self.opts.seed)
        self.nets = {"G_ab": UGATITGenerator(cfg), "G_ba": UGATITGenerator(cfg),
                     "D_ga": UGATITDiscriminator(cfg.ndf, cfg.global_layers),
                     "D_gb": UGATITDiscriminator(cfg.ndf, cfg.global_layers),
                     "D_la": UGATITDiscriminator(cfg.ndf, cfg.local_layers),
                     "D_lb": UGATITDiscriminator(cfg.ndf, cfg.local_layers)}
        for net in self.nets.values():
            net.to(device).train()
        kw = dict(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay)
        self.optims = {
            "G": torch.optim.Adam(itertools.chain(self.nets["G_ab"].parameters(), self.nets["G_ba"].parameters()), **kw),
            "D": torch.optim.Adam(itertools.chain(*(self.nets[k].parameters() for k in DISCS)), **kw)}
        for opt in self.optims.values():
            for g in opt.param_groups:
                g["initial_lr"] = cfg.lr

    def train_step(self, real_a: torch.Tensor, real_b: torch.Tensor, step: int) -> dict[str, float]:
        cfg: UGATITConfig = self.config
        g_ab, g_ba = self.nets["G_ab"], self.nets["G_ba"]
        d_ga, d_la, d_gb, d_lb = (self.nets[k] for k in DISCS)
        discs = [d_ga, d_la, d_gb, d_lb]

        # discriminators
        self.optims["D"].zero_grad(set_to_none=True)
        with torch.no_grad():
            fake_b = g_ab(real_a)[0]
            fake_a = g_ba(real_b)[0]
        loss_d = real_a.new_zeros(())
        for d, real, fake in ((d_ga, real_a, fake_a), (d_la, real_a, fake_a),
                              (d_gb, real_b, fake_b), (d_lb, real_b, fake_b)):
            r_logit, r_cam, _ = d(real)
            f_logit, f_cam, _ = d(fake)
            loss_d = loss_d + cfg.adv_weight * (mse(r_logit, 1) + mse(f_logit, 0) + mse(r_cam, 1) + mse(f_cam, 0))
        loss_d.backward()
        self.optims["D"].step()

        # generators
        set_requires_grad(discs, False)
        self.optims["G"].zero_grad(set_to_none=True)
        fake_b, cam_ab, _ = g_ab(real_a)
        fake_a, cam_ba, _ = g_ba(real_b)
        rec_a = g_ba(fake_b)[0]
        rec_b = g_ab(fake_a)[0]
        idt_a, cam_aa, _ = g_ba(real_a)
        idt_b, cam_bb, _ = g_ab(real_b)
        adv = real_a.new_zeros(())
        for d, fake in ((d_ga, fake_a), (d_la, fake_a), (d_gb, fake_b), (d_lb, fake_b)):
            f_logit, f_cam, _ = d(fake)
            adv = adv + mse(f_logit, 1) + mse(f_cam, 1)
        cyc = F.l1_loss(rec_a, real_a) + F.l1_loss(rec_b, real_b)
        idt = F.l1_loss(idt_a, real_a) + F.l1_loss(idt_b, real_b)
        cam = bce(cam_ba, 1) + bce(cam_aa, 0) + bce(cam_ab, 1) + bce(cam_bb, 0)
        loss_g = (cfg.adv_weight * adv + cfg.cycle_weight * cyc + cfg.identity_weight * idt
                  + cfg.cam_weight * cam)
        loss_g.backward()
        self.optims["G"].step()
        set_requires_grad(discs, True)
        clip_rho(g_ab)
        clip_rho(g_ba)
        return {"G_adv": adv.item(), "cycle": cyc.item(), "identity": idt.item(), "cam": cam.item(),
                "D": loss_d.item()}

    def preview_rows(self, val_a: torch.Tensor, val_b: torch.Tensor) -> list[torch.Tensor]:
        """Rows: A, attention(A→B), A→B, A→B→A, then the same for B."""
        rows = []
        for x, g, back in ((val_a, self.nets["G_ab"], self.nets["G_ba"]),
                           (val_b, self.nets["G_ba"], self.nets["G_ab"])):
            y, _, hm = g(x)
            rows += [from_model_range(x), heatmap_image(hm, x.shape[-2:]), from_model_range(y),
                     from_model_range(back(y)[0])]
        return rows
