"""CSGAN training on the shared Trainer: the paper's recipe on any folder of images.

This module holds only what is CSGAN's own: the options, the networks, one step of the recipe
(least squares on soft labels, D updated only above its loss threshold, stepwise learning-rate decay,
optional DiffAugment), the preview, the KID sources and the export (BatchNorm recalibration and
GANSpace directions). Run folder, resume, cadence, Cancel, precision, EMA and DDP are the Trainer's.

Options beyond the paper, each named and recorded in the card's ``extra["training_options"]`` (the
paper's recipe stays the default): the 128/256 px architectures of ``networks.py``;
``--discriminator projected`` (Sauer et al. 2021, ``studio.models.projected``: hinge loss, D stepped
every iteration, DiffAugment color,translation,cutout unless ``--augment`` says otherwise); and
``--r1 GAMMA`` (Mescheder et al. 2018: γ/2·E‖∇D(real)‖², lazily every ``--r1-every`` D updates and
weighted by that interval, as StyleGAN2 does) for the plain discriminator.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.core.checkpoint import ModelCard, module_tensors, save_checkpoint
from studio.core.errors import StudioError
from studio.core.grid import tile, to_uint8
from studio.core.latents import principal_directions, seed_to_z
from studio.core.paths import model_out_stem, runs_dir
from studio.models.diffaugment import POLICIES, diff_augment, parse_policy
from studio.models.projected import INPUT_SIZES, PROJECTION_SEED_OFFSET, check_input_option
from studio.train import KIDSource, RunSummary, TrainContext, Trainer, TrainerOptions, TrainingTask

from .data import load_folder, sample_batch
from .networks import ARCHS, CSGANConfig, Discriminator, Generator, dcgan_init
from .recipe import (
    D_OUTPUTS,
    LATE_DECAY_MODES,
    LOSSES,
    Recipe,
    d_scores,
    late_decay_on,
    lr_at_step,
    r1_penalty,
    set_lr,
    should_update_d,
    soft_labels,
    switch_step,
)

PREVIEW_SEED = 1234
DISCRIMINATORS = ("plain", "projected")


@dataclass
class CSGANOptions:
    """CSGAN's own options of ``studio train csgan`` (the shared ones are :class:`TrainerOptions`)."""

    data: str = ""
    arch: str = "dcgan64"
    width: float = 1.0
    out: str | None = None
    run_dir: str | None = None
    licence: str = "unknown"
    data_name: str = ""
    notes: str = ""
    fit: str = "crop"
    flip: bool = True
    pca_samples: int = 2048
    pca_k: int = 10
    bn_samples: int = 2048
    init: str = "pytorch"
    augment: str = "auto"  # auto = none with the plain D (the paper), color,translation,cutout with projected
    discriminator: str = "plain"
    projected_input: str = "224"  # the projected D's feature input: 224 (the paper's upsampling) or native
    r1: float = 0.0  # R1 gamma, 0 = off (the paper)
    r1_every: int = 16
    d_output: str = "linear"  # "sigmoid": a sigmoid on D's score before the loss (the authors' code)
    recipe: Recipe = field(default_factory=Recipe)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> CSGANOptions:
        known = {f.name for f in dataclasses.fields(cls)} - {"recipe"}
        opts = cls(**{k: v for k, v in options.items() if k in known and v is not None})
        rknown = {f.name for f in dataclasses.fields(Recipe)}
        opts.recipe = Recipe(**{k: v for k, v in options.items() if k in rknown and v is not None})
        return opts

    def validate(self, batch: int) -> None:
        if not self.data:
            raise StudioError("no training data: pass --data FOLDER")
        if self.arch not in ARCHS:
            raise StudioError(f"unknown architecture '{self.arch}' (use {' or '.join(ARCHS)})")
        if not (isinstance(self.width, (int, float)) and 0.01 <= float(self.width) <= 8):
            raise StudioError(f"--width must be between 0.01 and 8 (got {self.width!r})")
        if batch < 2:
            raise StudioError("--batch must be at least 2 (BatchNorm needs a batch)")
        if self.recipe.loss not in LOSSES:
            raise StudioError(f"unknown --loss '{self.recipe.loss}' (use {' or '.join(LOSSES)})")
        if not (self.recipe.lr > 0 and np.isfinite(self.recipe.lr)):
            raise StudioError(f"--lr must be a positive number (got {self.recipe.lr!r})")
        parse_policy(self.augment_policy())  # a bad policy raises a StudioError
        if self.discriminator not in DISCRIMINATORS:
            raise StudioError(f"unknown --discriminator '{self.discriminator}' (use {' or '.join(DISCRIMINATORS)})")
        check_input_option(self.projected_input, self.discriminator)
        if not (isinstance(self.r1, (int, float)) and np.isfinite(self.r1) and self.r1 >= 0):
            raise StudioError(f"--r1 must be a gamma ≥ 0 (got {self.r1!r}); 0 turns it off")
        if not (isinstance(self.r1_every, int) and self.r1_every >= 1):
            raise StudioError(f"--r1-every must be a whole number ≥ 1 (got {self.r1_every!r})")
        if self.r1 > 0 and self.discriminator == "projected":
            raise StudioError(
                "--r1 is for the plain discriminator; the projected discriminator is trained without it "
                "(as Sauer et al.)"
            )
        r = self.recipe
        if r.late_decay not in LATE_DECAY_MODES:
            raise StudioError(f"unknown --late-decay '{r.late_decay}' (use {', '.join(LATE_DECAY_MODES)})")
        if not (np.isfinite(r.late_after_epochs) and r.late_after_epochs >= 0):
            raise StudioError(f"--late-decay-epochs must be a number of epochs ≥ 0 (got {r.late_after_epochs!r})")
        for name in ("g_decay", "d_decay", "late_g_decay", "late_d_decay"):
            v = getattr(r, name)
            if not (np.isfinite(v) and 0 < v <= 1):
                raise StudioError(f"the learning-rate multiplier {name} must be in (0, 1] (got {v!r})")
        if self.d_output not in D_OUTPUTS:
            raise StudioError(f"unknown --d-output '{self.d_output}' (use {' or '.join(D_OUTPUTS)})")
        if self.d_output == "sigmoid" and (r.loss != "ls" or self.discriminator != "plain"):
            raise StudioError(
                "--d-output sigmoid is the authors' sigmoid + MSE: it goes with --loss ls and the plain "
                "discriminator (BCE applies its own sigmoid; the projected D uses the hinge loss)"
            )
        if self.init not in ("pytorch", "dcgan"):
            raise StudioError(f"unknown --init '{self.init}' (use pytorch or dcgan)")
        if self.fit not in ("crop", "pad"):
            raise StudioError(f"unknown --fit '{self.fit}' (use crop or pad)")
        if self.pca_samples < max(2, self.pca_k) or self.pca_k < 1:
            raise StudioError("--pca-samples must be at least --pca-k, and --pca-k at least 1")

    def augment_policy(self, discriminator: str | None = None) -> str:
        """``--augment`` with ``auto`` resolved for the discriminator in use."""
        if (self.augment or "auto") != "auto":
            return self.augment
        return ",".join(POLICIES) if (discriminator or self.discriminator) == "projected" else "none"

    def out_stem(self) -> Path:
        """Where the exported model goes (``studio.core.paths.model_out_stem``: a bare name goes to the
        user's model folder, a path with a '/' where it points)."""
        return model_out_stem(self.out, f"csgan-{self.arch}-{Path(self.data).name or 'data'}")

    def run_path(self) -> Path:
        return Path(self.run_dir) if self.run_dir else runs_dir() / self.out_stem().name


