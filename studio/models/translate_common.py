"""What CycleGAN and U-GAT-IT share: unpaired data, the image pool, resumable run folders, tiled
inference, previews, and the translator model the studio loads.

Why one module: both families train two generators between two folders with the same loop, save the
same way and are applied to user images the same way; only their networks and losses differ. A family
plugs in by subclassing :class:`TranslatorTrainJob` (networks, optimisers, one training step) and
:class:`TranslatorModel` (which generator translates which way).
"""
from __future__ import annotations

import dataclasses
import random
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from studio.core.checkpoint import (ModelCard, TrainingInfo, load_checkpoint, load_module_tensors,
                                    module_tensors, save_checkpoint)
from studio.core.device import resolve_device
from studio.core.errors import CheckpointError, ImageLoadError, JobCancelled, StudioError
from studio.core.family import Control, LoadedModel, normalise_state
from studio.core.grid import tile as tile_grid
from studio.core.grid import to_uint8
from studio.core.images import fit_square, list_images, load_image, pil_to_tensor
from studio.core.history import TrainingHistory
from studio.core.jobs import Reporter, cancelled_with
from studio.core.paths import runs_dir, user_models_dir

DIRECTIONS = ("a2b", "b2a")


# ----------------------------------------------------------------------------------------------- data

def to_model_range(x: torch.Tensor) -> torch.Tensor:
    """[0,1] pixels -> the [-1,1] range every translator works in."""
    return x * 2.0 - 1.0


def from_model_range(x: torch.Tensor) -> torch.Tensor:
    return ((x + 1.0) * 0.5).clamp(0.0, 1.0)


def load_folder(folder: str | Path, load_size: int, limit: int = 0) -> torch.Tensor:
    """Every image of a folder as one uint8 tensor [N,3,S,S] (centre square, resized).

    uint8 keeps a few thousand images in memory cheaply, so training never waits on the disk.
    Unreadable files are skipped (with the count reported by the caller); an empty folder is an error.
    """
    paths = list_images(folder)
    if limit:
        paths = paths[:limit]
    out, bad = [], 0
    for p in paths:
        try:
            img = fit_square(load_image(p), load_size)
        except ImageLoadError:
            bad += 1
            continue
        out.append(torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1))
    if not out:
        raise ImageLoadError(folder, f"no readable images in this folder ({bad} unreadable)")
    return torch.stack(out)


class UnpairedImages:
    """Random crops and horizontal flips from one domain's in-memory images."""

    def __init__(self, images: torch.Tensor, crop: int, flip: bool = True):
        if images.shape[-1] < crop or images.shape[-2] < crop:
            raise StudioError(f"images of {images.shape[-1]} px cannot be cropped to {crop} px")
        self.images, self.crop, self.flip = images, crop, flip

    def __len__(self) -> int:
        return self.images.shape[0]

    def sample(self, batch: int, gen: torch.Generator) -> torch.Tensor:
        """[batch,3,crop,crop] float in [-1,1]."""
        idx = torch.randint(len(self), (batch,), generator=gen)
        s = self.images.shape[-1]
        out = []
        for i in idx.tolist():
            y, x = (torch.randint(s - self.crop + 1, (2,), generator=gen)).tolist()
            im = self.images[i, :, y:y + self.crop, x:x + self.crop]
            if self.flip and torch.rand((), generator=gen).item() < 0.5:
                im = im.flip(-1)
            out.append(im)
        return to_model_range(torch.stack(out).float() / 255.0)

    def centre(self, indices: Sequence[int]) -> torch.Tensor:
        s, c = self.images.shape[-1], self.crop
        o = (s - c) // 2
        return to_model_range(self.images[list(indices), :, o:o + c, o:o + c].float() / 255.0)


class ImagePool:
    """Shrivastava et al.'s history of generated images (CycleGAN uses 50).

    Each query returns, image by image, either the new fake (and stores it) or, with probability 0.5
    once the pool is full, a stored older fake (replacing it with the new one). Training the
    discriminator on older fakes too keeps it from chasing only the generator's latest mode.
    """

    def __init__(self, size: int = 50, seed: int = 0):
        self.size = int(size)
        self.images: list[torch.Tensor] = []
        self.rng = random.Random(seed)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.size <= 0:
            return images
        out = []
        for im in images.detach():
            im = im.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(im.clone())
                out.append(im)
            elif self.rng.random() < 0.5:
                j = self.rng.randrange(self.size)
                old = self.images[j].clone()
                self.images[j] = im.clone()
                out.append(old)
            else:
                out.append(im)
        return torch.cat(out, 0)


