"""GADN training on the shared Trainer: stage 1 (style-free content encoder), classifier pre-training and
stage 2 (dual-conditional generator) are the Trainer's three phases ``stage1``, ``cls`` and ``stage2``.

This module holds only what is GADN's own: the three steps and their optimizers, freezing the encoder
for stage 2, the preview (contents × artists), the in-training KID source (training contents redrawn by
another artist; stages 1 and 2 only) and the export (E, G, S, C2 and the content statistics the sliders
draw from). Run folder, resume at any phase and step, cadence, Cancel, precision, EMA and DDP are the
Trainer's (:mod:`studio.train`). All randomness of a step comes from the run's RNG (``ctx.rng``).

``--steps`` (the shared flag) is refused: GADN's length is three numbers, ``--steps1``, ``--steps-cls``
and ``--steps2``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from studio.core.checkpoint import ModelCard, module_tensors, save_checkpoint
from studio.core.errors import CheckpointError, StudioError
from studio.core.grid import tile, to_uint8
from studio.train import (
    KIDSource,
    Phase,
    RunSummary,
    TrainContext,
    Trainer,
    TrainerOptions,
    TrainingTask,
)

from .config import GADNConfig, TrainConfig
from .data import ArtistImages, check_artists, held_out_contents, load_artist_folder, partner_table
from .losses import (
    code_distance,
    kl_standard_normal,
    lsgan_discriminator,
    lsgan_generator,
    negative_log_unlikelihood,
    other_artists,
    pixel_distance,
    relative_code_distance,
    reparameterise,
)
from .networks import GADNNets

STAGES = ("stage1", "cls", "stage2")
STAGE_TITLES = {
    "stage1": "stage 1 (content encoder)",
    "cls": "classifier pre-training",
    "stage2": "stage 2 (dual-conditional generator)",
}
STAGE_FLAGS = {"stage1": "--steps1", "cls": "--steps-cls", "stage2": "--steps2"}
ARCH_FIELDS = (
    "image_size",
    "content_dim",
    "style_dim",
    "base_channels",
    "fc_features",
    "width",
    "content_grid",
    "style_film",
)
NETWORKS = ("E", "S", "G", "C1", "C2", "D")
PREVIEW_SEED, KID_SEED = 1234, 4321
STEPS_REFUSED = (
    "GADN trains in three stages, so --steps does not say how long: give --steps1 (stage 1, "
    "content encoder), --steps-cls (classifier pre-training) and --steps2 (stage 2) instead"
)


# ----------------------------------------------------------------------------------------------- optimisers
def stage_learning_rates(stage: str, tc: TrainConfig) -> dict[str, list[float]]:
    """Each optimiser's learning rate per parameter group (see :func:`make_optimisers`)."""
    return {
        "stage1": {"eg1": [tc.lr1, tc.lr1_style], "c1": [tc.lr1]},
        "cls": {"c2pre": [tc.lr_cls]},
        "stage2": {"g2": [tc.lr2, tc.lr2_style], "d2": [tc.lr2], "c2": [tc.lr2]},
    }.get(stage, {})


def make_optimisers(nets: GADNNets, stage: str, tc: TrainConfig) -> dict[str, torch.optim.Optimizer]:
    """Stage 1: Adam; classifier pre-training: Adam; stage 2: RMSprop (momentum destabilises GANs).
    The style tables get their own (larger) learning rate, as in the authors' code."""
    lr = stage_learning_rates(stage, tc)
    if stage == "stage1":
        return {
            "eg1": torch.optim.Adam(
                [
                    {"params": list(nets.E.parameters()) + list(nets.G.parameters()), "lr": lr["eg1"][0]},
                    {"params": list(nets.S.parameters()), "lr": lr["eg1"][1]},
                ]
            ),
            "c1": torch.optim.Adam(nets.C1.parameters(), lr=lr["c1"][0]),
        }
    if stage == "cls":
        return {"c2pre": torch.optim.Adam(nets.C2.parameters(), lr=lr["c2pre"][0])}
    if stage == "stage2":
        return {
            "g2": torch.optim.RMSprop(
                [
                    {"params": list(nets.G.parameters()), "lr": lr["g2"][0]},
                    {"params": list(nets.S.parameters()), "lr": lr["g2"][1]},
                ]
            ),
            "d2": torch.optim.RMSprop(nets.D.parameters(), lr=lr["d2"][0]),
            "c2": torch.optim.RMSprop(nets.C2.parameters(), lr=lr["c2"][0]),
        }
    return {}


