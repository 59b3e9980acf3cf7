"""CAN training on the shared Trainer (``studio train can --data DIR``).

This module holds only what is CAN's own: its options, the two networks, one step of the report's
recipe (one discriminator update — real/fake plus style cross-entropy on real images — then ``ratio``
generator updates with the style-ambiguity loss), the preview with its diversity score and mode-collapse
warning, the KID sources, and the export: a model card with the style names as labels, the data and its
licence, the evaluation measured at the end (held-out style accuracy vs chance, mean style entropy of
samples vs real images), a balanced index of training images and GANSpace directions. The run folder,
resume, cadence, time limit, Cancel, NaN stop, precision, EMA and DDP are the Trainer's
(``studio/train``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.core.checkpoint import ModelCard, module_tensors, save_checkpoint
from studio.core.errors import CheckpointError, StudioError
from studio.core.grid import tile, to_uint8
from studio.core.latents import principal_directions, seed_to_z
from studio.core.paths import model_out_stem, runs_dir
from studio.models.diffaugment import diff_augment, parse_policy
from studio.models.projected import INPUT_SIZES, PROJECTION_SEED_OFFSET
from studio.train import (
    KIDSource,
    RunSummary,
    TrainContext,
    Trainer,
    TrainerOptions,
    TrainingTask,
)

from .config import CANConfig, TrainConfig
from .data import StyleData, load_style_folder, read_licence
from .diversity import DiversityMeter
from .losses import ambiguity_loss, discriminator_loss, entropy, generator_loss, style_classification_loss
from .networks import build_networks

PREVIEW_SEED = 20170621  # the CAN paper's arXiv date: fixed codes so previews are comparable over time
SAMPLE_SEED = 777
# the CANConfig fields a user chooses (num_styles comes from the data)
ARCH_FIELDS = ("arch", "image_size", "width", "fc_dim", "latent_dim", "output_map", "kernel")
AMBIGUITY_NOTES = {
    "sigmoid-eq3": "report eq. 3: per-class sigmoid style outputs, one-vs-all style BCE for D",
    "softmax-ce": "not the report's: softmax style head, CE to the uniform posterior",
}
LOSS_NAMES = ("d_loss", "g_loss", "d_real", "d_fake", "d_style", "g_adv", "g_ambiguity", "style_acc")


@dataclass
class CANOptions:
    """CAN's own options of ``studio train can`` (the shared ones are :class:`TrainerOptions`)."""

    data: str = ""
    name: str = "can"
    out: str | None = None
    run_dir: str | None = None
    licence: str = ""
    max_per_style: int = 0
    arch: str = "report"
    image_size: int = 64
    width: float = 1.0
    fc_dim: int = 1024
    latent_dim: int = 100
    output_map: str = "minmax"
    kernel: int = 5
    use_vgg: bool = True
    init_generator: str = ""  # a csgan fastgan model whose generator starts a new --arch fastgan run
    eval_samples: int = 512
    ambiguity_given: bool = False  # --ambiguity was given (a resumed run's own form gives way otherwise)
    recipe: TrainConfig = field(default_factory=TrainConfig)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> CANOptions:
        known = {f.name for f in dataclasses.fields(cls)} - {"recipe"}
        opts = cls(**{k: v for k, v in options.items() if k in known and v is not None})
        rknown = {f.name for f in dataclasses.fields(TrainConfig)}
        given = {k: v for k, v in options.items() if k in rknown and v is not None}
        if given.get("ambiguity") == "auto":  # the run's own form on resume, the default otherwise
            del given["ambiguity"]
        opts.recipe = TrainConfig(**given)
        opts.ambiguity_given = "ambiguity" in given
        return opts

    def architecture(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ARCH_FIELDS}

    def out_stem(self) -> Path:
        """Where the exported model goes (``studio.core.paths.model_out_stem``; default: ``NAME`` in the
        user's model folder)."""
        return model_out_stem(self.out, self.name)

    def run_path(self) -> Path:
        return Path(self.run_dir) if self.run_dir else runs_dir() / self.name


# -- measuring and exporting a generator ----------------------------------------------------------------
@torch.no_grad()
def sample_images(g, seeds_or_z, latent_dim: int, device, batch: int = 128) -> torch.Tensor:
    z = seeds_or_z if isinstance(seeds_or_z, torch.Tensor) else seed_to_z(seeds_or_z, latent_dim, 512)
    outs = []
    for i in range(0, z.shape[0], batch):
        outs.append(g(z[i : i + batch].to(device)).float().cpu())
    return torch.cat(outs)


