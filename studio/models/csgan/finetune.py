"""CSGAN style fine-tuning (paper §3, Fig. 2): teach a content generator one painting's style.

Two copies of the loaded generator: G_C (frozen) and G_S (trained). Every step draws one z batch and
feeds it to both; the loss is

    style_weight · Σ_l w_l ||Gram(φ_l(G_S(z))) − Gram(φ_l(painting))||² / ||Gram(φ_l(painting))||²
  + content_weight · ||φ_c(G_S(z)) − φ_c(G_C(z))||² / ||φ_c(G_C(z))||²
  + tv_weight · TV(G_S(z))

through a frozen loss network φ (VGG-19, :mod:`studio.losses`), optimised with Adam 1e-4 over the whole
generator or only its last K layers (the paper: the last layers carry the style).

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
import json
import math
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from studio.core.atomic import atomic_write_text
from studio.core.checkpoint import ModelCard, TrainingInfo, load_checkpoint, save_checkpoint
from studio.core.device import resolve_device
from studio.core.errors import CheckpointError, JobCancelled, StudioError
from studio.core.family import Control, Family, LoadedModel, normalise_state
from studio.core.grid import tile, to_uint8
from studio.core.images import load_image, pil_to_tensor
from studio.core.jobs import Reporter, cancelled_with
from studio.core.latents import seed_to_z
from studio.core.paths import runs_dir, user_models_dir
from studio.losses.perceptual import (FINETUNE_LOSS, FeatureNetwork, LossConfig, PerceptualLoss,
                                      build_loss_network, resize_for_loss)

STYLE_FAMILY = "csgan-style"
STYLE_PREFIX = "style."
PREVIEW_COUNT = 8
_MAX_PAINTING_SIDE = 1024  # paintings are shrunk to this right after loading (speed; 8000 px inputs)


# --------------------------------------------------------------------------------------------- settings
@dataclass
class FinetuneConfig:
    """Settings of one fine-tune (stored in the child card). Weights are for the normalised losses."""

    steps: int = 100
    batch: int = 16
    layers: int = 0  # train only the last K layers; 0 = the whole generator
    lr: float = 1e-4
    style_weight: float = 1.0
    content_weight: float = 1.0
    tv_weight: float = 10.0
    size: int = 0  # image size fed to the loss network; 0 = the generator's own size
    preview_every: int = 5
    checkpoint_every: int = 25
    seed: int = 0
    precision: str = "fp32"  # 'bf16' = bfloat16 autocast for the loss network (fast on AMX/CUDA)
    loss: LossConfig = field(default_factory=lambda: copy.deepcopy(FINETUNE_LOSS))

    def __post_init__(self) -> None:
        if isinstance(self.loss, Mapping):
            self.loss = LossConfig.from_dict(self.loss)
        checks = [(self.steps >= 1, "steps must be at least 1"), (self.batch >= 1, "batch must be at least 1"),
                  (self.layers >= 0, "layers must be 0 (all) or a positive count"),
                  (self.lr > 0, "the learning rate must be positive"),
                  (min(self.style_weight, self.content_weight, self.tv_weight) >= 0, "loss weights must be ≥ 0"),
                  (self.size == 0 or 16 <= self.size <= 1024, "size must be 0 (generator size) or 16–1024 px"),
                  (self.precision in ("fp32", "bf16"), "precision must be 'fp32' or 'bf16'")]
        for ok, msg in checks:
            if not ok:
                raise StudioError(f"fine-tune settings: {msg}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FinetuneConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# ------------------------------------------------------------------------------------- generator layers
def layer_groups(generator: nn.Module) -> list[tuple[str, list[str]]]:
    """The generator's layers in forward order as (name, parameter names).

    A layer is a weight layer (Linear / Conv / ConvTranspose) together with the normalisation layers
    that follow it, so "the last K layers" means K convolutions with their BatchNorms. A generator may
    define ``layer_groups()`` itself to override this.
    """
    custom = getattr(generator, "layer_groups", None)
    if callable(custom):
        return [(str(n), list(p)) for n, p in custom()]
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
    raise StudioError(f"model '{model.card.name}' (family {model.card.family}) has no generator module that "
                      "can be fine-tuned (expected an nn.Module attribute stored in the checkpoint)")


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
        img.thumbnail((_MAX_PAINTING_SIDE, _MAX_PAINTING_SIDE), Image.LANCZOS)
        w, h = img.size
    if max(w, h) > 4 * min(w, h):  # a strip: pad to 4:1 so the short side can be scaled sensibly
        side = max(w, h)
        target = (side, max(h, side // 4)) if w > h else (max(w, side // 4), side)
        img = ImageOps.pad(img, target, color=(255, 255, 255))
        w, h = img.size
    scale = native_size / min(w, h)
    img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)
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


def unique_name(folder: Path, stem: str) -> str:
    safe = safe_name(stem)
    name, i = safe, 2
    while (folder / f"{name}.json").exists():
        name, i = f"{safe}-{i}", i + 1
    return name


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
        raise StudioError(f"{path.name}: this is already a style fine-tune; fine-tune its parent "
                          f"'{card.parent}' instead (or use style strength)")
    loaded = default_registry().get(card.family).load(tensors, card, device)
    prefix, gen = find_generator(loaded, tensors)
    latent = int(card.latent_dim or 0)
    if latent <= 0:
        raise StudioError(f"{path.name}: the model card has no latent size; only latent-code generators "
                          "can be style fine-tuned")
    return _Parent(path.stem, path, card, tensors, loaded, prefix, gen)


class FinetuneJob:
    """The fine-tune as a studio job: resumable, previews every few steps, saves a child on cancel."""

    def __init__(self, model: str | Path, painting: str | Path, config: FinetuneConfig | None = None,
                 out: str | None = None, device: str | torch.device = "auto", command: str = "",
                 resume: bool = False, models_dir: str | Path | None = None,
                 loss_network: FeatureNetwork | None = None):
        self.model = model
        self.painting = Path(painting)
        self.config = config or FinetuneConfig()
        self.out = out
        self.device_name = device
        self.command = command
        self.resume = resume
        self.models_dir = Path(models_dir) if models_dir else None
        self.loss_network = loss_network
        self.title = f"Fine-tune on {self.painting.name}"
        self.trained_layers: list[str] = []

    # the pieces are methods so the UI/bench can reuse them
    def run(self, reporter: Reporter) -> dict[str, Any]:
        cfg = self.config
        device = resolve_device(self.device_name)
        reporter.message("loading the model and the painting…")
        parent = _load_parent(self.model, device)
        native = int(parent.card.image_size)
        size = cfg.size or native
        painting = load_painting(self.painting, native, size).to(device)
        digest = file_sha256(self.painting)
        net = self.loss_network or build_loss_network(cfg.loss, device)
        loss = PerceptualLoss(net, cfg.loss)
        loss.set_style(painting)

        g_c = copy.deepcopy(parent.generator).to(device).eval().requires_grad_(False)
        g_s = copy.deepcopy(parent.generator).to(device).eval()  # eval: BN uses the parent's statistics
        self.trained_layers = select_trainable(g_s, cfg.layers)
        params = [p for p in g_s.parameters() if p.requires_grad]
        optim = torch.optim.Adam(params, lr=cfg.lr)

        folder = self.models_dir or user_models_dir()
        base = f"{parent.id}-{self.painting.stem}"
        # a resumed run continues (and overwrites) the child its stopped run saved
        name = self.out or (safe_name(base) if self.resume else unique_name(folder, base))
        run_folder = runs_dir() / f"finetune-{name}"
        start, elapsed_before, history = 0, 0.0, {}
        if self.resume:
            start, elapsed_before, history = self._load_run(run_folder, g_s, optim, parent)
        elif (folder / f"{name}.json").exists():
            raise StudioError(f"a model called '{name}' already exists in {folder}; choose another --out name")

        z_fixed = seed_to_z(0, parent.card.latent_dim, PREVIEW_COUNT).to(device)
        with torch.no_grad():
            before = g_c(z_fixed)
        amp = cfg.precision == "bf16"
        t0 = time.perf_counter()
        step = start
        first_style = history.get("style_start")
        last: dict[str, float] = {}

        def save(final: bool) -> Path:
            wall = elapsed_before + time.perf_counter() - t0
            self._save_run(run_folder, g_s, optim, step, wall, history)
            return self._save_child(folder, name, parent, g_c, g_s, step, wall, digest, device, last, history)

        try:
            for step in range(start, cfg.steps):
                gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
                z = torch.randn(cfg.batch, parent.card.latent_dim, generator=gen).to(device)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                    with torch.no_grad():
                        content = loss.content_target(resize_for_loss(_to01(g_c(z)), size))
                    out = _to01(g_s(z))
                    terms = loss(resize_for_loss(out, size), content)
                total = (cfg.style_weight * terms.style + cfg.content_weight * terms.content
                         + cfg.tv_weight * terms.tv)
                optim.zero_grad(set_to_none=True)
                total.backward()
                optim.step()
                last = {"total": float(total.detach()), "style": float(terms.style.detach()),
                        "content": float(terms.content.detach()), "tv": float(terms.tv.detach())}
                if first_style is None:
                    first_style = history["style_start"] = last["style"]
                history.setdefault("style", []).append(last["style"])
                step += 1
                preview = None
                if step % max(1, cfg.preview_every) == 0 or step == cfg.steps or step == start + 1:
                    with torch.no_grad():
                        preview = preview_grid(before, g_s(z_fixed))
                if cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step < cfg.steps:
                    self._save_run(run_folder, g_s, optim, step, elapsed_before + time.perf_counter() - t0,
                                   history)
                reporter.report(step, cfg.steps, losses=last, preview=preview,
                                metrics={f"style_{k}": v for k, v in terms.per_layer.items()})
        except JobCancelled:
            if step > start or (self.resume and step > 0):
                raise cancelled_with({"card": str(save(final=False)), "steps": step})
            raise
        card_path = save(final=True)
        return {"card": str(card_path), "steps": step, "trained_layers": list(self.trained_layers)}

    # -------------------------------------------------------------------------------- persistence
    def _save_child(self, folder: Path, name: str, parent: _Parent, g_c: nn.Module, g_s: nn.Module,
                    steps: int, wall: float, digest: str, device: torch.device, last: Mapping[str, float],
                    history: Mapping[str, Any]) -> Path:
        cfg = self.config
        tensors = {k: v for k, v in parent.tensors.items() if not k.startswith(STYLE_PREFIX)}
        for k, v in g_s.state_dict().items():
            tensors[f"{STYLE_PREFIX}{parent.prefix}.{k}"] = v
        change = relative_change(g_c, g_s)
        card = ModelCard(
            name=name, family=STYLE_FAMILY,
            config={"parent_family": parent.card.family, "generator_prefix": parent.prefix,
                    "parent_card": parent.card.to_dict(), "finetune": cfg.to_dict()},
            image_size=parent.card.image_size, latent_dim=parent.card.latent_dim,
            labels=copy.deepcopy(parent.card.labels),
            training=TrainingInfo(
                data=f"painting {self.painting.name} (sha256 {digest}); content from parent '{parent.id}' "
                     f"({parent.card.training.data})",
                licence=f"parent model: {parent.card.training.licence or 'see parent'}; painting: as "
                        "supplied by the user",
                command=self.command or f"FinetuneJob({parent.id!r}, {self.painting.name!r})",
                steps=int(steps), wall_time_s=round(float(wall), 2), device=str(device),
                notes=f"CSGAN style fine-tune, {'whole generator' if cfg.layers <= 0 else f'last {cfg.layers} layers'}"),
            metrics={"relative_change": change, "style_loss_start": history.get("style_start"),
                     **{f"{k}_loss_end": v for k, v in last.items()}},
            parent=parent.id,
            extra={"painting": {"file": self.painting.name, "sha256": digest},
                   "trained_layers": list(self.trained_layers),
                   "all_layers": [g for g, _ in layer_groups(g_c)]},
        )
        folder.mkdir(parents=True, exist_ok=True)
        return save_checkpoint(folder / name, tensors, card)

    @staticmethod
    def _save_run(folder: Path, g_s: nn.Module, optim: torch.optim.Optimizer, step: int, wall: float,
                  history: Mapping[str, Any]) -> None:
        """Resumable state: G_S, Adam moments and the step counter, each file written atomically."""
        from safetensors.torch import save_file
        from studio.core.atomic import atomic_path

        tensors = {f"g.{k}": v.detach().cpu().contiguous() for k, v in g_s.state_dict().items()}
        state = optim.state_dict()
        for idx, st in state["state"].items():
            for key, value in st.items():
                if torch.is_tensor(value):
                    tensors[f"opt.{idx}.{key}"] = value.detach().cpu().reshape(value.shape).contiguous()
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / "state.safetensors") as tmp:
            save_file(tensors, str(tmp))
        atomic_write_text(folder / "state.json", json.dumps(
            {"step": int(step), "wall_time_s": float(wall), "history": dict(history)}))

    @staticmethod
    def _load_run(folder: Path, g_s: nn.Module, optim: torch.optim.Optimizer,
                  parent: _Parent) -> tuple[int, float, dict]:
        from safetensors.torch import load_file

        meta_path, tpath = folder / "state.json", folder / "state.safetensors"
        if not meta_path.exists() or not tpath.exists():
            raise StudioError(f"nothing to resume: {folder} holds no saved fine-tune state")
        try:
            meta = json.loads(meta_path.read_text())
            tensors = load_file(str(tpath))
        except Exception as exc:
            raise CheckpointError(tpath, f"the saved fine-tune state cannot be read ({exc})")
        g_state = {k[2:]: v for k, v in tensors.items() if k.startswith("g.")}
        try:
            g_s.load_state_dict(g_state, strict=True)
        except RuntimeError:
            raise CheckpointError(tpath, "the saved fine-tune state does not fit this model") from None
        device = next(g_s.parameters()).device
        params = [p for p in g_s.parameters() if p.requires_grad]
        opt_state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in tensors.items():
            if key.startswith("opt."):
                _, idx, name = key.split(".", 2)
                opt_state.setdefault(int(idx), {})[name] = value.to(device) if name != "step" else value
        if opt_state:
            sd = optim.state_dict()
            sd["state"] = opt_state
            if max(opt_state) >= len(params):
                raise CheckpointError(tpath, "the saved fine-tune state used other layers; use the same --layers")
            optim.load_state_dict(sd)
        return int(meta.get("step", 0)), float(meta.get("wall_time_s", 0.0)), dict(meta.get("history") or {})


def make_finetune_job(**options: Any) -> FinetuneJob:
    """Build a job from CLI-style options (model, painting, steps, batch, layers, ...)."""
    known = {f.name for f in fields(FinetuneConfig)}
    cfg = FinetuneConfig(**{k: v for k, v in options.items() if k in known and v is not None})
    return FinetuneJob(options["model"], options["painting"], cfg, out=options.get("out"),
                       device=options.get("device") or "auto", command=options.get("command", ""),
                       resume=bool(options.get("resume")), models_dir=options.get("models_dir"))


# -------------------------------------------------------------------------------------- child family
def _lerp_state(content: Mapping[str, torch.Tensor], style: Mapping[str, torch.Tensor],
                s: float) -> dict[str, torch.Tensor]:
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

    def __init__(self, inner: LoadedModel, generator: nn.Module, content: dict[str, torch.Tensor],
                 style: dict[str, torch.Tensor], card: ModelCard, device: torch.device):
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
        return [Control("scalar", "style_strength", "Style strength", 0.0, 1.0, 1.0,
                        help="0 = the parent generator (content), 1 = fully fine-tuned on the painting")] \
            + list(self.inner.controls())

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
            raise CheckpointError(where, f"the parent family stores its generator under '{found_prefix}', "
                                         f"the card says '{prefix}'")
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