# ----------------------------------------------------------------------------------------------- steps
class PlainSteps:
    """What a step needs of the Trainer's context, for use without one (unit tests, the bench's plain
    loop): fp32 autocast-free forward, plain backward and optimiser step, one process."""

    @staticmethod
    def autocast() -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    @staticmethod
    def backward(loss: torch.Tensor) -> None:
        loss.backward()

    @staticmethod
    def step_optimizer(optimizer: torch.optim.Optimizer) -> None:
        optimizer.step()


PLAIN = PlainSteps()


@contextlib.contextmanager
def frozen(*modules: torch.nn.Module) -> Iterator[None]:
    """No weight gradients for ``modules`` (a judge while its opponent learns): the same update, less work."""
    flags = [[p.requires_grad for p in m.parameters()] for m in modules]
    for m in modules:
        m.requires_grad_(False)
    try:
        yield
    finally:
        for m, fl in zip(modules, flags):
            for p, f in zip(m.parameters(), fl):
                p.requires_grad_(f)


@dataclass
class PairedBatch:
    """For each image of a batch: the artist to redraw it as, that artist's own drawing of the same
    content, and whether there is one (``TrainConfig.w_paired``)."""

    other: torch.Tensor  # [B] artist index
    x_other: torch.Tensor  # [B, 3, H, W] in [-1, 1]; rows where ``valid`` is False are placeholders
    valid: torch.Tensor  # [B] bool


def paired_distance(out: torch.Tensor, paired: PairedBatch) -> torch.Tensor:
    """Pixel distance of ``out`` to the other artist's drawing, over the rows that have one (0 if none)."""
    if not bool(paired.valid.any()):
        return out.sum() * 0.0
    return pixel_distance(out[paired.valid].float(), paired.x_other[paired.valid].float())


