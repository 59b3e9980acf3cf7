"""The CSGAN training job: the paper's recipe on any folder of images, resumable and cancellable.

A run folder holds ``checkpoint.safetensors/.json`` (G, D, both Adam states, the RNG state — tensors
only, never pickle) whose card's ``extra["run"]`` has the step counter and options. ``--resume``
continues the step count from there. The job saves atomically every ``save_every`` steps, on Cancel and
at the end, and then exports the generator with GANSpace directions as a model card.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from studio.core.checkpoint import (CheckpointError, ModelCard, TrainingInfo, load_checkpoint,
                                    load_module_tensors, module_tensors, save_checkpoint)
from studio.core.device import resolve_device
from studio.core.errors import JobCancelled, StudioError
from studio.core.grid import tile, to_uint8
from studio.core.history import TrainingHistory
from studio.core.jobs import Reporter, cancelled_with
from studio.core.latents import principal_directions, seed_to_z
from studio.core.paths import runs_dir, user_models_dir
from studio.models.diffaugment import diff_augment, parse_policy

from .data import load_folder, sample_batch
from .networks import ARCHS, CSGANConfig, Discriminator, Generator, dcgan_init
from .recipe import LOSSES, Recipe, lr_at, set_lr, should_update_d, soft_labels

PREVIEW_SEED = 1234


@dataclass
class TrainOptions:
    """The options of ``studio train csgan`` (also accepted as keyword arguments from the GUI)."""

    data: str = ""
    arch: str = "dcgan64"
    width: float = 1.0
    steps: int = 2000
    batch: int = 64
    out: str | None = None
    run_dir: str | None = None
    resume: bool = False
    device: str = "auto"
    seed: int = 0
    precision: str = "fp32"
    preview_every: int = 100
    save_every: int = 500
    licence: str = "unknown"
    data_name: str = ""
    notes: str = ""
    fit: str = "crop"
    flip: bool = True
    threads: int = 0
    pca_samples: int = 2048
    pca_k: int = 10
    bn_samples: int = 2048
    command: str = ""
    init: str = "pytorch"
    augment: str = "none"
    kid_every: int = 0
    kid_samples: int = 256
    kid_features: str = "mobilenet_v2"
    recipe: Recipe = field(default_factory=Recipe)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> "TrainOptions":
        known = {f.name for f in dataclasses.fields(cls)} - {"recipe"}
        opts = cls(**{k: v for k, v in options.items() if k in known and v is not None})
        rknown = {f.name for f in dataclasses.fields(Recipe)}
        opts.recipe = Recipe(**{k: v for k, v in options.items() if k in rknown and v is not None})
        return opts

    def validate(self) -> None:
        if not self.data:
            raise StudioError("no training data: pass --data FOLDER")
        if self.arch not in ARCHS:
            raise StudioError(f"unknown architecture '{self.arch}' (use {' or '.join(ARCHS)})")
        if self.precision not in ("fp32", "bf16"):
            raise StudioError(f"unknown precision '{self.precision}' (use fp32 or bf16)")
        if self.steps < 1 or self.batch < 2:
            raise StudioError("--steps must be ≥ 1 and --batch ≥ 2 (BatchNorm needs a batch)")
        if self.recipe.loss not in LOSSES:
            raise StudioError(f"unknown --loss '{self.recipe.loss}' (use {' or '.join(LOSSES)})")
        parse_policy(self.augment)  # a bad policy raises a StudioError
        if self.init not in ("pytorch", "dcgan"):
            raise StudioError(f"unknown --init '{self.init}' (use pytorch or dcgan)")
        if self.fit not in ("crop", "pad"):
            raise StudioError(f"unknown --fit '{self.fit}' (use crop or pad)")

    def out_stem(self) -> Path:
        """Where the exported model goes: a bare name goes to the user's model folder."""
        name = self.out or f"csgan-{self.arch}-{Path(self.data).name or 'data'}"
        p = Path(name)
        if p.suffix in (".json", ".safetensors"):
            p = p.with_suffix("")
        if len(p.parts) == 1 and not name.startswith("."):
            return user_models_dir() / p.name
        return p

    def run_path(self) -> Path:
        return Path(self.run_dir) if self.run_dir else runs_dir() / self.out_stem().name