def linear_decay(step: int, total: int, decay_start: float) -> float:
    """Learning-rate factor: 1 until ``decay_start`` of the run, then linearly down to 0 at the end."""
    if decay_start >= 1.0 or total <= 0:
        return 1.0
    start = int(total * decay_start)
    if step < start:
        return 1.0
    return max(0.0, 1.0 - (step - start) / max(1, total - start))


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad H and W up to a multiple (for down/up-sampling nets); returns the original size."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)


# ------------------------------------------------------------------------------- optimiser state

def optimizer_tensors(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """An optimiser's state as flat tensors (safetensors) plus its param groups as JSON — no pickle."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    for pid, st in sd["state"].items():
        for key, value in st.items():
            t = value if isinstance(value, torch.Tensor) else torch.tensor(value)
            tensors[f"{prefix}.{pid}.{key}"] = t.detach().cpu().contiguous()
    groups = [{k: v for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, {"param_groups": groups}


def load_optimizer_tensors(prefix: str, opt: torch.optim.Optimizer, tensors: Mapping[str, torch.Tensor],
                           meta: Mapping[str, Any], path: str | Path) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith(prefix + "."):
            pid, name = key[len(prefix) + 1:].split(".", 1)
            state.setdefault(int(pid), {})[name] = value
    try:
        opt.load_state_dict({"state": state, "param_groups": [dict(g) for g in meta["param_groups"]]})
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(path, f"the saved optimiser '{prefix}' does not fit this run ({exc})")


# ------------------------------------------------------------------------------------ tiled inference

def _ramp(n: int, lo_edge: bool, hi_edge: bool, margin: int, overlap: int) -> torch.Tensor:
    """1-D blend weight of one tile: 0 in the ``margin`` next to an inner tile edge (those pixels saw
    the tile's zero padding), a linear ramp across the rest of the overlap, 1 in the middle."""
    w = torch.ones(n)
    ramp = max(1, overlap - 2 * margin)
    pos = torch.arange(n, dtype=torch.float32)
    if not lo_edge:
        w = torch.minimum(w, ((pos - margin + 1) / (ramp + 1)).clamp(0, 1))
    if not hi_edge:
        w = torch.minimum(w, ((n - 1 - pos - margin + 1) / (ramp + 1)).clamp(0, 1))
    return w


def _starts(size: int, tile: int, step: int) -> list[int]:
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile, step)) + [size - tile]
    return sorted(set(starts))


