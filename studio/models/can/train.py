"""The CAN training job (``studio train can --data DIR``), on the studio's one job API.

Each step is one discriminator update followed by ``ratio`` generator updates (the report: 2). The run
folder holds an atomically saved ``state.safetensors``/``state.json`` pair (networks, Adam moments, step
counter, wall time) every ``checkpoint_every`` steps, on cancel and at the end; ``--resume`` continues the
step count from it. At the end the model card is written with the style names as labels, the data and
its licence, steps, wall time, the exact command and the evaluation metrics (held-out style accuracy vs
chance, mean style entropy of samples vs real images, preview diversity).
"""
from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import torch

from studio.core.checkpoint import ModelCard, TrainingInfo, load_checkpoint, module_tensors, load_module_tensors, \
    save_checkpoint, tensors_path
from studio.core.device import resolve_device
from studio.core.errors import JobCancelled, StudioError
from studio.core.grid import tile, to_uint8
from studio.core.history import TrainingHistory
from studio.core.jobs import Reporter, cancelled_with
from studio.core.latents import principal_directions, seed_to_z
from studio.core.paths import runs_dir, user_models_dir
from studio.metrics.training_kid import TrainingKID
from studio.models.diffaugment import diff_augment, parse_policy

from .config import CANConfig, TrainConfig
from .data import StyleData, load_style_folder, read_licence
from .diversity import DiversityMeter
from .losses import discriminator_loss, entropy, generator_loss
from .networks import build_networks
from .optim_state import load_optimizer, optimizer_tensors

PREVIEW_SEED = 20170621  # the CAN paper's arXiv date: fixed codes so previews are comparable over time
SAMPLE_SEED = 777


def make_optimizers(g: torch.nn.Module, d: torch.nn.Module, tc: TrainConfig):
    opt_g = torch.optim.Adam(g.parameters(), lr=tc.lr_g, betas=(tc.beta1, tc.beta2))
    opt_d = torch.optim.Adam(d.parameters(), lr=tc.lr_d, betas=(tc.beta1, tc.beta2))
    return opt_g, opt_d


def train_step(g, d, opt_g, opt_d, real, labels, tc: TrainConfig, latent_dim: int,
               gen: torch.Generator) -> dict[str, float]:
    """One CAN step: a D update on (real, fake) + style CE on real, then ``ratio`` G updates."""
    device = real.device
    n = real.shape[0]
    policy = parse_policy(tc.augment)

    def aug(x: torch.Tensor) -> torch.Tensor:  # what D sees (both heads), real and fake alike
        return diff_augment(x, policy, gen) if policy else x

    z = torch.randn(n, latent_dim, generator=gen).to(device)
    with torch.no_grad():
        fake = g(z)
    d.requires_grad_(True)
    opt_d.zero_grad(set_to_none=True)
    real_logit, real_style = d(aug(real))
    fake_logit, _ = d(aug(fake))
    dl = discriminator_loss(real_logit, real_style, labels, fake_logit, tc.style_weight)
    dl["total"].backward()
    opt_d.step()
    d.requires_grad_(False)  # G steps only need gradients through D, not for it
    gl = {}
    for _ in range(tc.ratio):
        z = torch.randn(n, latent_dim, generator=gen).to(device)
        opt_g.zero_grad(set_to_none=True)
        fl, fs = d(aug(g(z)))
        gl = generator_loss(fl, fs, tc.ambiguity_weight)
        gl["total"].backward()
        opt_g.step()
    d.requires_grad_(True)
    with torch.no_grad():
        acc = (real_style.argmax(1) == labels).float().mean()
    return {"d_loss": dl["total"].item(), "g_loss": gl["total"].item(), "d_real": dl["d_real"].item(),
            "d_fake": dl["d_fake"].item(), "d_style": dl["d_style"].item(), "g_adv": gl["g_adv"].item(),
            "g_ambiguity": gl["g_ambiguity"].item(), "style_acc": acc.item()}


@torch.no_grad()
def sample_images(g, seeds_or_z, latent_dim: int, device, batch: int = 128) -> torch.Tensor:
    z = seeds_or_z if isinstance(seeds_or_z, torch.Tensor) else seed_to_z(seeds_or_z, latent_dim, 512)
    outs = []
    for i in range(0, z.shape[0], batch):
        outs.append(g(z[i:i + batch].to(device)).cpu())
    return torch.cat(outs)


@torch.no_grad()
def _eval_samples(g, z: torch.Tensor, latent_dim: int, device) -> torch.Tensor:
    """Samples in [0, 1] of the generator as users will see it (eval mode), leaving it in train mode."""
    g.eval()
    out = sample_images(g, z, latent_dim, device)
    g.train()
    return out