def _opt_tensors(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """Adam's state as flat tensors plus its param groups as JSON (so no pickle is ever needed)."""
    sd = opt.state_dict()
    tensors = {}
    for idx, state in sd["state"].items():
        for key, value in state.items():
            tensors[f"{prefix}.{idx}.{key}"] = torch.as_tensor(value).detach().clone()
    groups = json.loads(json.dumps(sd["param_groups"], default=lambda o: None))
    return tensors, groups


def _load_opt(prefix: str, opt: torch.optim.Optimizer, tensors: Mapping[str, torch.Tensor],
              groups: list[dict]) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith(prefix + "."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value
    for g in groups:
        if isinstance(g.get("betas"), list):
            g["betas"] = tuple(g["betas"])
    opt.load_state_dict({"state": state, "param_groups": groups})


def recalibrate_bn(gen: Generator, latent_dim: int, device: torch.device, samples: int = 2048,
                   batch: int = 64, seed: int = 99) -> Generator:
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


def gan_space(gen: Generator, latent_dim: int, device: torch.device, samples: int, k: int,
              seed: int = 7) -> tuple[torch.Tensor, torch.Tensor]:
    """GANSpace directions from G's first-layer activations over ``samples`` random codes."""
    z = seed_to_z(seed, latent_dim, samples)
    feats = []
    gen.eval()
    with torch.no_grad():
        for chunk in z.split(256):
            feats.append(gen.features(chunk.to(device)).flatten(1).float().cpu())
    return principal_directions(z, torch.cat(feats), k)


class CSGANTrainJob:
    """Train a CSGAN content generator; outputs {"card": model card path, "run": run folder}."""

    def __init__(self, **options: Any):
        self.options = TrainOptions.from_options(options)
        self.title = f"Train CSGAN ({self.options.arch}) on {Path(self.options.data).name or 'data'}"

    # -- state ---------------------------------------------------------------------------------------
    def _setup(self, reporter: Reporter) -> None:
        o = self.options
        o.validate()
        if o.threads and o.threads > 0:
            torch.set_num_threads(int(o.threads))
        self.device = resolve_device(o.device)
        self.run = o.run_path()
        self.run.mkdir(parents=True, exist_ok=True)
        self.ckpt = self.run / "checkpoint"
        self.bf16 = o.precision == "bf16" and self.device.type in ("cpu", "cuda")
        self.step, self.prior_wall = 0, 0.0
        self.cfg = CSGANConfig(arch=o.arch, width=float(o.width))
        resume_extra = None
        if o.resume and self.ckpt.with_suffix(".json").exists():
            tensors, card = load_checkpoint(self.ckpt.with_suffix(".json"))
            resume_extra = card.extra.get("run") or {}
            self.cfg = CSGANConfig.from_dict(card.config)
            if self.cfg.arch != o.arch or abs(self.cfg.width - float(o.width)) > 1e-9:
                reporter.message(f"resuming with the run's architecture {self.cfg.arch} × {self.cfg.width} "
                                 f"(the options asked for {o.arch} × {o.width})")
        elif o.resume:
            reporter.message(f"no checkpoint in {self.run} yet: starting a new run")
        torch.manual_seed(o.seed)
        self.G, self.D = Generator(self.cfg), Discriminator(self.cfg)
        if o.init == "dcgan" and resume_extra is None:
            dcgan_init(self.G)
            dcgan_init(self.D)
        r = o.recipe
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=r.lr, betas=(r.beta1, r.beta2))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=r.lr, betas=(r.beta1, r.beta2))
        self.rng = torch.Generator().manual_seed(int(o.seed))
        self.augment_policy = parse_policy(o.augment)  # validated in o.validate()
        self.d_updates = 0
        self.history = TrainingHistory()
        if resume_extra is not None:
            path = self.ckpt.with_suffix(".safetensors")
            load_module_tensors("G", self.G, tensors, path)
            load_module_tensors("D", self.D, tensors, path)
            try:
                _load_opt("optG", self.opt_g, tensors, resume_extra["opt_g_groups"])
                _load_opt("optD", self.opt_d, tensors, resume_extra["opt_d_groups"])
                self.rng.set_state(tensors["rng.data"])
                self.step = int(resume_extra["step"])
                self.prior_wall = float(resume_extra.get("wall_time_s", 0.0))
                self.d_updates = int(resume_extra.get("d_updates", 0))
                self.history = TrainingHistory.from_dict(resume_extra.get("history"))
                self.history.truncate(self.step)
            except (KeyError, ValueError, RuntimeError) as exc:
                raise CheckpointError(path, f"the run state cannot be resumed ({exc})")
        self.G.to(self.device)
        self.D.to(self.device)
        if self.bf16:  # channels_last lets oneDNN/cuDNN pick the fast bf16 convolution kernels
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        # Adam's state follows the parameters' device after load_state_dict.
        self.preview_z = seed_to_z(PREVIEW_SEED, self.cfg.latent_dim, 16).to(self.device)

    def _autocast(self):
        if self.bf16:
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _wall(self) -> float:
        return self.prior_wall + (time.perf_counter() - self._t0)

    def _save_run(self, losses: Mapping[str, float]) -> None:
        tensors = {**module_tensors("G", self.G), **module_tensors("D", self.D)}
        tg, groups_g = _opt_tensors("optG", self.opt_g)
        td, groups_d = _opt_tensors("optD", self.opt_d)
        tensors.update(tg)
        tensors.update(td)
        tensors["rng.data"] = self.rng.get_state()
        o = self.options
        run = {"step": self.step, "wall_time_s": self._wall(), "d_updates": self.d_updates,
               "history": self.history.to_dict(), "opt_g_groups": groups_g, "opt_d_groups": groups_d,
               "losses": dict(losses),
               "scheduler": {"kind": "step", "every": o.recipe.decay_every, "g_decay": o.recipe.g_decay,
                             "d_decay": o.recipe.d_decay, "last_step": self.step},
               "options": {k: v for k, v in dataclasses.asdict(o).items() if k != "command"}}
        card = ModelCard(name=f"{self.run.name} (run state)", family="csgan", config=self.cfg.to_dict(),
                         image_size=self.cfg.image_size, latent_dim=self.cfg.latent_dim,
                         training=self._training_info(), extra={"run": run})
        save_checkpoint(self.ckpt, tensors, card)

    def _training_info(self) -> TrainingInfo:
        o = self.options
        notes = o.notes or ""
        if self.cfg.width != 1.0:
            notes = (notes + " " if notes else "") + (f"width multiplier {self.cfg.width:g} "
                                                      "(channel counts scaled from the paper's)")
        return TrainingInfo(data=o.data_name or str(o.data), licence=o.licence, command=o.command,
                            steps=self.step, wall_time_s=round(self._wall(), 1),
                            device=f"{self.device.type} ({o.precision})", notes=notes)

    def _export(self, losses: Mapping[str, float], reporter: Reporter | None) -> Path:
        o = self.options
        if reporter is not None:
            reporter.message("computing principal directions (GANSpace)…")
        gen = recalibrate_bn(self.G.to(memory_format=torch.contiguous_format), self.cfg.latent_dim,
                             self.device, o.bn_samples, batch=min(64, max(2, o.bn_samples)))
        if self.bf16:
            self.G.to(memory_format=torch.channels_last)
        dirs, stds = gan_space(gen, self.cfg.latent_dim, self.device, o.pca_samples, o.pca_k)
        tensors = module_tensors("G", gen)
        tensors["pca.directions"] = dirs
        tensors["pca.stds"] = stds
        stem = o.out_stem()
        card = ModelCard(name=stem.name, family="csgan", config=self.cfg.to_dict(),
                         image_size=self.cfg.image_size, latent_dim=self.cfg.latent_dim,
                         training=self._training_info(),
                         metrics={"final_losses": {k: round(float(v), 5) for k, v in losses.items()},
                                  "d_update_fraction": round(self.d_updates / max(1, self.step), 4)},
                         extra={"recipe": dataclasses.asdict(o.recipe), "batch": o.batch,
                                "precision": o.precision, "pca_samples": o.pca_samples,
                                "gan_space_layer": "first layer (Linear→BN→ReLU)",
                                "loss_history": self.history.card_columns()})
        return save_checkpoint(stem, tensors, card)

    @staticmethod
    def _kid_rng() -> torch.Generator:
        """The same reference images at every measurement (and untouched training RNG, so resume stays exact)."""
        return torch.Generator().manual_seed(PREVIEW_SEED)

    def _samples(self, n: int) -> torch.Tensor:
        """``n`` samples of the generator as it is now, with batch statistics (what the exported model,
        whose BatchNorm is recalibrated, will draw); the running statistics are left untouched."""
        z = torch.randn(n, self.cfg.latent_dim, generator=torch.Generator().manual_seed(self.step)).to(self.device)
        buffers = {k: v.clone() for k, v in self.G.state_dict().items() if "running_" in k or "num_batches" in k}
        with self._autocast():
            img = self.G(z).float()
        self.G.load_state_dict(buffers, strict=False)
        return img

    def _preview(self) -> Any:
        self.G.eval()
        with torch.no_grad(), self._autocast():
            img = self.G(self.preview_z)
        self.G.train()
        return tile(to_uint8((img.float().cpu() + 1) / 2), 4, 4, pad=1)

    # -- the loop ------------------------------------------------------------------------------------
    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        """DiffAugment of D's inputs (``--augment``), random per image from the run's RNG."""
        return diff_augment(x, self.augment_policy, self.rng) if self.augment_policy else x

    def train_step(self, real: torch.Tensor) -> dict[str, float]:
        """One iteration of the recipe on a batch of real images in [-1, 1] (already on the device)."""
        r = self.options.recipe
        n = real.shape[0]
        set_lr(self.opt_g, lr_at(self.step, r.lr, r.g_decay, r.decay_every))
        set_lr(self.opt_d, lr_at(self.step, r.lr, r.d_decay, r.decay_every))
        z = torch.randn(n, self.cfg.latent_dim, generator=self.rng).to(self.device)
        real_t = soft_labels(n, r.real_label, self.rng, self.device)
        fake_t = soft_labels(n, r.fake_label, self.rng, self.device)
        if self.bf16:
            real = real.contiguous(memory_format=torch.channels_last)
        aug = self._augment
        gan_loss = LOSSES[r.loss]
        with self._autocast():
            fake = self.G(z)
            # D: pulled towards soft labels (least squares or BCE); stepped only while its loss is above the threshold
            d_loss = gan_loss(self.D(aug(real)), real_t) + gan_loss(self.D(aug(fake.detach())), fake_t)
        d_value = float(d_loss.detach())
        updated = should_update_d(d_value, r.d_threshold)
        if updated:
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            self.d_updates += 1
        # G: make D score its images as real
        self.D.requires_grad_(False)
        with self._autocast():
            g_loss = gan_loss(self.D(aug(fake)), 1.0)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        self.step += 1
        return {"d": d_value, "g": float(g_loss.detach()), "d_step": 1.0 if updated else 0.0}

    def run(self, reporter: Reporter) -> dict[str, Any]:
        self._t0 = time.perf_counter()
        self._setup(reporter)
        o = self.options
        reporter.message(f"loading images from {o.data}…")
        images = load_folder(o.data, self.cfg.image_size, o.fit, cache_dir=self.run,
                             progress=reporter.message)
        reporter.message(f"{images.shape[0]} images of {self.cfg.image_size} px; "
                         f"training on {self.device} ({o.precision}) from step {self.step}")
        self.G.train()
        self.D.train()
        losses: dict[str, float] = {}
        from studio.metrics.training_kid import TrainingKID

        kid = TrainingKID.from_options(o, self.device)
        try:
            while self.step < o.steps:
                real = sample_batch(images, o.batch, self.rng, o.flip).to(self.device)
                losses = self.train_step(real)
                self.history.add(self.step, {"d": losses["d"], "g": losses["g"]})
                scores = {}
                if kid.due(self.step):
                    scores = kid.measure(lambda n: sample_batch(images, n, self._kid_rng(), False),
                                         self._samples, reporter.message)
                    self.history.add_scores(self.step, scores)
                preview = None
                if o.preview_every and (self.step % o.preview_every == 0 or self.step == o.steps):
                    preview = self._preview()
                if o.save_every and self.step % o.save_every == 0 and self.step < o.steps:
                    self._save_run(losses)
                reporter.report(self.step, o.steps, losses={"d": losses["d"], "g": losses["g"]},
                                preview=preview,
                                metrics={"d_update_fraction": self.d_updates / max(1, self.step),
                                         "lr_g": self.opt_g.param_groups[0]["lr"], **scores})
        except JobCancelled:
            self.history.flush(self.step)
            self._save_run(losses)
            card = self._export(losses, None)
            raise cancelled_with({"card": str(card), "run": str(self.run), "step": self.step})
        self.history.flush(self.step)
        self._save_run(losses)
        card = self._export(losses, reporter)
        return {"card": str(card), "run": str(self.run), "step": self.step}