def tiled_apply(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, tile: int, overlap: int,
                margin: int | None = None, progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
    """Apply a fully convolutional ``fn`` to [1,C,H,W] ``x`` in overlapping tiles and blend them.

    Neighbouring tiles overlap by ``overlap`` px. Inside the overlap the first ``margin`` px next to a
    tile's inner edge get weight 0 and the rest ramps linearly, so when the network's receptive-field
    radius is at most ``margin`` the result equals the untiled output exactly; networks with global
    statistics (instance norm) differ only by the smooth blend instead of showing seams.
    """
    if tile <= 0:
        raise StudioError("the tile size must be positive")
    if overlap >= tile:
        raise StudioError(f"the tile overlap ({overlap}) must be smaller than the tile ({tile})")
    margin = overlap // 4 if margin is None else margin
    _, _, h, w = x.shape
    if h <= tile and w <= tile:
        if progress:
            progress(0, 1)
        y = fn(x)
        if progress:
            progress(1, 1)
        return y
    step = tile - overlap
    ys, xs = _starts(h, tile, step), _starts(w, tile, step)
    total = len(ys) * len(xs)
    out = None
    weight = torch.zeros(1, 1, h, w)
    done = 0
    if progress:
        progress(0, total)
    for y0 in ys:
        th = min(tile, h)
        wy = _ramp(th, y0 == 0, y0 + th >= h, margin, overlap)
        for x0 in xs:
            tw = min(tile, w)
            wx = _ramp(tw, x0 == 0, x0 + tw >= w, margin, overlap)
            piece = fn(x[:, :, y0:y0 + th, x0:x0 + tw]).float().cpu()
            if out is None:
                out = torch.zeros(1, piece.shape[1], h, w)
            wt = (wy[:, None] * wx[None, :])[None, None]
            out[:, :, y0:y0 + th, x0:x0 + tw] += piece * wt
            weight[:, :, y0:y0 + th, x0:x0 + tw] += wt
            done += 1
            if progress:
                progress(done, total)
    return out / weight.clamp_min(1e-8)


# ----------------------------------------------------------------------------------- loaded model

class TranslatorModel(LoadedModel):
    """A loaded translator. Not a latent generator: its controls are the direction (a2b/b2a) and a
    choice of stored validation image; ``render`` translates those stored images, and ``translate``
    applies the model to any picture at its own resolution.

    Subclasses set ``self.generators = {"a2b": module, "b2a": module}`` (in eval mode) and may
    override :meth:`forward` (e.g. U-GAT-IT returns attention maps too).
    """

    #: receptive-field radius in px (for the exact-tiling margin); subclasses refine it.
    receptive_radius: int = 16

    def __init__(self, card: ModelCard, device: torch.device, generators: Mapping[str, torch.nn.Module],
                 validation: Mapping[str, torch.Tensor] | None = None):
        super().__init__(card, device)
        self.generators = {k: g.to(device).eval() for k, g in generators.items()}
        self.validation = dict(validation or {})  # "a"/"b" -> [N,3,S,S] float [0,1]
        self.domains = list(card.labels.get("domains", ["A", "B"]))[:2] or ["A", "B"]

    # -- what the canvas sees
    def controls(self) -> list[Control]:
        n = max((v.shape[0] for v in self.validation.values()), default=0)
        ctl = [Control("choice", "direction", "Direction", default="a2b", options=DIRECTIONS,
                       help=f"a2b: {self.domains[0]} → {self.domains[-1]}; b2a: the reverse")]
        if n:
            ctl.append(Control("seed", "seed", "Validation image", 0, max(0, n - 1), 0,
                               help="which stored validation image to translate"))
        return ctl

    def render(self, states: Sequence[Mapping[str, Any]]) -> torch.Tensor:
        outs = []
        for st in states:
            s = normalise_state(st)
            direction = s["labels"].get("direction", "a2b")
            if direction not in DIRECTIONS:
                direction = "a2b"
            src = self.validation.get("a" if direction == "a2b" else "b")
            if src is None or src.shape[0] == 0:
                outs.append(torch.zeros(3, self.image_size, self.image_size))
                continue
            img = src[int(s["seed"]) % src.shape[0]]
            outs.append(self.translate_tensor(img, direction))
        return torch.stack(outs)

    # -- the main API
    def forward(self, x: torch.Tensor, direction: str) -> torch.Tensor:
        """[N,3,H,W] in [-1,1] on the model's device -> translated [N,3,H,W] in [-1,1]."""
        return self.generators[direction](x)

    def translate_tensor(self, image: torch.Tensor, direction: str = "a2b", tile: int = 0,
                         overlap: int | None = None,
                         progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
        """[3,H,W] float [0,1] -> [3,H,W] float [0,1] on the CPU, at the same resolution."""
        if direction not in DIRECTIONS:
            raise StudioError(f"unknown direction '{direction}': use a2b or b2a")
        if image.dim() != 3 or image.shape[0] != 3:
            raise StudioError(f"expected a [3,H,W] image tensor, got {tuple(image.shape)}")
        x = to_model_range(image.float().unsqueeze(0))

        def fn(part: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return self.forward(part.to(self.device), direction).float().cpu()

        if tile and tile > 0:
            ov = overlap if overlap is not None else max(8, min(tile // 4, 4 * self.receptive_radius))
            margin = min(self.receptive_radius, ov // 2)
            y = tiled_apply(fn, x, tile, ov, margin=margin, progress=progress)
        else:
            if progress:
                progress(0, 1)
            y = fn(x)
            if progress:
                progress(1, 1)
        return from_model_range(y[0])

    def translate(self, image: Image.Image | torch.Tensor, direction: str = "a2b", tile: int = 0,
                  overlap: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> Image.Image | torch.Tensor:
        """Translate a PIL image (-> PIL image) or a [3,H,W] tensor in [0,1] (-> tensor) at its size."""
        if isinstance(image, Image.Image):
            out = self.translate_tensor(pil_to_tensor(image.convert("RGB")), direction, tile, overlap, progress)
            return Image.fromarray(to_uint8(out)[0])
        return self.translate_tensor(image, direction, tile, overlap, progress)


class TranslateImageJob:
    """Translate one image as a job, so the GUI shows a progress bar (one step per tile) and can cancel
    between tiles. Outputs {"image": HxWx3 uint8 ndarray, "direction": ..., "tiles": n}."""

    def __init__(self, model: TranslatorModel, image: Image.Image | torch.Tensor, direction: str = "a2b",
                 tile: int = 0, overlap: int | None = None):
        self.model, self.image, self.direction = model, image, direction
        self.tile, self.overlap = tile, overlap
        self.title = f"Translate ({direction})"

    def run(self, reporter: Reporter) -> dict[str, Any]:
        count = [0]

        def progress(done: int, total: int) -> None:
            count[0] = total
            reporter.report(done, total, message=f"tile {done}/{total}")

        img = self.image if isinstance(self.image, torch.Tensor) else pil_to_tensor(self.image.convert("RGB"))
        out = self.model.translate_tensor(img, self.direction, self.tile, self.overlap, progress)
        return {"image": to_uint8(out)[0], "direction": self.direction, "tiles": count[0]}


def load_generator_pair(build: Callable[[], torch.nn.Module], tensors: Mapping[str, torch.Tensor],
                        card: ModelCard) -> dict[str, torch.nn.Module]:
    """Both directions' generators ({'a2b': G_ab, 'b2a': G_ba}) built by ``build`` and loaded from a checkpoint."""
    gens = {}
    for direction, prefix in (("a2b", "G_ab"), ("b2a", "G_ba")):
        g = build()
        load_module_tensors(prefix, g, tensors, card.name + ".safetensors")
        gens[direction] = g
    return gens


def validation_tensors(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The stored validation images ("val.a"/"val.b", uint8) as float [0,1]."""
    out = {}
    for d in ("a", "b"):
        t = tensors.get(f"val.{d}")
        if t is not None:
            out[d] = t.float() / 255.0
    return out


# ------------------------------------------------------------------------------------ training job

@dataclasses.dataclass
class TrainOptions:
    """The options every translator training job shares (the CLI's flags)."""

    a: str = ""
    b: str = ""
    size: int = 64
    load_size: int = 0  # 0: size * 1.125, rounded (random crops need a margin)
    steps: int = 10000
    batch: int = 1
    out: str = ""
    run_dir: str = ""
    resume: bool = False
    device: str = "auto"
    seed: int = 0
    model_name: str = ""
    preview_every: int = 100
    checkpoint_every: int = 500
    val_count: int = 4
    limit: int = 0
    threads: int = 0
    kid_every: int = 0
    kid_samples: int = 256
    kid_features: str = "mobilenet_v2"
    flip: bool = True
    data_note: str = ""
    licence: str = ""
    command: str = ""


def add_common_arguments(parser: Any) -> None:
    """The CLI flags of :class:`TrainOptions`."""
    p = parser
    p.add_argument("--a", required=True, help="folder of domain-A images")
    p.add_argument("--b", required=True, help="folder of domain-B images")
    p.add_argument("--size", type=int, default=64, help="training crop size in px (default 64)")
    p.add_argument("--load-size", type=int, default=0,
                   help="images are resized to this before random crops (default size*1.125)")
    p.add_argument("--steps", type=int, default=10000, help="total training steps (a resumed run continues to it)")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--out", default="", help="checkpoint path stem (default: the user models folder/NAME)")
    p.add_argument("--run-dir", default="", help="folder for resumable state (default: the runs folder/NAME)")
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", dest="model_name", default="", help="model name (default: FAMILY-A2B folder names)")
    p.add_argument("--preview-every", type=int, default=100)
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--val-count", type=int, default=4, help="fixed validation images per domain")
    p.add_argument("--limit", type=int, default=0, help="use at most this many images per folder")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch's default)")
    p.add_argument("--no-flip", dest="flip", action="store_false", help="no random horizontal flips")
    p.add_argument("--data-note", default="", help="data description for the model card")
    p.add_argument("--licence", default="", help="licence of the training data, for the model card")
    from studio.metrics.training_kid import add_kid_arguments

    add_kid_arguments(p)


def options_from(cls: type, options: Mapping[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in options.items() if k in known and v is not None})


class TranslatorTrainJob:
    """The resumable training loop shared by the translator families.

    Subclasses implement :meth:`build` (networks + optimisers from ``self.config``), :meth:`train_step`
    (one step on a batch of each domain, returning float losses), :meth:`set_lr`, and
    :meth:`preview_rows` (rows of [N,3,H,W] images in [0,1]). ``self.nets`` maps checkpoint prefixes to
    modules; generator prefixes listed in ``self.model_prefixes`` go into the model checkpoint, all of
    them plus ``self.optims`` into the run state.
    """

    family: str = ""
    config_cls: type = object
    model_prefixes: tuple[str, ...] = ("G_ab", "G_ba")

    def __init__(self, config: Any, options: TrainOptions):
        self.config, self.opts = config, options
        a, b = Path(options.a).name or "A", Path(options.b).name or "B"
        self.domains = [a, b]
        self.name = options.model_name or f"{self.family}-{a}2{b}"
        self.title = f"Train {self.family} {a} ↔ {b}"
        self.nets: dict[str, torch.nn.Module] = {}
        self.optims: dict[str, torch.optim.Optimizer] = {}
        self.extra_state: dict[str, Any] = {}
        self.history = TrainingHistory()

    # -- hooks
    def build(self, device: torch.device) -> None:
        raise NotImplementedError

    def train_step(self, real_a: torch.Tensor, real_b: torch.Tensor, step: int) -> dict[str, float]:
        raise NotImplementedError

    def set_lr(self, factor: float) -> None:
        for opt in self.optims.values():
            for g in opt.param_groups:
                g["lr"] = g.setdefault("initial_lr", g["lr"]) * factor

    def preview_rows(self, val_a: torch.Tensor, val_b: torch.Tensor) -> list[torch.Tensor]:
        raise NotImplementedError

    def lr_factor(self, step: int) -> float:
        return linear_decay(step, self.opts.steps, getattr(self.config, "decay_start", 1.0))

    # -- paths
    def out_stem(self) -> Path:
        return Path(self.opts.out) if self.opts.out else user_models_dir() / self.name

    def run_path(self) -> Path:
        return Path(self.opts.run_dir) if self.opts.run_dir else runs_dir() / self.name

    # -- saving
    def _card(self, step: int, wall: float, device: torch.device) -> ModelCard:
        o = self.opts
        data = o.data_note or f"A: {o.a}, B: {o.b}"
        return ModelCard(
            name=self.name, family=self.family, config=dataclasses.asdict(self.config), image_size=o.size,
            labels={"domains": list(self.domains)},
            training=TrainingInfo(data=data, licence=o.licence, command=o.command, steps=step,
                                  wall_time_s=round(wall, 1), device=str(device),
                                  notes=f"batch {o.batch}, crops of {o.size} px from {self._load_size()} px"),
            extra={"directions": {"a2b": f"{self.domains[0]} → {self.domains[1]}",
                                  "b2a": f"{self.domains[1]} → {self.domains[0]}"}})

    def save_model(self, step: int, wall: float, device: torch.device) -> Path:
        tensors: dict[str, torch.Tensor] = {}
        for prefix in self.model_prefixes:
            tensors.update(module_tensors(prefix, self.nets[prefix]))
        tensors["val.a"] = self._val_u8["a"]
        tensors["val.b"] = self._val_u8["b"]
        card = self._card(step, wall, device)
        card.extra["loss_history"] = self.history.card_columns()
        return save_checkpoint(self.out_stem(), tensors, card)

    def save_state(self, step: int, wall: float, device: torch.device) -> Path:
        tensors: dict[str, torch.Tensor] = {}
        optim_meta = {}
        for prefix, net in self.nets.items():
            tensors.update(module_tensors(prefix, net))
        for name, opt in self.optims.items():
            t, meta = optimizer_tensors(f"opt_{name}", opt)
            tensors.update(t)
            optim_meta[name] = meta
        tensors["val.a"] = self._val_u8["a"]
        tensors["val.b"] = self._val_u8["b"]
        card = self._card(step, wall, device)
        card.name = f"{self.name}-run"
        card.extra.update({"run": {"step": step, "wall_time_s": wall, "optimizers": optim_meta,
                                   "options": dataclasses.asdict(self.opts), "history": self.history.to_dict(),
                                   **self.extra_state}})
        return save_checkpoint(self.run_path() / "state", tensors, card)

    def load_state(self, path: Path) -> tuple[int, float]:
        tensors, card = load_checkpoint(path)
        if card.family != self.family:
            raise CheckpointError(path, f"this run folder holds a '{card.family}' run, not '{self.family}'")
        ours = dataclasses.asdict(self.config)
        saved = {**dataclasses.asdict(self.config_cls()), **card.config}  # keys added since: their defaults
        if saved != ours:
            diff = [k for k in saved if saved.get(k) != ours.get(k)]
            raise CheckpointError(path, "the run was started with a different architecture/config "
                                        f"(differs in: {', '.join(diff) or 'keys'}); resume with the same options")
        for prefix, net in self.nets.items():
            load_module_tensors(prefix, net, tensors, path)
        run = card.extra.get("run", {})
        for name, opt in self.optims.items():
            load_optimizer_tensors(f"opt_{name}", opt, tensors, run["optimizers"][name], path)
        if "val.a" in tensors:
            self._val_u8 = {"a": tensors["val.a"], "b": tensors["val.b"]}
        for key in self.extra_state:
            if key in run:
                self.extra_state[key] = run[key]
        self.history = TrainingHistory.from_dict(run.get("history"))
        self.history.truncate(int(run.get("step", 0)))
        return int(run.get("step", 0)), float(run.get("wall_time_s", 0.0))

    def _load_size(self) -> int:
        return self.opts.load_size or int(round(self.opts.size * 1.125))

    # -- preview
    def preview(self, device: torch.device) -> np.ndarray:
        for net in self.nets.values():
            net.eval()
        with torch.no_grad():
            va = to_model_range(self._val_u8["a"].float() / 255.0).to(device)
            vb = to_model_range(self._val_u8["b"].float() / 255.0).to(device)
            rows = self.preview_rows(va, vb)
        for net in self.nets.values():
            net.train()
        imgs = torch.cat([r.float().cpu() for r in rows])
        n = rows[0].shape[0]
        return tile_grid(to_uint8(imgs), len(rows), n)

    # -- in-training KID: translations against the other domain's images
    def _kid_monitors(self, data_a: "UnpairedImages", data_b: "UnpairedImages", device: torch.device) -> list:
        from studio.metrics.training_kid import TrainingKID

        def centre_crops(data: "UnpairedImages") -> Callable[[int], torch.Tensor]:
            return lambda n: data.centre([int(i) for i in np.linspace(0, len(data) - 1, min(n, len(data)))])

        def translated(data: "UnpairedImages", prefix: str) -> Callable[[int], torch.Tensor]:
            def run(n: int) -> torch.Tensor:
                net = self.nets[prefix]
                was = net.training
                net.eval()
                outs = []
                for batch in centre_crops(data)(n).split(32):  # bounded memory at any crop size
                    out = net(batch.to(device))
                    outs.append((out[0] if isinstance(out, tuple) else out).cpu())  # U-GAT-IT: + CAM, heatmap
                net.train(was)
                return torch.cat(outs)
            return run

        monitors = []
        for label, source, target, prefix in (("a2b", data_a, data_b, "G_ab"), ("b2a", data_b, data_a, "G_ba")):
            kid = TrainingKID.from_options(self.opts, device, label=label)
            kid.n = min(kid.n, len(source), len(target))
            monitors.append((kid, centre_crops(target), translated(source, prefix)))
        return monitors

    # -- the loop
    def run(self, reporter: Reporter) -> dict[str, Any]:
        o = self.opts
        if o.threads and o.threads > 0:
            torch.set_num_threads(o.threads)
        if o.steps < 1 or o.batch < 1 or o.size < 8:
            raise StudioError("--steps and --batch must be at least 1 and --size at least 8")
        device = resolve_device(o.device)
        torch.manual_seed(o.seed)
        reporter.message("loading images…")
        load_size = self._load_size()
        data_a = UnpairedImages(load_folder(o.a, load_size, o.limit), o.size, o.flip)
        data_b = UnpairedImages(load_folder(o.b, load_size, o.limit), o.size, o.flip)
        k = max(1, min(o.val_count, len(data_a), len(data_b)))
        pick = lambda n: [int(i) for i in np.linspace(0, n - 1, k).round()]  # noqa: E731
        self._val_u8 = {"a": ((data_a.centre(pick(len(data_a))) + 1) * 127.5).round().to(torch.uint8),
                        "b": ((data_b.centre(pick(len(data_b))) + 1) * 127.5).round().to(torch.uint8)}
        self.build(device)
        start, wall0 = 0, 0.0
        state_path = self.run_path() / "state.json"
        if o.resume:
            if not state_path.exists():
                raise StudioError(f"--resume: no saved run in {self.run_path()} (start without --resume)")
            start, wall0 = self.load_state(state_path)
            reporter.message(f"resuming at step {start}")
        gen = torch.Generator().manual_seed(o.seed * 1_000_003 + start)
        t0 = time.perf_counter()
        wall = lambda: wall0 + time.perf_counter() - t0  # noqa: E731
        step = start
        last_saved = start
        losses: dict[str, float] = {}
        kids = self._kid_monitors(data_a, data_b, device)
        try:
            while step < o.steps:
                self.set_lr(self.lr_factor(step))
                real_a = data_a.sample(o.batch, gen).to(device)
                real_b = data_b.sample(o.batch, gen).to(device)
                losses = self.train_step(real_a, real_b, step)
                step += 1
                self.history.add(step, losses)
                scores: dict[str, float] = {}
                for kid, reference, translate in kids:
                    if kid.due(step):
                        scores.update(kid.measure(reference, translate, reporter.message))
                self.history.add_scores(step, scores)
                preview = None
                if o.preview_every and (step % o.preview_every == 0 or step == o.steps or step == start + 1):
                    preview = self.preview(device)
                if o.checkpoint_every and step % o.checkpoint_every == 0:
                    self.save_state(step, wall(), device)
                    last_saved = step
                reporter.report(step, o.steps, losses=losses, preview=preview, metrics=scores,
                                message=f"{len(data_a)}+{len(data_b)} images")
        except JobCancelled:
            self.history.flush(step)
            self.save_state(step, wall(), device)
            card = self.save_model(step, wall(), device)
            raise cancelled_with({"card": str(card), "run_dir": str(self.run_path()), "step": step})
        self.history.flush(step)
        if last_saved != step:
            self.save_state(step, wall(), device)
        card = self.save_model(step, wall(), device)
        return {"card": str(card), "run_dir": str(self.run_path()), "step": step,
                "losses": losses, "wall_time_s": round(wall(), 1)}


def set_requires_grad(nets: Sequence[torch.nn.Module], flag: bool) -> None:
    for net in nets:
        for p in net.parameters():
            p.requires_grad_(flag)


def receptive_radius_of(module: torch.nn.Module) -> int:
    """A rough receptive-field radius: half the sum of (kernel-1)*dilation*stride products."""
    radius, scale = 0, 1
    for m in module.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            k = m.kernel_size[0]
            radius += (k - 1) // 2 * m.dilation[0] * scale
            if isinstance(m, torch.nn.Conv2d):
                scale *= m.stride[0]
            else:
                scale = max(1, scale // m.stride[0])
        elif isinstance(m, torch.nn.Upsample):
            scale = max(1, int(scale // (m.scale_factor or 1)))
    return max(1, radius)


__all__ = ["DIRECTIONS", "ImagePool", "TranslatorModel", "TranslateImageJob", "TranslatorTrainJob",
           "TrainOptions", "UnpairedImages", "add_common_arguments", "from_model_range", "linear_decay",
           "load_folder", "optimizer_tensors", "load_optimizer_tensors", "options_from", "pad_to_multiple",
           "set_requires_grad", "tiled_apply", "to_model_range", "validation_tensors"]
