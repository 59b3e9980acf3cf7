"""Translator training on the shared :class:`~studio.train.Trainer`: what CycleGAN and U-GAT-IT share.

:class:`TranslatorTask` holds the translators' common part of a run: the two folders (random crops and
flips drawn from the run's RNG, each rank sampling its own shard), the fixed validation images, the
linear learning-rate decay (a function of the step, so a resumed run continues it exactly), image
pools saved with the run, previews, the in-training KID of both directions and the exported model
card. A family subclasses it with only its own networks (:meth:`~TranslatorTask.build`), optimisers
(:meth:`~TranslatorTask.make_optimizers`), losses and one step (:meth:`~TranslatorTask.step`), plus
its preview rows. The run folder, resume, cadence, Cancel, NaN stop, precision, EMA and DDP are the
Trainer's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.core import argtypes
from studio.core.checkpoint import ModelCard, module_tensors, save_checkpoint
from studio.core.errors import StudioError
from studio.core.grid import tile as tile_grid
from studio.core.grid import to_uint8
from studio.core.paths import model_out_stem, runs_dir
from studio.models.diffaugment import diff_augment, parse_policy
from studio.train import (
    KIDSource,
    Phase,
    RunSummary,
    TrainContext,
    Trainer,
    TrainerOptions,
    TrainingTask,
    add_trainer_arguments,
)

from .data import ImagePool, UnpairedImages, load_folder, to_model_range

# the translators' defaults of the shared flags (batch 1 as in the papers)
TRAINER_DEFAULTS = {"steps": 10000, "batch": 1, "checkpoint_every": 500, "preview_every": 100}


@dataclasses.dataclass
class TrainOptions:
    """The translator families' own training options (the shared ones, from ``--steps`` to ``--resume``,
    are :class:`~studio.train.TrainerOptions`)."""

    a: str = ""
    b: str = ""
    size: int = 64
    load_size: int = 0  # 0: size * 1.125, rounded (random crops need a margin)
    out: str = ""
    run_dir: str = ""
    model_name: str = ""
    val_count: int = 4
    limit: int = 0
    flip: bool = True
    data_note: str = ""
    licence: str = ""

    def validate(self) -> None:
        if not self.a or not self.b:
            raise StudioError("pass both image folders: --a DIR_A --b DIR_B")
        if not isinstance(self.size, int) or self.size < 8:
            raise StudioError(f"--size must be at least 8 px (got {self.size!r})")
        if self.load_size and self.load_size < self.size:
            raise StudioError(f"--load-size ({self.load_size}) must be at least --size ({self.size})")
        if self.val_count < 1 or self.limit < 0:
            raise StudioError("--val-count must be at least 1 and --limit not negative")

    def load_px(self) -> int:
        return self.load_size or round(self.size * 1.125)

    def domains(self) -> list[str]:
        return [Path(self.a).name or "A", Path(self.b).name or "B"]


def add_common_arguments(parser: Any) -> None:
    """The translator families' training flags: their own and the shared Trainer's."""
    p = parser
    p.add_argument("--a", required=True, help="folder of domain-A images")
    p.add_argument("--b", required=True, help="folder of domain-B images")
    p.add_argument("--size", type=argtypes.int_range(8, 4096), default=64, help="training crop size in px (default 64)")
    p.add_argument(
        "--load-size",
        type=argtypes.nonneg_int,
        default=0,
        help="images are resized to this before random crops (default size*1.125)",
    )
    p.add_argument(
        "--out", default="", help="model name (saved in your model folder; default: --name) or a path with a '/'"
    )
    p.add_argument("--name", dest="model_name", default="", help="model name (default: FAMILY-A2B folder names)")
    p.add_argument("--val-count", type=argtypes.nonneg_int, default=4, help="fixed validation images per domain")
    p.add_argument("--limit", type=argtypes.nonneg_int, default=0, help="use at most this many images per folder")
    p.add_argument("--no-flip", dest="flip", action="store_false", help="no random horizontal flips")
    p.add_argument(
        "--augment",
        metavar="POLICY",
        help="DiffAugment of every image the discriminators see: a comma list of color, translation, "
        "cutout, or none (default none, the papers); for a few dozen paintings, e.g. translation,cutout",
    )
    p.add_argument("--data-note", default="", help="data description for the model card")
    p.add_argument("--licence", default="", help="licence of the training data, for the model card")
    from studio.metrics.training_kid import DEFAULT_EVERY

    add_trainer_arguments(p, **TRAINER_DEFAULTS, kid_every=DEFAULT_EVERY)


def options_from(cls: type, options: Mapping[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in options.items() if k in known and v is not None})


def linear_decay(step: int, total: int, decay_start: float) -> float:
    """Learning-rate factor: 1 until ``decay_start`` of the run, then linearly down to 0 at the end."""
    if decay_start >= 1.0 or total <= 0:
        return 1.0
    start = int(total * decay_start)
    if step < start:
        return 1.0
    return max(0.0, 1.0 - (step - start) / max(1, total - start))


def exponential_decay(step: int, steps_per_epoch: int, factor: float, every_epochs: float) -> float:
    """Learning-rate factor of ECE 285's schedule: ``factor`` once per ``every_epochs`` epochs of
    ``steps_per_epoch`` steps, counted from steps done (a function of the step, so exact at resume)."""
    if factor >= 1.0 or steps_per_epoch <= 0:
        return 1.0
    period = max(1, round(every_epochs * steps_per_epoch))
    return float(factor ** (step // period))


def set_requires_grad(nets: Sequence[torch.nn.Module], flag: bool) -> None:
    for net in nets:
        net.requires_grad_(flag)


class TranslatorTask(TrainingTask):
    """Train two generators (``G_ab``: A→B, ``G_ba``: B→A) and their discriminators between two folders.

    A subclass sets ``family`` and ``config_cls`` and implements :meth:`build`, :meth:`make_optimizers`,
    :meth:`step` and :meth:`preview_rows`. ``self.cfg`` is its config (a dataclass with ``lr`` and
    ``decay_start``); image pools it puts in ``self.pools`` are saved with the run.
    """

    config_cls: Any = object  # a dataclass with from_dict(), lr and decay_start
    generators: tuple[str, str] = ("G_ab", "G_ba")  # a2b, b2a: what the exported model holds

    def __init__(self, config: Any, options: TrainOptions, trainer: TrainerOptions):
        options.validate()
        self.cfg, self.options, self.trainer = config, options, trainer
        self.domains = options.domains()
        self.name = options.model_name or f"{self.family}-{self.domains[0]}2{self.domains[1]}"
        self.title = f"Train {self.family} {self.domains[0]} ↔ {self.domains[1]}"
        self.nets: dict[str, torch.nn.Module] = {}
        self.optims: dict[str, torch.optim.Optimizer] = {}
        self.pools: dict[str, ImagePool] = {}
        self.device = torch.device("cpu")
        self.rng: torch.Generator | None = None
        self.augment_policy = parse_policy(getattr(config, "augment", "none"))  # what judge() applies

    # -- the family's part ---------------------------------------------------------------------------
    def build(self) -> dict[str, torch.nn.Module]:
        """The networks by checkpoint prefix (``G_ab``, ``G_ba`` and the discriminators), on the CPU."""
        raise NotImplementedError

    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Fresh optimisers over ``self.nets`` at the config's base learning rate."""
        raise NotImplementedError

    def step(self, ctx: TrainContext, real_a: torch.Tensor, real_b: torch.Tensor) -> dict[str, float]:
        """One training step on a batch of each domain (on the device, in [-1, 1]); the float losses."""
        raise NotImplementedError

    def preview_rows(self, val_a: torch.Tensor, val_b: torch.Tensor) -> list[torch.Tensor]:
        """Rows of [N,3,H,W] images in [0,1] for the live preview (called without grad, nets in eval)."""
        raise NotImplementedError

    # -- paths, config, phases -----------------------------------------------------------------------
    def out_path(self) -> Path:
        """Where the exported model goes (``studio.core.paths.model_out_stem``)."""
        return model_out_stem(self.options.out, self.name)

    def run_path(self) -> Path:
        return Path(self.options.run_dir) if self.options.run_dir else runs_dir() / self.name

    def config(self) -> dict[str, Any]:
        return dataclasses.asdict(self.cfg)

    def steps_total(self) -> int:
        return self.trainer.steps

    def phases(self) -> list[Phase]:
        return [Phase("train", self.trainer.steps, title=f"{len(self.data_a)}+{len(self.data_b)} images")]

    def steps_per_epoch(self) -> int:
        """Steps of one epoch: the larger folder once, at the global batch (CycleGAN's unaligned epoch)."""
        return max(1, -(-max(len(self.data_a), len(self.data_b)) // max(1, self.trainer.batch)))

    def lr_factor(self, step: int) -> float:
        """The learning rate's factor at ``step`` (steps done): a function of the step alone — the linear
        decay after ``decay_start`` times, when configured, ECE 285's exponential steps."""
        factor = linear_decay(step, self.trainer.steps, getattr(self.cfg, "decay_start", 1.0))
        exp = getattr(self.cfg, "exp_decay", 1.0)
        if exp < 1.0:
            factor *= exponential_decay(step, self.steps_per_epoch(), exp, getattr(self.cfg, "exp_decay_epochs", 2.0))
        return factor

    # -- setup ---------------------------------------------------------------------------------------
    def _check_saved_config(self, saved: Mapping[str, Any]) -> None:
        """Resume only with the architecture and losses the run was started with. Keys added to the
        config since the run was saved take their defaults."""
        known = {f.name for f in dataclasses.fields(self.config_cls)}
        theirs = {
            **dataclasses.asdict(self.config_cls()),
            **{k: v for k, v in (saved.get("config") or {}).items() if k in known},
        }
        ours = dataclasses.asdict(self.cfg)
        diff = sorted(k for k in ours if theirs.get(k) != ours[k])
        unknown = sorted(set(saved.get("config") or {}) - known)
        if diff or unknown:
            raise StudioError(
                f"this run was started with a different architecture/config (differs in: "
                f"{', '.join(diff + unknown)}); resume it with the options it was started with (the run's "
                f"commands are in {self.run_path()}/run.safetensors), or start a new run in another --run-dir"
            )
        self.cfg = self.config_cls.from_dict(theirs)
        self.augment_policy = parse_policy(getattr(self.cfg, "augment", "none"))

    def setup(self, ctx: TrainContext, saved: Mapping[str, Any] | None) -> None:
        o = self.options
        if saved is not None:
            self._check_saved_config(saved)
        self.device = ctx.device
        ctx.message("loading images…")
        load_px = o.load_px()
        images_a, images_b = load_folder(o.a, load_px, o.limit), load_folder(o.b, load_px, o.limit)
        self.data_a = UnpairedImages(images_a, o.size, o.flip)
        self.data_b = UnpairedImages(images_b, o.size, o.flip)
        # each DDP rank samples its own share of each folder
        self.local_a = UnpairedImages(images_a[ctx.shard(len(images_a))], o.size, o.flip)
        self.local_b = UnpairedImages(images_b[ctx.shard(len(images_b))], o.size, o.flip)
        k = max(1, min(o.val_count, len(self.data_a), len(self.data_b)))

        def pick(data: UnpairedImages) -> torch.Tensor:
            idx = [int(i) for i in np.linspace(0, len(data) - 1, k).round()]
            return ((data.centre(idx) + 1) * 127.5).round().to(torch.uint8)

        self.val_u8 = {"a": pick(self.data_a), "b": pick(self.data_b)}
        self.nets = self.build()
        for net in self.nets.values():
            net.train()
        ctx.message(
            f"{len(self.data_a)}+{len(self.data_b)} images, crops of {o.size} px from {load_px} px; "
            f"training on {ctx.device} ({self.trainer.precision})"
        )

    def networks(self) -> dict[str, torch.nn.Module]:
        return dict(self.nets)

    def ema_networks(self) -> tuple[str, ...]:
        return tuple(self.generators)

    def optimizers(self, phase: str) -> dict[str, torch.optim.Optimizer]:
        self.optims = self.make_optimizers()
        return self.optims

    # -- one step ------------------------------------------------------------------------------------
    def train_step(self, ctx: TrainContext) -> dict[str, float]:
        lr = self.cfg.lr * self.lr_factor(ctx.step)
        for opt in self.optims.values():
            for group in opt.param_groups:
                group["lr"] = lr
        self.rng = ctx.rng  # for judge(): this step's augmentations come from the run's RNG
        n = ctx.local_batch(self.trainer.batch)
        real_a = ctx.to_device(self.local_a.sample(n, ctx.rng))
        real_b = ctx.to_device(self.local_b.sample(n, ctx.rng))
        return self.step(ctx, real_a, real_b)

    def judge(self, d: torch.nn.Module, images: torch.Tensor) -> Any:
        """``d(images)``, after DiffAugment when the config asks for it (``augment``): every image a
        discriminator sees, real or generated, goes through here, so both get the same augmentations."""
        policy = self.augment_policy
        return d(diff_augment(images, policy, self.rng) if policy else images)

    def step_metrics(self, ctx: TrainContext) -> dict[str, float]:
        scheduled = getattr(self.cfg, "decay_start", 1.0) < 1 or getattr(self.cfg, "exp_decay", 1.0) < 1
        return {"lr": self.cfg.lr * self.lr_factor(ctx.step)} if scheduled else {}

    # -- resume: the image pools and the validation images ------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The validation images and the pools' stored fakes (with DDP: rank 0's pools)."""
        out = {"val.a": self.val_u8["a"], "val.b": self.val_u8["b"]}
        for name, pool in self.pools.items():
            contents = pool.contents()
            if contents is not None:
                out[f"pool.{name}"] = contents
        return out

    def load_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> None:
        if "val.a" in tensors and "val.b" in tensors:
            self.val_u8 = {"a": tensors["val.a"], "b": tensors["val.b"]}
        for name, pool in self.pools.items():
            pool.restore(tensors.get(f"pool.{name}"), self.device)

    # -- looking at the model ------------------------------------------------------------------------
    def _validation(self, ctx: TrainContext, domain: str) -> torch.Tensor:
        return ctx.to_device(to_model_range(self.val_u8[domain].float() / 255.0))

    def preview(self, ctx: TrainContext) -> np.ndarray:
        for net in self.nets.values():
            net.eval()
        try:
            with torch.no_grad(), ctx.autocast():
                rows = self.preview_rows(self._validation(ctx, "a"), self._validation(ctx, "b"))
        finally:
            for net in self.nets.values():
                net.train()
        imgs = torch.cat([r.float().cpu() for r in rows])
        return tile_grid(to_uint8(imgs), len(rows), rows[0].shape[0])

    def kid_sources(self, ctx: TrainContext) -> list[KIDSource]:
        """KID of each direction: centre crops of one folder translated, against the other folder's."""

        def translated(data: UnpairedImages, name: str):
            def run(n: int) -> torch.Tensor:
                net = ctx.export_module(name)
                was = net.training
                net.eval()
                outs = []
                with torch.no_grad(), ctx.autocast():
                    for batch in data.spread(n).split(32):  # bounded memory at any crop size
                        out = net(ctx.to_device(batch))
                        outs.append((out[0] if isinstance(out, tuple) else out).float().cpu())  # U-GAT-IT: + CAM
                net.train(was)
                return torch.cat(outs)

            return run

        g_ab, g_ba = self.generators
        cap = min(len(self.data_a), len(self.data_b))
        return [
            KIDSource(self.data_b.spread, translated(self.data_a, g_ab), label="a2b", max_images=cap),
            KIDSource(self.data_a.spread, translated(self.data_b, g_ba), label="b2a", max_images=cap),
        ]

    # -- export --------------------------------------------------------------------------------------
    def card_extra(self) -> dict[str, Any]:
        """Family-specific entries for the exported card's ``extra`` (e.g. how inference works)."""
        return {}

    def export(self, ctx: TrainContext, summary: RunSummary) -> Path:
        o = self.options
        tensors: dict[str, torch.Tensor] = {}
        for name in self.generators:
            tensors.update(module_tensors(name, ctx.export_module(name)))
        tensors["val.a"], tensors["val.b"] = self.val_u8["a"], self.val_u8["b"]
        a, b = self.domains
        card = ModelCard(
            name=self.name,
            family=self.family,
            config=dataclasses.asdict(self.cfg),
            image_size=o.size,
            labels={"domains": list(self.domains)},
            training=ctx.training_info(
                summary,
                o.data_note or f"A: {o.a}, B: {o.b}",
                o.licence,
                f"batch {self.trainer.batch}, crops of {o.size} px from {o.load_px()} px",
            ),
            metrics={"final_losses": {k: round(float(v), 5) for k, v in summary.losses.items()}},
            extra={
                "directions": {"a2b": f"{a} → {b}", "b2a": f"{b} → {a}"},
                "training_run": ctx.training_record(summary),
                "loss_history": summary.history,
                **self.card_extra(),
            },
        )
        return save_checkpoint(self.out_path(), tensors, card)


def TranslatorTrainJob(task_cls: type[TranslatorTask], config: Any, options: Mapping[str, Any]) -> Trainer:
    """A translator family's 'train' job: ``task_cls`` with ``config`` on the shared Trainer, both
    configured from one mapping of parsed options (CLI or GUI form)."""
    trainer = TrainerOptions.from_mapping(options, **TRAINER_DEFAULTS)
    return Trainer(task_cls(config, options_from(TrainOptions, options), trainer), trainer)


__all__ = [
    "TRAINER_DEFAULTS",
    "TrainOptions",
    "TranslatorTask",
    "TranslatorTrainJob",
    "add_common_arguments",
    "exponential_decay",
    "linear_decay",
    "options_from",
    "set_requires_grad",
]