CANCEL_EXPORT_SAMPLES = 256  # samples for BN statistics and GANSpace when a cancelled run exports


def recalibrate_bn(
    gen: Generator, latent_dim: int, device: torch.device, samples: int = 2048, batch: int = 64, seed: int = 99
) -> Generator:
    """A copy of G whose BatchNorm running stats are exact averages over many fresh batches.

    Why: eval-mode rendering uses running stats, which during training lag behind the weights; a
    cumulative average over a few thousand samples makes eval images match train-mode images.
    """
    g = copy.deepcopy(gen)
    for m in g.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
    g.train()
    with torch.no_grad():
        for i in range(max(1, -(-samples // batch))):
            g(seed_to_z(seed + i, latent_dim, batch).to(device))
    for m in g.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.momentum = 0.1
    return g.eval()


def gan_space(
    gen: Generator, latent_dim: int, device: torch.device, samples: int, k: int, seed: int = 7
) -> tuple[torch.Tensor, torch.Tensor]:
    """GANSpace directions from G's first-layer activations over ``samples`` random codes."""
    z = seed_to_z(seed, latent_dim, samples)
    feats = []
    gen.eval()
    with torch.no_grad():
        for chunk in z.split(256):
            feats.append(gen.features(chunk.to(device)).flatten(1).float().cpu())
    return principal_directions(z, torch.cat(feats), k)


class CSGANTask(TrainingTask):
    """Train a CSGAN content generator (see the module docstring)."""

    family = "csgan"

    def __init__(self, options: CSGANOptions, trainer: TrainerOptions):
        self.options, self.trainer = options, trainer
        self.title = f"Train CSGAN ({options.arch}) on {Path(options.data).name or 'data'}"
        self.d_updates = 0
        self.last_r1 = float("nan")
        self.discriminator = options.discriminator
        self.d_output = options.d_output
        self.late_switch: int | None = None  # the step after which the late LR multipliers apply (or None)

    def steps_total(self) -> int:
        return self.trainer.steps

    def run_path(self) -> Path:
        return self.options.run_path()

    def out_path(self) -> Path:
        return self.options.out_stem()

    def config(self) -> dict[str, Any]:
        out = self.cfg.to_dict()
        out["discriminator"] = self.discriminator
        out["d_output"] = self.d_output
        if self.discriminator == "projected":
            out["projection_seed"] = self.projection_seed
            out["projected_input"] = self.projected_input
        return out

    def setup(self, ctx: TrainContext, saved: Mapping[str, Any] | None) -> None:
        o = self.options
        o.validate(self.trainer.batch)
        self.cfg = CSGANConfig(arch=o.arch, width=float(o.width))
        if saved is not None:
            self.cfg = CSGANConfig.from_dict(saved["config"])
            if self.cfg.arch != o.arch or abs(self.cfg.width - float(o.width)) > 1e-9:
                ctx.message(
                    f"resuming with the run's architecture {self.cfg.arch} × {self.cfg.width} "
                    f"(the options asked for {o.arch} × {o.width})"
                )
        self.discriminator = o.discriminator
        self.projection_seed = int(self.trainer.seed) + PROJECTION_SEED_OFFSET
        self.projected_input = o.projected_input
        if saved is not None:
            self.discriminator = str(saved["config"].get("discriminator", "plain"))
            self.projection_seed = int(saved["config"].get("projection_seed", self.projection_seed))
            if self.discriminator != o.discriminator:
                raise StudioError(
                    f"this run was trained with --discriminator {self.discriminator}; resume it with the same "
                    f"(the options asked for {o.discriminator})"
                )
            self.projected_input = str(saved["config"].get("projected_input", "224"))
            if self.discriminator == "projected" and self.projected_input != o.projected_input:
                raise StudioError(
                    f"this run was trained with --projected-input {self.projected_input}; resume it with the same "
                    f"(the options asked for {o.projected_input})"
                )
            self.d_output = str(saved["config"].get("d_output", "linear"))
            if self.d_output != o.d_output:
                raise StudioError(
                    f"this run was trained with --d-output {self.d_output}; resume it with the same "
                    f"(the options asked for {o.d_output})"
                )
        self.G = Generator(self.cfg)
        self.D: torch.nn.Module
        if self.discriminator == "projected":
            from studio.models.projected import FrozenEfficientNetLite0, ProjectedDiscriminator

            self.D = ProjectedDiscriminator(
                FrozenEfficientNetLite0(),
                self.cfg.image_size,
                self.cfg.width,
                self.projection_seed,
                input_size=INPUT_SIZES[self.projected_input],
            )
        else:
            self.D = Discriminator(self.cfg)
        if o.init == "dcgan" and saved is None:
            dcgan_init(self.G)
            if self.discriminator == "plain":
                dcgan_init(self.D)
        self.augment_policy = parse_policy(o.augment_policy(self.discriminator))
        ctx.message(f"loading images from {o.data}…")
        self.images = load_folder(
            o.data,
            self.cfg.image_size,
            o.fit,
            cache_dir=self.run_path() if ctx.is_main else None,  # one writer
            progress=ctx.message,
        )
        self.local_images = self.images[ctx.shard(self.images.shape[0])]
        r = o.recipe
        if late_decay_on(r.late_decay, self.cfg.arch):
            self.late_switch = switch_step(r.late_after_epochs, self.images.shape[0], self.trainer.batch)
            if saved is not None:  # the run's own switch step (its data or batch may have changed since)
                kept = (saved.get("task") or {}).get("late_decay_switch_step")
                if kept is not None and int(kept) != self.late_switch:
                    ctx.message(
                        f"the learning-rate multipliers change at step {int(kept)}, as when this run started "
                        f"(its data and batch now would give step {self.late_switch})"
                    )
                    self.late_switch = int(kept)
        ctx.message(
            f"{self.images.shape[0]} images of {self.cfg.image_size} px; training on {ctx.device} "
            f"({self.trainer.precision})"
        )
        self.preview_z = seed_to_z(PREVIEW_SEED, self.cfg.latent_dim, 16)

    def networks(self) -> dict[str, torch.nn.Module]:
        return {"G": self.G, "D": self.D}

    def ema_networks(self) -> tuple[str, ...]:
        return ("G",)

    def optimizers(self, phase: str) -> dict[str, torch.optim.Optimizer]:
        r = self.options.recipe
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=r.lr, betas=(r.beta1, r.beta2))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=r.lr, betas=(r.beta1, r.beta2))
        return {"G": self.opt_g, "D": self.opt_d}

    def state(self) -> dict[str, Any]:
        return {
            "d_updates": self.d_updates,
            "last_r1": self.last_r1 if np.isfinite(self.last_r1) else None,
            "late_decay_switch_step": self.late_switch,
        }

    def learning_rates(self, step: int) -> tuple[float, float]:
        """(G, D) learning rates after ``step`` completed iterations: the recipe's stepwise decay, with the
        LSGAN schedule's late multipliers after :attr:`late_switch` (a pure function of the step)."""
        r = self.options.recipe
        sw = self.late_switch
        return (
            lr_at_step(step, r.lr, r.g_decay, r.decay_every, sw, r.late_g_decay),
            lr_at_step(step, r.lr, r.d_decay, r.decay_every, sw, r.late_d_decay),
        )

    def load_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> None:
        self.d_updates = int(state.get("d_updates", 0))
        last = state.get("last_r1")
        self.last_r1 = float(last) if last is not None else float("nan")

    # -- one step --------------------------------------------------------------------------------
    def _augment(self, x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """DiffAugment of D's inputs (``--augment``), random per image from the run's RNG."""
        return diff_augment(x, self.augment_policy, rng) if self.augment_policy else x

    def _begin_step(self, ctx: TrainContext) -> tuple[int, torch.Tensor, torch.Tensor]:
        """This step's learning rates (the recipe's decay), a real batch and codes, from the run's RNG."""
        n = ctx.local_batch(self.trainer.batch)
        real = ctx.to_device(sample_batch(self.local_images, n, ctx.rng, self.options.flip))
        lr_g, lr_d = self.learning_rates(ctx.step)
        set_lr(self.opt_g, lr_g)
        set_lr(self.opt_d, lr_d)
        z = torch.randn(n, self.cfg.latent_dim, generator=ctx.rng).to(ctx.device)
        return n, real, z

    def train_step(self, ctx: TrainContext) -> dict[str, float]:
        """One iteration of the recipe: a D update (only above the threshold), then a G update."""
        if self.discriminator == "projected":
            return self._projected_step(ctx)
        r = self.options.recipe
        rng = ctx.rng
        n, real, z = self._begin_step(ctx)
        real_t = soft_labels(n, r.real_label, rng, ctx.device)
        fake_t = soft_labels(n, r.fake_label, rng, ctx.device)
        gan_loss = LOSSES[r.loss]
        out = self.d_output
        with ctx.autocast():
            fake = self.G(z)
            # D: pulled towards soft labels; stepped only while its loss is above the threshold
            real_seen = self._augment(real, rng)
            d_loss = gan_loss(d_scores(self.D(real_seen), out), real_t) + gan_loss(
                d_scores(self.D(self._augment(fake.detach(), rng)), out), fake_t
            )
        d_value = float(d_loss.detach())
        if ctx.dist.enabled:  # every rank must take the same decision, or the parameters drift apart
            d_value = ctx.dist.mean(d_value, ctx.device)
        updated = should_update_d(d_value, r.d_threshold)
        if updated:
            o = self.options
            if o.r1 > 0 and self.d_updates % o.r1_every == 0:
                # lazy R1 on the real images as D saw them, in float32, weighted by its interval
                penalty = r1_penalty(self.D, real_seen)
                self.last_r1 = float(penalty.detach())
                d_loss = d_loss + (0.5 * o.r1 * o.r1_every) * penalty
            self.opt_d.zero_grad(set_to_none=True)
            ctx.backward(d_loss)
            ctx.step_optimizer(self.opt_d)
            self.d_updates += 1
        # G: make D score its images as real
        self.D.requires_grad_(False)
        with ctx.autocast():
            g_loss = gan_loss(d_scores(self.D(self._augment(fake, rng)), out), 1.0)
        self.opt_g.zero_grad(set_to_none=True)
        ctx.backward(g_loss)
        ctx.step_optimizer(self.opt_g)
        self.D.requires_grad_(True)
        return {"d": d_value, "g": float(g_loss.detach()), "d_step": 1.0 if updated else 0.0}

    def _projected_step(self, ctx: TrainContext) -> dict[str, float]:
        """Sauer et al.'s step: hinge loss on the projected D, D then G, both every iteration (no soft
        labels, no threshold); the learning-rate schedule is the recipe's."""
        from studio.models.projected import hinge_d_loss, hinge_g_loss

        rng = ctx.rng
        n, real, z = self._begin_step(ctx)
        with ctx.autocast():
            fake = self.G(z)
            d_loss = hinge_d_loss(self.D(self._augment(real, rng)), self.D(self._augment(fake.detach(), rng)))
        self.opt_d.zero_grad(set_to_none=True)
        ctx.backward(d_loss)
        ctx.step_optimizer(self.opt_d)
        self.d_updates += 1
        self.D.requires_grad_(False)
        with ctx.autocast():
            g_loss = hinge_g_loss(self.D(self._augment(fake, rng)))
        self.opt_g.zero_grad(set_to_none=True)
        ctx.backward(g_loss)
        ctx.step_optimizer(self.opt_g)
        self.D.requires_grad_(True)
        d_value = float(d_loss.detach())
        if ctx.dist.enabled:
            d_value = ctx.dist.mean(d_value, ctx.device)
        return {"d": d_value, "g": float(g_loss.detach()), "d_step": 1.0}

    def step_metrics(self, ctx: TrainContext) -> dict[str, float]:
        out = {"d_update_fraction": self.d_updates / max(1, ctx.step), "lr_g": self.opt_g.param_groups[0]["lr"]}
        if self.options.r1 > 0:
            out["r1"] = self.last_r1
        return out

    def training_options(self) -> dict[str, Any]:
        """The card's ``extra["training_options"]``: every option beyond the paper's recipe, named."""
        o = self.options
        disc: dict[str, Any] = {"kind": self.discriminator}
        if self.discriminator == "projected":
            from studio.models.projected import ProjectedDiscriminator, describe

            assert isinstance(self.D, ProjectedDiscriminator)
            disc.update(
                describe(self.D),
                loss="hinge",
                d_threshold="not used (D is stepped every iteration)",
                soft_labels="not used",
            )
        else:
            disc.update(
                loss=o.recipe.loss,
                d_threshold=o.recipe.d_threshold,
                output=self.d_output,
                output_note=(
                    "sigmoid before the MSE, as the CSGAN authors' code"
                    if self.d_output == "sigmoid"
                    else "raw score into the loss, as Mao et al.'s LSGAN (the paper's text)"
                ),
            )
        r = o.recipe
        return {
            "lr_schedule": {
                "decay_every": r.decay_every,
                "multipliers": {"G": r.g_decay, "D": r.d_decay},
                "late_decay": r.late_decay,
                "late_multipliers": (
                    {"G": r.late_g_decay, "D": r.late_d_decay, "after_epochs": r.late_after_epochs}
                    if self.late_switch is not None
                    else None
                ),
                "late_decay_switch_step": self.late_switch,
                "paper": "§4: ×0.9 G / ×0.85 D every 1000 iterations; LSGAN: ×0.95 / ×0.9 after 16 epochs",
            },
            "arch": self.cfg.arch,
            "image_size": self.cfg.image_size,
            "width": self.cfg.width,
            "discriminator": disc,
            "r1": (
                {"gamma": o.r1, "every": o.r1_every, "paper": "Mescheder et al. 2018 (lazy, as StyleGAN2)"}
                if o.r1 > 0
                else None
            ),
            "augment": ",".join(self.augment_policy) or "none",
            "ema": self.trainer.ema or None,
            "init": o.init,
            "precision": self.trainer.precision,
        }

    # -- looking at the model --------------------------------------------------------------------
    def preview(self, ctx: TrainContext) -> np.ndarray:
        self.G.eval()
        with torch.no_grad(), ctx.autocast():
            img = self.G(self.preview_z.to(ctx.device))
        self.G.train()
        return tile(to_uint8((img.float().cpu() + 1) / 2), 4, 4, pad=1)

    def _samples(self, ctx: TrainContext, n: int) -> torch.Tensor:
        """``n`` samples of the generator as it is now, with batch statistics (what the exported model,
        whose BatchNorm is recalibrated, will draw); the running statistics are left untouched."""
        gen = ctx.export_module("G")
        z = torch.randn(n, self.cfg.latent_dim, generator=torch.Generator().manual_seed(ctx.step)).to(ctx.device)
        buffers = {k: v.clone() for k, v in gen.state_dict().items() if "running_" in k or "num_batches" in k}
        was = gen.training
        gen.train()
        with ctx.autocast():
            img = gen(z).float()
        gen.train(was)
        gen.load_state_dict(buffers, strict=False)
        return img

    def kid_sources(self, ctx: TrainContext) -> list[KIDSource]:
        # the same reference images at every measurement, from an RNG of their own (resume stays exact)
        return [
            KIDSource(
                lambda n: sample_batch(self.images, n, torch.Generator().manual_seed(PREVIEW_SEED), False),
                lambda n: self._samples(ctx, n),
            )
        ]

    # -- export ------------------------------------------------------------------------------------
    def export(self, ctx: TrainContext, summary: RunSummary) -> Path:
        o = self.options
        bn_samples, pca_samples = o.bn_samples, o.pca_samples
        if summary.status == "cancelled":
            # the user is waiting for the stop: BN statistics and directions from fewer samples (seconds,
            # not a minute on a CPU); the card says so, and a resumed run's final export uses them all
            bn_samples = min(bn_samples, CANCEL_EXPORT_SAMPLES)
            pca_samples = min(pca_samples, max(CANCEL_EXPORT_SAMPLES, o.pca_k + 1))
        if summary.finished:
            ctx.message("computing principal directions (GANSpace)…")
        source = ctx.export_module("G")
        assert isinstance(source, Generator)  # G itself, or its EMA copy
        gen = recalibrate_bn(source, self.cfg.latent_dim, ctx.device, bn_samples, batch=min(64, max(2, bn_samples)))
        gen.to(memory_format=torch.contiguous_format)
        dirs, stds = gan_space(gen, self.cfg.latent_dim, ctx.device, pca_samples, o.pca_k)
        tensors = module_tensors("G", gen)
        tensors["pca.directions"] = dirs
        tensors["pca.stds"] = stds
        notes = o.notes or ""
        if self.discriminator == "projected":
            notes = (notes + "; " if notes else "") + (
                "projected discriminator on frozen EfficientNet-Lite0 features (not the MobileNetV2 of the "
                "FID/KID metrics)"
            )
        if self.cfg.width != 1.0:
            notes = (notes + " " if notes else "") + (
                f"width multiplier {self.cfg.width:g} (channel counts scaled from the paper's)"
            )
        stem = o.out_stem()
        card = ModelCard(
            name=stem.name,
            family="csgan",
            config=self.cfg.to_dict(),
            image_size=self.cfg.image_size,
            latent_dim=self.cfg.latent_dim,
            training=ctx.training_info(summary, o.data_name or str(o.data), o.licence, notes),
            metrics={
                "final_losses": {k: round(float(v), 5) for k, v in summary.losses.items()},
                "d_update_fraction": round(self.d_updates / max(1, summary.step), 4),
            },
            extra={
                "recipe": dataclasses.asdict(o.recipe),
                "training_options": self.training_options(),
                "batch": self.trainer.batch,
                "precision": self.trainer.precision,
                "pca_samples": pca_samples,
                "bn_samples": bn_samples,
                "gan_space_layer": "first layer (Linear→BN→ReLU)",
                "training_run": ctx.training_record(summary),
                "loss_history": summary.history,
            },
        )
        return save_checkpoint(stem, tensors, card)


def CSGANTrainJob(**options: Any) -> Trainer:
    """``studio train csgan``: the CSGAN task on the shared Trainer (options as parsed by the CLI)."""
    trainer = TrainerOptions.from_mapping(options, steps=2000, batch=64, checkpoint_every=500, preview_every=100)
    return Trainer(CSGANTask(CSGANOptions.from_options(options), trainer), trainer)