def _step(tools: Any, opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    opt.zero_grad(set_to_none=True)
    tools.backward(loss)
    tools.step_optimizer(opt)


def stage1_step(
    nets: GADNNets,
    opts: dict,
    x: torch.Tensor,
    a: torch.Tensor,
    tc: TrainConfig,
    gen: torch.Generator | None = None,
    trace: dict | None = None,
    tools: Any = PLAIN,
    paired: PairedBatch | None = None,
) -> dict[str, float]:
    """One stage-1 update. C1 learns to find the true artist a in G(E(x), S(a')) with a' != a;
    E, G and S learn to reconstruct x from (E(x), S(a)) while making C1 fail. With ``paired`` (a' is
    then ``paired.other``), G(E(x), S(a')) is also pulled towards a''s own drawing of the content and E's
    codes of the two drawings towards each other."""
    A = nets.cfg.num_artists
    a_other = paired.other if paired is not None else other_artists(a, A, gen)
    with tools.autocast():
        c_mean, c_std = nets.E(x)
        c = reparameterise(c_mean, c_std, gen)
        s_mean, s_std = nets.S(a)
        s = reparameterise(s_mean, s_std, gen)
        so_mean, so_std = nets.S(a_other)
        s_other = reparameterise(so_mean, so_std, gen)
        recon = nets.G(c, s)
        restyled = nets.G(c, s_other)
        # C1: recognise the source artist of the content in an image restyled as someone else
        c1_loss = F.cross_entropy(nets.C1(restyled.detach()).float(), a)
    if trace is not None:
        trace.update(source=a.clone(), styled_as=a_other.clone(), c1_input=restyled.detach().clone())
    _step(tools, opts["c1"], c1_loss)

    # E, G, S: reconstruct, stay close to N(0, 1), and fool C1
    with frozen(nets.C1):
        with tools.autocast():
            logits = nets.C1(restyled).float()
        if tc.adversary1 == "likelihood":  # maximise C1's negative log-likelihood of the true artist
            adv = -F.cross_entropy(logits, a)
        else:  # minimise -log(1 - p_C1(a | .))
            adv = negative_log_unlikelihood(logits, a)
        rec = pixel_distance(recon.float(), x.float())
        kl_c = kl_standard_normal(c_mean.float(), c_std.float())
        kl_s = kl_standard_normal(torch.cat([s_mean, so_mean]).float(), torch.cat([s_std, so_std]).float())
        loss = tc.w_rec * rec + tc.w_kl_content * kl_c + tc.w_kl_style * kl_s + tc.w_cls1 * adv
        extra: dict[str, float] = {}
        if paired is not None:
            pair_rec = paired_distance(restyled, paired)
            loss = loss + tc.w_paired * pair_rec
            extra["pair_rec"] = pair_rec.item()
            if tc.w_paired_code and int(paired.valid.sum()) > 1:
                with tools.autocast():
                    other_mean = nets.E(paired.x_other[paired.valid])[0]
                pair_code = relative_code_distance(c_mean[paired.valid].float(), other_mean.float())
                loss = loss + tc.w_paired_code * pair_code
                extra["pair_code"] = pair_code.item()
        _step(tools, opts["eg1"], loss)
    with torch.no_grad():
        acc = (logits.argmax(1) == a).float().mean()
    return {
        "rec": rec.item(),
        "kl_c": kl_c.item(),
        "kl_s": kl_s.item(),
        "adv": adv.item(),
        "c1": c1_loss.item(),
        "c1_acc": acc.item(),
        **extra,
    }


def classifier_step(
    nets: GADNNets, opts: dict, x: torch.Tensor, a: torch.Tensor, tools: Any = PLAIN
) -> dict[str, float]:
    """Pre-train C2 on real images only (it should already know the artists when stage 2 starts)."""
    with tools.autocast():
        logits = nets.C2(x).float()
    loss = F.cross_entropy(logits, a)
    _step(tools, opts["c2pre"], loss)
    return {"c2": loss.item(), "c2_acc": (logits.argmax(1) == a).float().mean().item()}


def freeze_encoder(nets: GADNNets) -> None:
    """Stage 2 keeps E fixed: no gradients, eval mode."""
    nets.E.eval()
    for p in nets.E.parameters():
        p.requires_grad_(False)


def stage2_step(
    nets: GADNNets,
    opts: dict,
    x: torch.Tensor,
    a: torch.Tensor,
    tc: TrainConfig,
    gen: torch.Generator | None = None,
    tools: Any = PLAIN,
    paired: PairedBatch | None = None,
) -> dict[str, float]:
    """One stage-2 update: LSGAN D, adversarial classifier C2 ("not a'" on generated images),
    and G/S trained against both plus the content condition E(G(c, s)) ~ c. With ``paired`` (a' is then
    ``paired.other``, which may be a itself), G(c, S(a')) is also pulled towards a''s own drawing."""
    A = nets.cfg.num_artists
    with torch.no_grad(), tools.autocast():
        c_mean, c_std = nets.E(x)
        c = reparameterise(c_mean, c_std, gen)
    a_gen = paired.other if paired is not None else torch.randint(0, A, a.shape, generator=gen).to(a.device)
    with tools.autocast():
        s_mean, s_std = nets.S(a_gen)
        s = reparameterise(s_mean, s_std, gen)
        fake = nets.G(c, s)
        d_loss = lsgan_discriminator(nets.D(x).float(), nets.D(fake.detach()).float())
    _step(tools, opts["d2"], d_loss)

    with tools.autocast():
        real_logits = nets.C2(x).float()
        fake_scores = nets.C2(fake.detach()).float()
    c2_real = F.cross_entropy(real_logits, a)
    c2_fake = negative_log_unlikelihood(fake_scores, a_gen)
    c2_loss = c2_real + c2_fake
    _step(tools, opts["c2"], c2_loss)

    with frozen(nets.D, nets.C2):
        with tools.autocast():
            g_adv = lsgan_generator(nets.D(fake).float())
            fake_logits = nets.C2(fake).float()
            content_of_fake = nets.E(fake)[0].float()
        g_cls = F.cross_entropy(fake_logits, a_gen)
        content = code_distance(content_of_fake, c.float())
        kl_s = kl_standard_normal(s_mean.float(), s_std.float())
        g_loss = tc.w_dis2 * g_adv + tc.w_cls2 * g_cls + tc.w_content2 * content + tc.w_kl_style * kl_s
        extra: dict[str, float] = {}
        if paired is not None:
            pair_rec = paired_distance(fake, paired)
            g_loss = g_loss + tc.w_paired * pair_rec
            extra["pair_rec"] = pair_rec.item()
        _step(tools, opts["g2"], g_loss)
    with torch.no_grad():
        acc_gen = (fake_logits.argmax(1) == a_gen).float().mean()
    return {
        "d": d_loss.item(),
        "g_adv": g_adv.item(),
        "g_cls": g_cls.item(),
        "content": content.item(),
        "c2_real": c2_real.item(),
        "c2_fake": c2_fake.item(),
        "c2_acc_gen": acc_gen.item(),
        **extra,
    }


# ----------------------------------------------------------------------------------------------- helpers
@torch.no_grad()
def preview_grid(nets: GADNNets, x: torch.Tensor) -> np.ndarray:
    """Rows = fixed contents (first column: the real image), columns = every artist's style."""
    training = {name: getattr(nets, name).training for name in ("E", "G", "S")}
    for name in training:
        getattr(nets, name).eval()
    c, _ = nets.E(x)
    A = nets.cfg.num_artists
    cells = []
    for i in range(x.shape[0]):
        cells.append(x[i : i + 1].float())
        cells.append(nets.G(c[i : i + 1].expand(A, -1), nets.S.mean).float())
    for name, was in training.items():
        getattr(nets, name).train(was)
    imgs = (torch.cat(cells) + 1) / 2
    return tile(to_uint8(imgs.cpu()), x.shape[0], A + 1)


@torch.no_grad()
def content_statistics(
    encoder: torch.nn.Module, data: ArtistImages, device: torch.device, batch: int = 256, max_images: int = 1500
) -> dict[str, torch.Tensor]:
    """Mean, principal axes (rows, largest variance first) and variances of the training set's content
    codes (E's means): the content sliders and "sample new content" draw from this Gaussian.
    At most ``max_images`` (a fixed random subset) are encoded: enough for a 64-512-d covariance and
    it keeps the export cheap on a shared CPU."""
    codes = encode_all(encoder, data, device, batch, max_images)
    mean = codes.mean(0)
    centred = (codes - mean).double()
    cov = centred.T @ centred / max(1, codes.shape[0] - 1)
    variances, vectors = torch.linalg.eigh(cov)
    order = torch.argsort(variances, descending=True)
    return {
        "content.mean": mean.float(),
        "content.axes": vectors[:, order].T.float().contiguous(),
        "content.variances": variances[order].clamp_min(0).float(),
    }


@torch.no_grad()
def encode_all(
    encoder: torch.nn.Module, data: ArtistImages, device: torch.device, batch: int = 256, max_images: int = 0
) -> torch.Tensor:
    was = encoder.training
    encoder.eval()
    order = torch.arange(len(data))
    if max_images and len(data) > max_images:
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:max_images]
    out = []
    for i in range(0, len(order), batch):
        x, _ = data.batch(order[i : i + batch])
        out.append(encoder(x.to(device))[0].float().cpu())
    encoder.train(was)
    return torch.cat(out)