@torch.no_grad()
def evaluate(g, d, data: StyleData, cfg: CANConfig, device, n_samples: int = 512) -> dict[str, float]:
    """Held-out style accuracy (vs chance) and mean style entropy of samples vs real images."""
    g.eval(), d.eval()
    held_x, held_y = data.held_images, data.held_labels
    if held_x.shape[0] == 0:  # no hold-out asked for: measure on (seen) training images, and say so
        held_x, held_y = data.images[:512], data.labels[:512]
    logits = torch.cat([d.style_logits(held_x[i:i + 256].to(device).float() / 255.0).cpu()
                        for i in range(0, held_x.shape[0], 256)])
    acc = float((logits.argmax(1) == held_y).float().mean())
    counts = torch.bincount(held_y, minlength=cfg.num_styles).float()
    z = seed_to_z(SAMPLE_SEED, cfg.latent_dim, n_samples)
    fake = sample_images(g, z, cfg.latent_dim, device)
    fake_logits = torch.cat([d.style_logits(fake[i:i + 256].to(device)).cpu() for i in range(0, n_samples, 256)])
    g.train(), d.train()
    return {"style_accuracy_heldout": round(acc, 4),
            "style_accuracy_chance": round(float(counts.max() / counts.sum()), 4),
            "heldout_images": int(held_x.shape[0]),
            "entropy_samples_mean": round(float(entropy(fake_logits).mean()), 4),
            "entropy_real_mean": round(float(entropy(logits).mean()), 4),
            "entropy_max_logK": round(math.log(cfg.num_styles), 4)}