@torch.no_grad()
def _eval_samples(g, z: torch.Tensor, latent_dim: int, device) -> torch.Tensor:
    """Samples in [0, 1] of the generator as users will see it (eval mode); its mode is left as it was."""
    was = g.training
    g.eval()
    out = sample_images(g, z, latent_dim, device)
    g.train(was)
    return out


@torch.no_grad()
def evaluate(g, d, data: StyleData, cfg: CANConfig, device, n_samples: int = 512) -> dict[str, float]:
    """Held-out style accuracy (vs chance) and mean style entropy of samples vs real images."""
    modes = g.training, d.training
    g.eval(), d.eval()
    held_x, held_y = data.held_images, data.held_labels
    if held_x.shape[0] == 0:  # no hold-out asked for: measure on (seen) training images, and say so
        held_x, held_y = data.images[:512], data.labels[:512]
    logits = torch.cat(
        [
            d.style_logits(held_x[i : i + 256].to(device).float() / 255.0).float().cpu()
            for i in range(0, held_x.shape[0], 256)
        ]
    )
    acc = float((logits.argmax(1) == held_y).float().mean())
    counts = torch.bincount(held_y, minlength=cfg.num_styles).float()
    z = seed_to_z(SAMPLE_SEED, cfg.latent_dim, n_samples)
    fake = sample_images(g, z, cfg.latent_dim, device)
    fake_logits = torch.cat(
        [d.style_logits(fake[i : i + 256].to(device)).float().cpu() for i in range(0, n_samples, 256)]
    )
    g.train(modes[0]), d.train(modes[1])
    return {
        "style_accuracy_heldout": round(acc, 4),
        "style_accuracy_chance": round(float(counts.max() / counts.sum()), 4),
        "heldout_images": int(held_x.shape[0]),
        "entropy_samples_mean": round(float(entropy(fake_logits).mean()), 4),
        "entropy_real_mean": round(float(entropy(logits).mean()), 4),
        "entropy_max_logK": round(math.log(cfg.num_styles), 4),
    }


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


@torch.no_grad()
def pca_tensors(g, cfg: CANConfig, device, k: int = 8, n: int = 512) -> dict[str, torch.Tensor]:
    """GANSpace directions from the generator's first hidden layer, for the latent sliders."""
    z = seed_to_z(4242, cfg.latent_dim, n)
    feats = g.latent_features(z.to(device)).float().cpu()
    dirs, stds = principal_directions(z, feats, k)
    return {"pca.directions": dirs, "pca.stds": stds}