# ----------------------------------------------------------------------------------------------- options
@dataclass
class GADNOptions:
    """GADN's own options of ``studio train gadn`` (the shared ones are :class:`TrainerOptions`)."""

    data: str = ""
    out: str | None = None
    run_dir: str | None = None
    model_name: str | None = None
    max_per_artist: int = 0
    arch: dict[str, Any] = field(default_factory=dict)  # the architecture options given (GADNConfig fields)
    train: TrainConfig = field(default_factory=TrainConfig)
    adversary1_given: bool = False  # --adversary1 was given (a resumed run's own form gives way otherwise)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> GADNOptions:
        get = {k: v for k, v in options.items() if v is not None}
        if get.get("adversary1") == "auto":  # the run's own form on resume, the paper's otherwise
            del get["adversary1"]
        tknown = {f.name for f in dataclasses.fields(TrainConfig)}
        return cls(
            data=str(get.get("data", "")),
            out=str(get["out"]) if "out" in get else None,
            run_dir=str(get["run_dir"]) if "run_dir" in get else None,
            model_name=get.get("model_name") or get.get("name"),
            max_per_artist=int(get.get("max_per_artist", 0)),
            arch={k: get[k] for k in ARCH_FIELDS if k in get},
            train=TrainConfig(**{k: v for k, v in get.items() if k in tknown}),
            adversary1_given="adversary1" in get,
        )

    @property
    def name(self) -> str:
        if self.model_name:
            return str(self.model_name)
        if self.out:
            p = Path(self.out)
            return (p.with_suffix("") if p.suffix in (".json", ".safetensors") else p).name
        return f"gadn-{Path(self.data).name or 'data'}"

    def out_stem(self) -> Path:
        """Where the exported model goes (``studio.core.paths.model_out_stem``)."""
        from studio.core.paths import model_out_stem

        return model_out_stem(self.out, self.name)

    def run_path(self) -> Path:
        from studio.core.paths import runs_dir

        return Path(self.run_dir) if self.run_dir else runs_dir() / self.name

    def architecture(self, num_artists: int) -> GADNConfig:
        try:
            return GADNConfig(**{**GADNConfig().to_dict(), **self.arch, "num_artists": num_artists})
        except (TypeError, ValueError) as exc:
            raise StudioError(f"invalid GADN architecture options: {exc}") from exc

    def validate(self) -> None:
        t = self.train
        if not self.data:
            raise StudioError("no training data: pass --data FOLDER (one subfolder of images per artist)")
        for stage in STAGES:
            n = getattr(t, {"stage1": "steps1", "cls": "steps_cls", "stage2": "steps2"}[stage])
            if not isinstance(n, int) or n < 0:
                raise StudioError(f"{STAGE_FLAGS[stage]} must be a whole number ≥ 0 (got {n!r})")
        if t.steps1 + t.steps_cls + t.steps2 < 1:
            raise StudioError("nothing to train: --steps1, --steps-cls and --steps2 are all 0")
        if not isinstance(t.batch_cls, int) or t.batch_cls < 1:
            raise StudioError(f"--batch-cls must be a whole number ≥ 1 (got {t.batch_cls!r})")
        if t.adversary1 not in ("unlikelihood", "likelihood"):
            raise StudioError(f"unknown --adversary1 '{t.adversary1}' (use unlikelihood or likelihood)")
        for name in ("lr1", "lr1_style", "lr_cls", "lr2", "lr2_style"):
            v = getattr(t, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise StudioError(f"--{name.replace('_', '-')} must be a positive number (got {v!r})")
        for name in ("w_rec", "w_kl_content", "w_kl_style", "w_cls1", "w_content2", "w_cls2", "w_dis2"):
            v = getattr(t, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v)):
                raise StudioError(f"--{name.replace('_', '-')} must be a number (got {v!r})")
        for name in ("w_paired", "w_paired_code"):
            v = getattr(t, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise StudioError(f"--{name.replace('_', '-')} must be a number ≥ 0 (got {v!r})")
        h = t.holdout_contents
        if not (isinstance(h, (int, float)) and 0 <= h <= 0.5):
            raise StudioError(f"--holdout-contents must be a fraction from 0 to 0.5 (got {h!r})")


ADVERSARY1_NOTES = {
    "likelihood": "the paper's, appendix C.2: E, G and S maximise C1's negative log-likelihood",
    "unlikelihood": "not the paper's stage 1: E, G and S minimise -log(1 - p_C1(a))",
}


def _stage_steps(tc: TrainConfig, stage: str) -> int:
    return {"stage1": tc.steps1, "cls": tc.steps_cls, "stage2": tc.steps2}[stage]


# ----------------------------------------------------------------------------------------------- the task
class GADNTask(TrainingTask):
    """Train a GADN (see the module docstring)."""

    family = "gadn"

    def __init__(self, options: GADNOptions, trainer: TrainerOptions):
        self.options, self.trainer = options, trainer
        self.tc = options.train
        self.title = f"Train GADN on {Path(options.data).name or 'data'}"
        self.stage_losses: dict[str, dict[str, float]] = {}  # each stage's last losses (the card's metrics)
        self.opts: dict[str, torch.optim.Optimizer] = {}

    def phases(self) -> list[Phase]:
        return [Phase(stage, _stage_steps(self.tc, stage), STAGE_TITLES[stage]) for stage in STAGES]

    def run_path(self) -> Path:
        return self.options.run_path()

    def out_path(self) -> Path:
        return self.options.out_stem()

    def config(self) -> dict[str, Any]:
        return {"model": self.cfg.to_dict(), "artists": list(self.data.artists), "train": self.tc.to_dict()}

    # -- setup -----------------------------------------------------------------------------------------
    def setup(self, ctx: TrainContext, saved: Mapping[str, Any] | None) -> None:
        o = self.options
        o.validate()
        wanted = o.architecture(2)
        self.cfg = wanted
        if saved is not None:
            self._resume_plan(ctx, saved, wanted)
        ctx.message(f"loading images from {o.data} …")
        self.data = load_artist_folder(o.data, self.cfg.image_size, o.max_per_artist)
        if saved is not None:
            check_artists(self.data, list(saved["config"].get("artists") or []))
        self.cfg = dataclasses.replace(self.cfg, num_artists=len(self.data.artists))
        self.nets = GADNNets(self.cfg).train()
        held = held_out_contents(self.data.keys, self.tc.holdout_contents)
        usable = torch.tensor([k not in held for k in self.data.keys], dtype=torch.bool)
        self.train_indices = usable.nonzero().squeeze(1)  # all images unless contents are held out
        shard = ctx.shard(len(self.data))
        self.local = shard[usable[shard]]
        if held:
            ctx.message(f"{len(held)} contents ({int((~usable).sum())} images) held out of training")
        self.partners: torch.Tensor | None = None
        if self.tc.w_paired or self.tc.w_paired_code:
            self.partners = partner_table(self.data, usable)
            pairs = int(((self.partners >= 0).sum(1) > 1)[self.local].sum())
            if not pairs:
                raise StudioError(
                    f"{o.data}: --w-paired / --w-paired-code need the same content drawn by two artists "
                    "(the same file name in two artist folders); this folder has none"
                )
            ctx.message(f"paired losses on: {pairs} training images have another artist's drawing of their content")
        pick = torch.randperm(len(self.data), generator=torch.Generator().manual_seed(PREVIEW_SEED))[:6]
        self.preview_x = self.data.batch(pick)[0]
        ctx.message(
            f"{len(self.data)} images of {len(self.data.artists)} artists "
            f"({', '.join(self.data.artists)}) at {self.cfg.image_size} px; training on {ctx.device} "
            f"({self.trainer.precision})"
        )

    def _resume_plan(self, ctx: TrainContext, saved: Mapping[str, Any], wanted: GADNConfig) -> None:
        """The run's architecture; its finished stages' lengths; the options' recipe (changes reported)."""
        where = self.options.run_path()
        config = saved.get("config") or {}
        try:
            self.cfg = GADNConfig.from_dict(config["model"])
            saved_tc = TrainConfig.from_dict(config.get("train") or {})
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(where, f"the run's GADN config is invalid ({exc})") from exc
        differ = [f for f in ARCH_FIELDS if getattr(self.cfg, f) != getattr(wanted, f)]
        if differ:
            ctx.message(
                "resuming with the run's architecture ("
                + ", ".join(f"{f} {getattr(self.cfg, f)}, not {getattr(wanted, f)}" for f in differ)
                + ")"
            )
        stage, done = saved.get("phase"), int(saved.get("phase_step", 0))
        if stage in STAGES:
            for earlier in STAGES[: STAGES.index(stage)]:  # a finished stage keeps the length it had
                key = {"stage1": "steps1", "cls": "steps_cls", "stage2": "steps2"}[earlier]
                if getattr(self.tc, key) != getattr(saved_tc, key):
                    ctx.message(
                        f"{STAGE_TITLES[earlier]} is finished with {getattr(saved_tc, key)} steps; "
                        f"{STAGE_FLAGS[earlier]} {getattr(self.tc, key)} does not change it"
                    )
                    setattr(self.tc, key, getattr(saved_tc, key))
            if _stage_steps(self.tc, stage) < done:
                raise StudioError(
                    f"this run has done {done} steps of {STAGE_TITLES[stage]}; "
                    f"{STAGE_FLAGS[stage]} {_stage_steps(self.tc, stage)} would end it before "
                    f"that (pass {STAGE_FLAGS[stage]} {done} or more)"
                )
        if not self.options.adversary1_given and self.tc.adversary1 != saved_tc.adversary1:
            # the stage-1 adversary is part of what the run is: it changes only when asked for by name
            ctx.message(f"resuming with the run's stage-1 adversary {saved_tc.adversary1} (--adversary1)")
            self.tc.adversary1 = saved_tc.adversary1
        if self.tc.holdout_contents != saved_tc.holdout_contents:
            # another held-out set would put contents the run has been judged without into training
            raise StudioError(
                f"this run holds out {saved_tc.holdout_contents:g} of the contents; --holdout-contents "
                f"{self.tc.holdout_contents:g} would change which contents it never sees "
                f"(pass --holdout-contents {saved_tc.holdout_contents:g}, or start a new run)"
            )
        schedule = {"steps1", "steps_cls", "steps2"}
        changed = [
            f.name
            for f in dataclasses.fields(TrainConfig)
            if f.name not in schedule and getattr(self.tc, f.name) != getattr(saved_tc, f.name)
        ]
        if changed:
            ctx.message(
                "the options change the run's "
                + ", ".join(f"{k} {getattr(saved_tc, k)} → {getattr(self.tc, k)}" for k in changed)
            )

    def networks(self) -> dict[str, torch.nn.Module]:
        return {name: getattr(self.nets, name) for name in NETWORKS}

    def ema_networks(self) -> tuple[str, ...]:
        return ("G", "S")  # the generator and the style codes it draws with

    def optimizers(self, phase: str) -> dict[str, torch.optim.Optimizer]:
        self.opts = make_optimisers(self.nets, phase, self.tc)
        return self.opts

    def start_phase(self, ctx: TrainContext) -> None:
        if ctx.phase == "stage2":
            freeze_encoder(self.nets)
        else:
            self.nets.E.train().requires_grad_(True)
        # the options' learning rates, also over a resumed optimiser's saved ones
        for name, lrs in stage_learning_rates(ctx.phase, self.tc).items():
            for group, lr in zip(self.opts[name].param_groups, lrs):
                group["lr"] = lr

    def state(self) -> dict[str, Any]:
        return {"stage_losses": self.stage_losses}

    def load_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> None:
        self.stage_losses = {str(k): dict(v) for k, v in (state.get("stage_losses") or {}).items()}

    # -- one step --------------------------------------------------------------------------------------
    def train_step(self, ctx: TrainContext) -> dict[str, float]:
        stage = ctx.phase
        n = ctx.local_batch(self.tc.batch_cls if stage == "cls" else self.trainer.batch)
        idx = self.local[torch.randint(0, len(self.local), (n,), generator=ctx.rng)]
        x, a = self.data.batch(idx)
        x, a = ctx.to_device(x), a.to(ctx.device)
        if stage == "stage1":
            paired = self._paired(ctx, idx, a, stage)
            losses = stage1_step(self.nets, self.opts, x, a, self.tc, ctx.rng, tools=ctx, paired=paired)
        elif stage == "cls":
            losses = classifier_step(self.nets, self.opts, x, a, tools=ctx)
        else:
            paired = self._paired(ctx, idx, a, stage)
            losses = stage2_step(self.nets, self.opts, x, a, self.tc, ctx.rng, tools=ctx, paired=paired)
        self.stage_losses[stage] = losses
        return losses

    def _paired(self, ctx: TrainContext, idx: torch.Tensor, a: torch.Tensor, stage: str) -> PairedBatch | None:
        """The batch's partners when paired losses are on: stage 1 redraws as another artist, stage 2 as
        any artist (the step's own random draws, taken here instead)."""
        if self.partners is None:
            return None
        A = self.cfg.num_artists
        if stage == "stage1":
            other = other_artists(a.cpu(), A, ctx.rng)
        else:
            other = torch.randint(0, A, a.shape, generator=ctx.rng)
        rows = self.partners[idx, other]
        valid = rows >= 0
        x_other = self.data.batch(rows.clamp(min=0))[0]
        return PairedBatch(other.to(ctx.device), ctx.to_device(x_other), valid.to(ctx.device))

    # -- looking at the model --------------------------------------------------------------------------
    def preview(self, ctx: TrainContext) -> np.ndarray:
        with ctx.autocast():
            return preview_grid(self.nets, self.preview_x.to(ctx.device))

    def kid_sources(self, ctx: TrainContext) -> list[KIDSource]:
        pick = self.train_indices[
            torch.randperm(len(self.train_indices), generator=torch.Generator().manual_seed(KID_SEED))
        ]
        A = self.cfg.num_artists

        def reference(n: int) -> torch.Tensor:
            return self.data.batch(pick[:n])[0]

        @torch.no_grad()
        def samples(n: int) -> torch.Tensor:
            """Training contents redrawn by another artist: what stage 2 learns to do."""
            E, G, S = (ctx.export_module(k) for k in ("E", "G", "S"))
            out = []
            for chunk in pick[-n:].split(64):
                x, a = self.data.batch(chunk)
                others = (a + 1 + torch.arange(len(chunk)) % max(1, A - 1)) % A
                with ctx.autocast():
                    content, _ = E(x.to(ctx.device))
                    means = typing.cast(torch.Tensor, S.mean)  # S or its EMA copy: a StyleTable
                    out.append(G(content, means[others.to(ctx.device)]).float())
            return torch.cat(out)

        return [KIDSource(reference, samples, phases=("stage1", "stage2"))]

    # -- export ----------------------------------------------------------------------------------------
    def export(self, ctx: TrainContext, summary: RunSummary) -> Path:
        """Save the renderable model (E, G, S, C2 + content statistics) with its model card."""
        o, tc = self.options, self.tc
        ctx.message("computing the content statistics…")
        tensors: dict[str, torch.Tensor] = {}
        for name in GADNNets.RENDER:
            tensors.update(module_tensors(name, ctx.export_module(name)))
        trained_on = self.data if len(self.train_indices) == len(self.data) else self.data.subset(self.train_indices)
        tensors.update(content_statistics(ctx.export_module("E"), trained_on, ctx.device))
        info = self.data.info
        notes = {
            "finished": "finished",
            "cancelled": "stopped early (cancelled); resumable from the run folder",
            "time_limit": "stopped at the time limit; resumable from the run folder",
        }.get(summary.status, summary.status)
        if len(summary.commands) > 1:
            notes += "; continued with: " + " ; ".join(summary.commands[1:])
        notes += (
            f"; schedule stage1={tc.steps1}, classifier={tc.steps_cls}, stage2={tc.steps2} steps; "
            f"{len(self.data)} images; stage-1 adversary {tc.adversary1} ({ADVERSARY1_NOTES[tc.adversary1]})"
        )
        if tc.w_paired or tc.w_paired_code:
            notes += (
                f"; paired losses (not the paper's): redrawn-as-the-other-artist to its own drawing × {tc.w_paired}, "
                f"content codes of the two drawings × {tc.w_paired_code}"
            )
        if len(self.train_indices) < len(self.data):
            notes += (
                f"; {len(self.data) - len(self.train_indices)} images of {tc.holdout_contents:.0%} of the contents "
                "held out of training (evaluate.py judges transfers on them)"
            )
        card = ModelCard(
            name=o.name,
            family="gadn",
            config=self.cfg.to_dict(),
            image_size=self.cfg.image_size,
            latent_dim=self.cfg.content_dim,
            labels={"artists": list(self.data.artists)},
            training=ctx.training_info(summary, info.get("data") or str(o.data), info.get("licence", ""), notes),
            metrics={"final_losses": {k: dict(v) for k, v in self.stage_losses.items()}},
            extra={
                "train": tc.to_dict(),
                "batch": self.trainer.batch,
                "content_images": len(self.data),
                "commands": list(summary.commands),
                "training_run": ctx.training_record(summary),
                "loss_history": summary.history,
            },
        )
        return save_checkpoint(o.out_stem(), tensors, card)


def GADNTrainJob(**options: Any) -> Trainer:
    """``studio train gadn``: the GADN task on the shared Trainer (options as parsed by the CLI).

    The shared ``steps`` option is refused (GADN's length is ``steps1`` + ``steps_cls`` + ``steps2``)."""
    if options.get("steps") is not None:
        raise StudioError(STEPS_REFUSED)
    gadn = GADNOptions.from_options(options)
    t = gadn.train
    shared = {k: v for k, v in options.items() if k != "steps"}
    trainer = TrainerOptions.from_mapping(
        shared, steps=max(1, t.steps1 + t.steps_cls + t.steps2), batch=8, checkpoint_every=500, preview_every=100
    )
    return Trainer(GADNTask(gadn, trainer), trainer)