def index_tensors(data: StyleData, size: int, seed: int) -> dict[str, torch.Tensor]:
    """A small balanced sample of training images stored with the model for 'nearest training images'."""
    if size <= 0:
        return {}
    gen = torch.Generator().manual_seed(seed)
    per = max(1, size // len(data.styles))
    picks = []
    for k in range(len(data.styles)):
        idx = (data.labels == k).nonzero().flatten()
        picks.append(idx[torch.randperm(idx.numel(), generator=gen)[:per]])
    idx = torch.cat(picks)
    return {"index.images": data.images[idx].clone(), "index.labels": data.labels[idx].clone()}


def pca_tensors(g, cfg: CANConfig, device, k: int = 8, n: int = 512) -> dict[str, torch.Tensor]:
    """GANSpace directions from the generator's first hidden layer, for the latent sliders."""
    z = seed_to_z(4242, cfg.latent_dim, n)
    with torch.no_grad():
        feats = g.fc[0](z.to(device)).cpu()
    dirs, stds = principal_directions(z, feats, k)
    return {"pca.directions": dirs, "pca.stds": stds}


class CANTrainJob:
    """Train a CAN on a folder of style subfolders (see module docstring)."""

    def __init__(self, data: str | Path, name: str = "can", out: str | Path | None = None,
                 run_dir: str | Path | None = None, resume: bool = False, device: str = "auto",
                 command: str = "", threads: int = 0, licence: str = "", max_per_style: int = 0,
                 arch: str = "report", image_size: int = 64, width: float = 1.0, fc_dim: int = 1024,
                 latent_dim: int = 100, output_map: str = "minmax", kernel: int = 5,
                 use_vgg: bool = True, eval_samples: int = 512, kid_every: int = 0, kid_samples: int = 256,
                 kid_features: str = "mobilenet_v2", **train_options: Any):
        self.data_dir = Path(data)
        self.name = name
        self.out = Path(out) if out else user_models_dir() / name
        if self.out.is_dir():
            self.out = self.out / name
        if self.out.suffix in (".json", ".safetensors"):
            self.out = self.out.with_suffix("")
        self.run_dir = Path(run_dir) if run_dir else runs_dir() / name
        self.resume = bool(resume)
        self.device_name = device
        self.command = command
        self.commands: list[str] = [command] if command else []  # every command that worked on this run
        self.threads = int(threads or 0)
        self.licence = licence
        self.max_per_style = int(max_per_style or 0)
        self.arch_options = dict(arch=arch, image_size=int(image_size), width=float(width), fc_dim=int(fc_dim),
                                 latent_dim=int(latent_dim), output_map=output_map, kernel=int(kernel))
        known = {f.name for f in dataclasses.fields(TrainConfig)}
        self.tc = TrainConfig(**{k: v for k, v in train_options.items() if k in known and v is not None})
        self.use_vgg = use_vgg
        self.eval_samples = int(eval_samples)
        self.kid_options = {"kid_every": kid_every, "kid_samples": kid_samples, "kid_features": kid_features}
        self.history = TrainingHistory()
        self._feature_kind = ""
        self.title = f"Train CAN '{name}'"

    # -- run folder ---------------------------------------------------------------------------------
    @property
    def state_stem(self) -> Path:
        return self.run_dir / "state"

    def _save_run(self, g, d, opt_g, opt_d, cfg: CANConfig, styles, step: int, wall: float) -> None:
        tg, mg = optimizer_tensors("opt_g", opt_g)
        td, md = optimizer_tensors("opt_d", opt_d)
        tensors = {**module_tensors("G", g), **module_tensors("D", d), **tg, **td}
        card = ModelCard(name=f"{self.name} (run state)", family="can", config=cfg.to_dict(),
                         image_size=cfg.image_size, latent_dim=cfg.latent_dim, labels={"styles": list(styles)},
                         training=TrainingInfo(data=str(self.data_dir), steps=step, wall_time_s=wall,
                                               command=self.commands[0] if self.commands else ""),
                         extra={"run_state": True, "commands": self.commands, "step": step, "wall_time_s": wall,
                                "opt_g": mg, "opt_d": md, "history": self.history.to_dict(),
                                "train": dataclasses.asdict(self.tc)})
        save_checkpoint(self.state_stem, tensors, card)

    def _load_run(self, g, d, opt_g, opt_d) -> tuple[int, float]:
        tensors, card = load_checkpoint(self.state_stem)
        path = str(tensors_path(self.state_stem))
        load_module_tensors("G", g, tensors, path)
        load_module_tensors("D", d, tensors, path)
        load_optimizer("opt_g", opt_g, tensors, card.extra.get("opt_g", {}), path)
        load_optimizer("opt_d", opt_d, tensors, card.extra.get("opt_d", {}), path)
        for opt, lr in ((opt_g, self.tc.lr_g), (opt_d, self.tc.lr_d)):  # the command line wins on resume
            for group in opt.param_groups:
                group["lr"] = lr
        step = int(card.extra.get("step", 0))
        self.history = TrainingHistory.from_dict(card.extra.get("history"))
        self.history.truncate(step)
        return step, float(card.extra.get("wall_time_s", 0.0))

    # -- the job ------------------------------------------------------------------------------------
    def run(self, reporter: Reporter) -> dict[str, Any]:
        tc = self.tc
        if self.threads > 0:
            torch.set_num_threads(self.threads)
        device = resolve_device(self.device_name)
        torch.manual_seed(tc.seed)
        reporter.message(f"loading styles from {self.data_dir}…")
        data = load_style_folder(self.data_dir, self.arch_options["image_size"], tc.holdout, tc.seed,
                                 self.max_per_style)
        if data.images.shape[0] == 0:
            raise StudioError(f"{self.data_dir}: no training images left after the hold-out")
        cfg = CANConfig(num_styles=len(data.styles), **self.arch_options)
        g, d = build_networks(cfg)
        g.to(device), d.to(device)
        opt_g, opt_d = make_optimizers(g, d, tc)
        has_state = (self.run_dir / "state.json").exists()
        start, wall_before = 0, 0.0
        if has_state and not self.resume:
            raise StudioError(f"{self.run_dir}: this run folder already holds a run; pass --resume to continue "
                              "it or choose another --run-dir")
        if self.resume and has_state:
            saved = load_checkpoint(self.state_stem, verify_hash=False)[1]
            if saved.labels.get("styles") != data.styles:
                raise StudioError(f"{self.run_dir}: the run was trained on styles {saved.labels.get('styles')}, "
                                  f"but {self.data_dir} holds {data.styles}")
            if CANConfig.from_dict(saved.config) != cfg:
                raise StudioError(f"{self.run_dir}: the run's architecture differs from the options given "
                                  f"(saved: {saved.config})")
            start, wall_before = self._load_run(g, d, opt_g, opt_d)
            earlier = list(saved.extra.get("commands") or [])
            self.commands = earlier + [c for c in self.commands if c not in earlier]
            reporter.message(f"resuming at step {start}")
        reporter.message(f"data: {data.describe()}" + (f"; {len(data.skipped)} unreadable files skipped"
                                                       if data.skipped else ""))
        gen = torch.Generator().manual_seed(tc.seed * 1_000_003 + start)
        preview_z = seed_to_z(PREVIEW_SEED, cfg.latent_dim, 16)
        meter = DiversityMeter(device, use_vgg=self.use_vgg)
        self._feature_kind = meter.kind
        ref_idx = torch.randperm(data.images.shape[0], generator=torch.Generator().manual_seed(1))[:16]
        real_div = meter.score(data.images[ref_idx].float() / 255.0) or 1.0
        t0 = time.perf_counter()
        step = start
        last = {}
        metrics: dict[str, float] = {}
        kid = TrainingKID.from_options(self.kid_options, device, value_range=(0.0, 1.0))
        kid_gen = lambda n: data.batch(n, torch.Generator().manual_seed(PREVIEW_SEED), device)[0]  # noqa: E731
        try:
            limit_s = tc.time_limit * 60.0
            while step < tc.steps:
                if limit_s > 0 and reporter.elapsed_s >= limit_s:  # counted from the job's start
                    reporter.message(f"time limit of {tc.time_limit:g} min reached at step {step}; "
                                     "finishing (continue later with --resume)")
                    break
                real, labels = data.batch(tc.batch, gen, device)
                last = train_step(g, d, opt_g, opt_d, real, labels, tc, cfg.latent_dim, gen)
                step += 1
                self.history.add(step, last)
                scores: dict[str, float] = {}
                if kid.due(step):
                    scores = kid.measure(kid_gen, lambda n: _eval_samples(g, seed_to_z(step, cfg.latent_dim, n),
                                                                          cfg.latent_dim, device),
                                         reporter.message)
                    self.history.add_scores(step, scores)
                preview, message = None, ""
                if step % tc.preview_every == 0 or step == tc.steps or step == start + 1:
                    g.eval()
                    with torch.no_grad():
                        imgs = g(preview_z.to(device)).cpu()
                    g.train()
                    div = meter.score(imgs) / real_div
                    metrics = {"diversity": round(div, 4)}
                    preview = tile(to_uint8(imgs), 4, 4)
                    if div < tc.collapse_threshold and step >= tc.collapse_warmup:
                        message = (f"warning: possible mode collapse (preview diversity {div:.2f} of the data's; "
                                   "try --ratio 1 or a lower --lr-g)")
                if step % tc.checkpoint_every == 0:
                    self._save_run(g, d, opt_g, opt_d, cfg, data.styles, step,
                                   wall_before + time.perf_counter() - t0)
                reporter.report(step, tc.steps, losses=last, preview=preview, metrics={**metrics, **scores},
                                message=message)
        except JobCancelled:
            self.history.flush(step)
            wall = wall_before + time.perf_counter() - t0
            self._save_run(g, d, opt_g, opt_d, cfg, data.styles, step, wall)
            card = self._save_model(g, d, cfg, data, step, wall, device, metrics, evaluate_now=False)
            raise cancelled_with({"card": str(card), "run_dir": str(self.run_dir), "step": step})
        wall = wall_before + time.perf_counter() - t0
        self.history.flush(step)
        self._save_run(g, d, opt_g, opt_d, cfg, data.styles, step, wall)
        reporter.message("evaluating the style head and samples…")
        card = self._save_model(g, d, cfg, data, step, wall, device, metrics, evaluate_now=True)
        return {"card": str(card), "run_dir": str(self.run_dir), "step": step}

    def _save_model(self, g, d, cfg: CANConfig, data: StyleData, step: int, wall: float, device,
                    metrics: dict[str, float], evaluate_now: bool) -> Path:
        m: dict[str, Any] = dict(metrics)
        if evaluate_now:
            m.update(evaluate(g, d, data, cfg, device, self.eval_samples))
        tensors = {**module_tensors("G", g), **module_tensors("D", d)}
        if self.tc.half:
            tensors = {k: (v.half() if v.is_floating_point() else v) for k, v in tensors.items()}
        tensors.update(index_tensors(data, self.tc.index_size, self.tc.seed))
        tensors.update(pca_tensors(g, cfg, device))
        licence = self.licence or read_licence(self.data_dir) or "not stated in the data folder"
        resumed = (f" Resumed with: {' | '.join(self.commands[1:])}." if len(self.commands) > 1 else "")
        notes = (f"CAN ({cfg.arch}); Adam G lr {self.tc.lr_g}, D lr {self.tc.lr_d}, G:D update ratio "
                 f"{self.tc.ratio}:1, batch {self.tc.batch}, ambiguity weight {self.tc.ambiguity_weight}, "
                 f"D input augmentation {self.tc.augment}; "
                 f"{int(round(self.tc.holdout * 100))}% of each style held out for evaluation." + resumed)
        card = ModelCard(name=self.name, family="can", config=cfg.to_dict(), image_size=cfg.image_size,
                         latent_dim=cfg.latent_dim, labels={"styles": list(data.styles)},
                         training=TrainingInfo(data=f"{self.data_dir}: {data.describe()}", licence=licence,
                                               command=self.commands[0] if self.commands else self.command,
                                               steps=step, wall_time_s=round(wall, 1),
                                               device=str(device), notes=notes),
                         metrics=m, extra={"train": dataclasses.asdict(self.tc), "commands": self.commands,
                                           "diversity_features": self._feature_kind,
                                           "loss_history": self.history.card_columns()})
        return save_checkpoint(self.out, tensors, card)