# -- the task -------------------------------------------------------------------------------------------
class CANTask(TrainingTask):
    """Train a CAN on a folder of style subfolders (see the module docstring)."""

    family = "can"

    def __init__(self, options: CANOptions, trainer: TrainerOptions):
        self.options, self.trainer = options, trainer
        self.title = f"Train CAN '{options.name}'"
        self.meter: DiversityMeter | None = None
        self.real_diversity = 1.0
        self.diversity: float | None = None  # of the last preview, relative to real images

    def steps_total(self) -> int:
        return self.trainer.steps

    def run_path(self) -> Path:
        return self.options.run_path()

    def out_path(self) -> Path:
        return self.options.out_stem()

    def config(self) -> dict[str, Any]:
        return {**self.cfg.to_dict(), "styles": list(self.data.styles)}

    def _architecture(self, ctx: TrainContext, saved: Mapping[str, Any] | None) -> dict[str, Any]:
        """The options' architecture, or the saved run's when resuming. An option left at its default gives
        way to the run's value; one set to something else than the run has is refused."""
        asked = self.options.architecture()
        if saved is None:
            return asked
        try:
            run = CANConfig.from_dict(saved.get("config") or {}).to_dict()
        except (StudioError, TypeError, ValueError) as exc:
            raise CheckpointError(self.run_path(), f"the saved CAN architecture is invalid ({exc})") from exc
        default = CANOptions().architecture()
        clash = [
            f"--{k.replace('_', '-')} {asked[k]} (the run has {run[k]})"
            for k in ARCH_FIELDS
            if asked[k] != run[k] and asked[k] != default[k]
        ]
        if clash:
            raise StudioError(
                f"{self.run_path()}: the run was trained with another architecture: "
                f"{', '.join(clash)}. Leave these options out to continue it, or start a new "
                "--run-dir"
            )
        differ = [f"{k} {run[k]}" for k in ARCH_FIELDS if asked[k] != run[k]]
        if differ:
            ctx.message(f"resuming with the run's architecture ({', '.join(differ)})")
        return {k: run[k] for k in ARCH_FIELDS}

    def _ambiguity(self, ctx: TrainContext, saved: Mapping[str, Any] | None) -> None:
        """A run keeps the ambiguity loss it was trained with: ``--ambiguity`` not given gives way to the
        run's (runs from before the option trained with ``softmax-ce``); another value is refused."""
        if saved is None:
            return
        r = self.options.recipe
        run = str((saved.get("task") or {}).get("ambiguity", "softmax-ce"))
        if run == r.ambiguity:
            return
        if self.options.ambiguity_given:
            raise StudioError(
                f"{self.run_path()}: the run was trained with --ambiguity {run}; resume it with the same "
                f"(the options asked for {r.ambiguity}), or start a new --run-dir"
            )
        r.ambiguity = run
        ctx.message(f"resuming with the run's ambiguity loss {run}")

    def _discriminator(self, saved: Mapping[str, Any] | None) -> None:
        """A run keeps its real/fake judge: resuming with another ``--discriminator`` is refused."""
        if saved is None:
            return
        task, r = saved.get("task") or {}, self.options.recipe
        for flag, key, default, asked in (
            ("--discriminator", "discriminator", "plain", r.discriminator),
            ("--projected-input", "projected_input", "224", r.projected_input),
        ):
            run = str(task.get(key, default))
            if run != asked:
                raise StudioError(
                    f"{self.run_path()}: the run was trained with {flag} {run}; resume it with the same "
                    f"(the options asked for {asked}), or start a new --run-dir"
                )

    def _build_projected(self) -> None:
        """The projected real/fake judge (``studio.models.projected``), seeded from the run's seed."""
        from studio.models.projected import FrozenEfficientNetLite0, ProjectedDiscriminator

        self.projection_seed = self.trainer.seed + PROJECTION_SEED_OFFSET
        self.P: torch.nn.Module | None = ProjectedDiscriminator(
            FrozenEfficientNetLite0(),
            self.cfg.image_size,
            min(1.0, self.cfg.width),
            self.projection_seed,
            input_size=INPUT_SIZES[self.options.recipe.projected_input],
        )
        self.p_policy = parse_policy(self.options.recipe.projected_augment)

    def setup(self, ctx: TrainContext, saved: Mapping[str, Any] | None) -> None:
        o, r = self.options, self.options.recipe
        if not o.data:
            raise StudioError("training a CAN needs --data DIR (one subfolder of images per style)")
        self._ambiguity(ctx, saved)
        self._discriminator(saved)
        arch = self._architecture(ctx, saved)
        ctx.message(f"loading styles from {o.data}…")
        data = load_style_folder(o.data, int(arch["image_size"]), r.holdout, self.trainer.seed, o.max_per_style)
        if data.images.shape[0] == 0:
            raise StudioError(f"{o.data}: no training images left after the hold-out")
        if saved is not None:
            styles = (saved.get("config") or {}).get("styles")
            if styles != data.styles:
                raise StudioError(
                    f"{self.run_path()}: the run was trained on styles {styles}, but {o.data} holds {data.styles}"
                )
        self.data = data
        self.cfg = CANConfig(num_styles=len(data.styles), **arch)
        self.G, self.D = build_networks(self.cfg)
        self._start_generator(ctx, saved)
        self.P = None
        if r.discriminator == "projected":
            self._build_projected()
        self.local_idx = ctx.shard(data.images.shape[0])  # this rank's share of the images
        self.policy = parse_policy(r.augment)
        self.preview_z = seed_to_z(PREVIEW_SEED, self.cfg.latent_dim, 16)
        ctx.message(
            f"data: {data.describe()}" + (f"; {len(data.skipped)} unreadable files skipped" if data.skipped else "")
        )

    def _start_generator(self, ctx: TrainContext, saved: Mapping[str, Any] | None) -> None:
        """``--init-generator``: a new run's G from a trained csgan FastGAN (``init_generator.py``); a resumed
        run keeps its own G and the record of where it started."""
        self.init_record: dict[str, Any] | None = None
        if saved is not None:
            self.init_record = (saved.get("task") or {}).get("init_generator")
            if self.options.init_generator and not self.init_record:
                ctx.message("--init-generator is ignored: the run being resumed started without it")
            return
        if self.options.init_generator:
            from .init_generator import init_generator

            self.init_record = init_generator(self.G, self.options.init_generator, self.cfg)
            ctx.message(
                f"generator started from {self.init_record['model']} ({self.init_record['steps']} steps); "
                "the discriminator starts fresh"
            )

    def networks(self) -> dict[str, torch.nn.Module]:
        return {"G": self.G, "D": self.D, **({"P": self.P} if self.P is not None else {})}

    def state(self) -> dict[str, Any]:
        r = self.options.recipe
        return {
            "ambiguity": r.ambiguity,
            "discriminator": r.discriminator,
            "projected_input": r.projected_input,
            "init_generator": self.init_record,
        }

    def ema_networks(self) -> tuple[str, ...]:
        return ("G",)

    def optimizers(self, phase: str) -> dict[str, torch.optim.Optimizer]:
        r = self.options.recipe
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=r.lr_g, betas=(r.beta1, r.beta2))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=r.lr_d, betas=(r.beta1, r.beta2))
        if self.P is None:
            return {"G": self.opt_g, "D": self.opt_d}
        self.opt_p = torch.optim.Adam(self.P.parameters(), lr=r.lr_d, betas=(r.beta1, r.beta2))
        return {"G": self.opt_g, "D": self.opt_d, "P": self.opt_p}

    def start_phase(self, ctx: TrainContext) -> None:
        """The learning rates of the command line win over the saved ones when resuming."""
        r = self.options.recipe
        pairs = [(self.opt_g, r.lr_g), (self.opt_d, r.lr_d)] + ([(self.opt_p, r.lr_d)] if self.P is not None else [])
        for opt, lr in pairs:
            for group in opt.param_groups:
                group["lr"] = lr

    # -- one step ----------------------------------------------------------------------------------------
    def _augment(self, x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """What D sees (both heads), real and fake alike: DiffAugment (``--augment``) from the run's RNG."""
        return diff_augment(x, self.policy, rng) if self.policy else x

    def _draw(self, ctx: TrainContext) -> tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(n, real, labels, fake) for one step: a uniform random minibatch of this rank's images (as the
        report did), floats in [0, 1], and as many samples of G without gradients."""
        n = ctx.local_batch(self.trainer.batch)
        pick = self.local_idx[torch.randint(0, self.local_idx.numel(), (n,), generator=ctx.rng)]
        real = ctx.to_device(self.data.images[pick]).float().div_(255.0)
        labels = ctx.to_device(self.data.labels[pick])
        z = torch.randn(n, self.cfg.latent_dim, generator=ctx.rng).to(ctx.device)
        with torch.no_grad(), ctx.autocast():
            fake = self.G(z)
        return n, real, labels, fake

    def _judge(self, x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """The projected D's logits for images in [0, 1] (it reads [-1, 1]), after its own DiffAugment."""
        assert self.P is not None
        x = x * 2.0 - 1.0
        return self.P(diff_augment(x, self.p_policy, rng) if self.p_policy else x)

    def _projected_step(self, ctx: TrainContext) -> dict[str, float]:
        """CAN with a projected real/fake judge: D learns only the styles of real images (its real/fake head
        is unused), P the hinge real/fake loss; G fools P and is style-ambiguous to D (eq. 3 by default)."""
        from studio.models.projected import hinge_g_loss

        r = self.options.recipe
        rng, g, d, p = ctx.rng, self.G, self.D, self.P
        assert p is not None
        n, real, labels, fake = self._draw(ctx)
        self.opt_d.zero_grad(set_to_none=True)
        self.opt_p.zero_grad(set_to_none=True)
        with ctx.autocast():
            _, real_style = d(self._augment(real, rng))
            p_real, p_fake = self._judge(real, rng).float(), self._judge(fake, rng).float()
        d_style = style_classification_loss(real_style.float(), labels, r.ambiguity)
        d_real, d_fake = torch.relu(1.0 - p_real).mean(), torch.relu(1.0 + p_fake).mean()
        d_total = d_real + d_fake + r.style_weight * d_style
        ctx.backward(d_total)
        ctx.step_optimizer(self.opt_d)
        ctx.step_optimizer(self.opt_p)
        d.requires_grad_(False)
        p.requires_grad_(False)
        try:
            for _ in range(r.ratio):
                z = torch.randn(n, self.cfg.latent_dim, generator=rng).to(ctx.device)
                self.opt_g.zero_grad(set_to_none=True)
                with ctx.autocast():
                    x = g(z)
                    adv = hinge_g_loss(self._judge(x, rng))
                    _, fs = d(self._augment(x, rng))
                amb = ambiguity_loss(fs.float(), r.ambiguity)
                g_total = adv + r.ambiguity_weight * amb
                ctx.backward(g_total)
                ctx.step_optimizer(self.opt_g)
        finally:
            d.requires_grad_(True)
            p.requires_grad_(True)
            p.feature_network.requires_grad_(False)  # the frozen network stays frozen
        with torch.no_grad():
            acc = (real_style.argmax(1) == labels).float().mean()
            parts = [d_total, g_total, d_real, d_fake, d_style, adv, amb, acc]
            values = torch.stack([v.detach().float() for v in parts]).cpu().tolist()
        return dict(zip(LOSS_NAMES, values))

    def train_step(self, ctx: TrainContext) -> dict[str, float]:
        """One CAN step: a D update on (real, fake) + style CE on real, then ``ratio`` G updates."""
        if self.P is not None:
            return self._projected_step(ctx)
        r = self.options.recipe
        rng, g, d = ctx.rng, self.G, self.D
        n, real, labels, fake = self._draw(ctx)
        self.opt_d.zero_grad(set_to_none=True)
        with ctx.autocast():
            real_logit, real_style = d(self._augment(real, rng))
            fake_logit, _ = d(self._augment(fake, rng))
        dl = discriminator_loss(
            real_logit.float(), real_style.float(), labels, fake_logit.float(), r.style_weight, r.ambiguity
        )
        ctx.backward(dl["total"])
        ctx.step_optimizer(self.opt_d)
        d.requires_grad_(False)  # G steps only need gradients through D, not for it
        try:
            for _ in range(r.ratio):
                z = torch.randn(n, self.cfg.latent_dim, generator=rng).to(ctx.device)
                self.opt_g.zero_grad(set_to_none=True)
                with ctx.autocast():
                    fl, fs = d(self._augment(g(z), rng))
                gl = generator_loss(fl.float(), fs.float(), r.ambiguity_weight, r.ambiguity)
                ctx.backward(gl["total"])
                ctx.step_optimizer(self.opt_g)
        finally:
            d.requires_grad_(True)
        with torch.no_grad():
            acc = (real_style.argmax(1) == labels).float().mean()
            values = (
                torch.stack(
                    [
                        dl["total"],
                        gl["total"],
                        dl["d_real"],
                        dl["d_fake"],
                        dl["d_style"],
                        gl["g_adv"],
                        gl["g_ambiguity"],
                        acc,
                    ]
                )
                .detach()
                .float()
                .cpu()
                .tolist()
            )
        return dict(zip(LOSS_NAMES, values))

    def step_metrics(self, ctx: TrainContext) -> dict[str, float]:
        return {} if self.diversity is None else {"diversity": self.diversity}

    # -- looking at the model ----------------------------------------------------------------------------
    def _meter(self, ctx: TrainContext) -> DiversityMeter:
        """The diversity meter, built at the first preview (it loads VGG-19), with the real images' score."""
        if self.meter is None:
            self.meter = DiversityMeter(ctx.device, use_vgg=self.options.use_vgg)
            images = self.data.images
            ref = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(1))[:16]
            self.real_diversity = self.meter.score(images[ref].float() / 255.0) or 1.0
        return self.meter

    def preview(self, ctx: TrainContext) -> np.ndarray:
        """A 4×4 grid of fixed codes, and the mode-collapse watch: their diversity relative to real images."""
        g = self.G
        g.eval()
        with torch.no_grad(), ctx.autocast():
            imgs = g(self.preview_z.to(ctx.device)).float().cpu()
        g.train()
        div = self._meter(ctx).score(imgs) / self.real_diversity
        self.diversity = round(div, 4)
        r = self.options.recipe
        if div < r.collapse_threshold and ctx.step >= r.collapse_warmup:
            ctx.message(
                f"warning: possible mode collapse at step {ctx.step} (preview diversity {div:.2f} of "
                "the data's; try --ratio 1 or a lower --lr-g)"
            )
        return tile(to_uint8(imgs), 4, 4)

    def kid_sources(self, ctx: TrainContext) -> list[KIDSource]:
        images = self.data.images

        def reference(n: int) -> torch.Tensor:  # the same images at every measurement (own RNG)
            idx = torch.randint(0, images.shape[0], (n,), generator=torch.Generator().manual_seed(PREVIEW_SEED))
            return images[idx].float() / 255.0

        def samples(n: int) -> torch.Tensor:  # what the exported generator draws, in eval mode
            return _eval_samples(
                ctx.export_module("G"), seed_to_z(ctx.step, self.cfg.latent_dim, n), self.cfg.latent_dim, ctx.device
            )

        return [KIDSource(reference, samples, value_range=(0.0, 1.0))]

    # -- export ------------------------------------------------------------------------------------------
    def export(self, ctx: TrainContext, summary: RunSummary) -> Path:
        o, r, cfg, data = self.options, self.options.recipe, self.cfg, self.data
        g, d = ctx.export_module("G"), self.D
        metrics: dict[str, Any] = {} if self.diversity is None else {"diversity": self.diversity}
        if summary.status != "cancelled":  # a cancelled run exports at once; a finished one is measured
            ctx.message("evaluating the style head and samples…")
            metrics.update(evaluate(g, d, data, cfg, ctx.device, o.eval_samples))
        tensors = {**module_tensors("G", g), **module_tensors("D", d)}
        if r.half:
            tensors = {k: (v.half() if v.is_floating_point() else v) for k, v in tensors.items()}
        tensors.update(index_tensors(data, r.index_size, self.trainer.seed))
        tensors.update(pca_tensors(g, cfg, ctx.device))
        licence = o.licence or read_licence(o.data) or "not stated in the data folder"
        commands = list(summary.commands)
        resumed = f" Resumed with: {' | '.join(commands[1:])}." if len(commands) > 1 else ""
        notes = (
            f"CAN ({cfg.arch}); Adam G lr {r.lr_g}, D lr {r.lr_d}, G:D update ratio {r.ratio}:1, batch "
            f"{self.trainer.batch}, ambiguity loss {r.ambiguity} ({AMBIGUITY_NOTES[r.ambiguity]}), ambiguity "
            f"weight {r.ambiguity_weight}, D input augmentation {r.augment}; "
            + (
                "real/fake judged by a projected discriminator (Sauer et al. 2021: frozen EfficientNet-Lite0, not "
                f"the MobileNetV2 of the metrics; random projections seed {self.projection_seed}; hinge loss; its "
                f"inputs DiffAugmented with {r.projected_augment}; "
                + ("images at their own size" if r.projected_input == "native" else "images upsampled to 224 px")
                + "), D's own real/fake head unused; "
                if self.P is not None
                else ""
            )
            + f"{round(r.holdout * 100)}% of each style held out for evaluation."
            + (
                f" Generator started from the csgan model {self.init_record['model']} "
                f"({self.init_record['steps']} steps, tensors {self.init_record['tensors_sha256']})."
                if self.init_record
                else ""
            )
            + resumed
        )
        card = ModelCard(
            name=o.name,
            family="can",
            config=cfg.to_dict(),
            image_size=cfg.image_size,
            latent_dim=cfg.latent_dim,
            labels={"styles": list(data.styles)},
            training=ctx.training_info(summary, f"{o.data}: {data.describe()}", licence, notes),
            metrics=metrics,
            extra={
                "train": {
                    **dataclasses.asdict(r),
                    "batch": self.trainer.batch,
                    "seed": self.trainer.seed,
                    "precision": self.trainer.precision,
                },
                "commands": commands,
                "init_generator": self.init_record,
                "diversity_features": self.meter.kind if self.meter is not None else None,
                "training_run": ctx.training_record(summary),
                "loss_history": summary.history,
            },
        )
        return save_checkpoint(o.out_stem(), tensors, card)


def CANTrainJob(**options: Any) -> Trainer:
    """``studio train can``: the CAN task on the shared Trainer (options as parsed by the CLI)."""
    trainer = TrainerOptions.from_mapping(options, steps=2000, batch=64, checkpoint_every=200, preview_every=50)
    return Trainer(CANTask(CANOptions.from_options(options), trainer), trainer)
