"""Example plugin family: CPPN patterns (compositional pattern-producing networks).

It shows the whole plugin API in one file: a typed config, a plain ``torch.nn.Module``, a
``LoadedModel`` built on the shared latent logic, jobs (one writes a checkpoint, one renders a PNG),
a window tool, and the ``FAMILIES`` and ``TOOLS`` lists that the studio's registry reads from every
``plugins/*.py`` file. Copy this file, rename the family, and replace the network to add your own
generator to GAN Studio.

A CPPN maps pixel coordinates (x, y, r) plus a latent code z to a colour, so any resolution works
and nearby codes give smoothly related abstract patterns. ``create`` draws a random network from a
seed (no data needed); ``train`` fits one as a small GAN to a folder of images on the studio's shared
Trainer (``studio train cppn --data DIR``), which brings resume, Cancel, previews, KID, EMA,
mixed precision and multi-process training with no code here; ``render`` draws a pattern at any size
(``studio run cppn render MODEL --size 512``), and the "CPPN at any size…" tool runs the same job in
the window for CPPN models only. See ``docs/adding-a-family.md``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from studio.core import argtypes
from studio.core.checkpoint import ModelCard, TrainingInfo, load_module_tensors, module_tensors, save_checkpoint
from studio.core.family import Family, LatentModel
from studio.core.paths import model_out_stem, runs_dir
from studio.core.registry import ToolSpec
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


@dataclass
class CPPNConfig:
    latent_dim: int = 8
    hidden: int = 32
    layers: int = 4
    image_size: int = 64
    scale: float = 4.0  # zoom of the coordinate grid: larger = busier patterns


class CPPN(nn.Module):
    """(x, y, r, z) -> RGB in [0, 1], evaluated at every pixel."""

    def __init__(self, cfg: CPPNConfig):
        super().__init__()
        self.cfg = cfg
        dims = [3 + cfg.latent_dim] + [cfg.hidden] * cfg.layers
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.out = nn.Linear(cfg.hidden, 3)

    def forward(self, z: torch.Tensor, size: int | None = None) -> torch.Tensor:
        size = size or self.cfg.image_size
        n = z.shape[0]
        axis = torch.linspace(-1, 1, size, device=z.device) * self.cfg.scale
        yy, xx = torch.meshgrid(axis, axis, indexing="ij")
        rr = torch.sqrt(xx**2 + yy**2)
        coords = torch.stack([xx, yy, rr], -1).reshape(1, size * size, 3).expand(n, -1, -1)
        h = torch.cat([coords, z[:, None, :].expand(-1, size * size, -1)], -1)
        for layer in self.hidden:
            h = torch.tanh(layer(h))
        rgb = torch.sigmoid(self.out(h))
        return rgb.reshape(n, size, size, 3).permute(0, 3, 1, 2)


class CPPNModel(LatentModel):
    def __init__(self, card: ModelCard, net: CPPN, device: torch.device):
        super().__init__(card, device)
        self.net = net.to(device).eval()
        self.latent_dim = net.cfg.latent_dim

    @torch.no_grad()
    def render(self, states: Sequence[Mapping[str, Any]]) -> torch.Tensor:
        z = self.latents_for(states).to(self.device)
        return self.net(z).float().cpu()

    def inversion_space(self, state: Mapping[str, Any]) -> Any:
        """Declares GAN inversion support (studio.models.invert): z through the CPPN, differentiably."""
        from studio.core.inversion import latent_space

        return latent_space(self, lambda z: self.net(z).float(), state)


class CreateCPPNJob:
    """Draw a random CPPN from a seed and save it as a model (a 'job' so it uses the shared job API)."""

    title = "Create CPPN pattern model"

    def __init__(self, out: str | Path | None = None, seed: int = 0, command: str = "", **cfg: Any):
        known = {f.name for f in dataclasses.fields(CPPNConfig)}
        self.cfg = CPPNConfig(**{k: v for k, v in cfg.items() if k in known and v is not None})
        self.seed = seed
        self.out = model_out_stem(out, f"cppn-{seed}")  # a bare name stays in the models folder
        self.command = command

    def run(self, reporter) -> dict[str, Any]:
        start = time.perf_counter()
        reporter.report(0, 1, message="drawing a random network")
        torch.manual_seed(self.seed)
        net = CPPN(self.cfg)
        for layer in net.hidden:  # wide weights give rich patterns
            assert isinstance(layer, nn.Linear)
            nn.init.normal_(layer.weight, std=1.5 / layer.in_features**0.5 * 2)
        card = ModelCard(
            name=self.out.name,
            family=CPPNFamily.name,
            config=dataclasses.asdict(self.cfg),
            image_size=self.cfg.image_size,
            latent_dim=self.cfg.latent_dim,
            training=TrainingInfo(
                data="none (random network)",
                licence="MIT",
                command=self.command,
                steps=0,
                wall_time_s=time.perf_counter() - start,
            ),
        )
        path = save_checkpoint(self.out, module_tensors("cppn", net), card)
        reporter.report(1, 1)
        return {"card": str(path)}


# ------------------------------------------------------------------------------------------ training
class PatchCritic(nn.Module):
    """A small convolutional discriminator: image [N,3,S,S] in [0,1] -> one logit per image."""

    def __init__(self, width: int = 32):
        super().__init__()
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(3, w, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(4 * w, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x * 2 - 1)


def load_image_folder(folder: str | Path, size: int) -> torch.Tensor:
    """Every readable image of a folder as uint8 [N,3,size,size] (through the studio's one image loader)."""
    import numpy as np

    from studio.core.errors import ImageLoadError, StudioError
    from studio.core.images import fit_square, list_images, load_image

    images = []
    for path in list_images(folder):
        try:
            images.append(np.asarray(fit_square(load_image(path), size), dtype=np.uint8))
        except ImageLoadError:
            continue
    if not images:
        raise StudioError(f"{folder}: no readable images to train on")
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()


class CPPNTrainTask(TrainingTask):
    """A CPPN generator against a small critic, non-saturating GAN loss: all this family owns of training."""

    family = "cppn"

    def __init__(self, options: Mapping[str, Any], trainer: TrainerOptions):
        known = {f.name for f in dataclasses.fields(CPPNConfig)}
        self.cfg = CPPNConfig(**{k: v for k, v in options.items() if k in known and v is not None})
        self.data, self.trainer = str(options.get("data") or ""), trainer
        self.out = model_out_stem(options.get("out"), f"cppn-{Path(self.data).name or 'data'}")
        self.run_dir = Path(options.get("run_dir") or runs_dir() / self.out.name)
        self.lr = float(options.get("lr") or 2e-4)
        self.title = f"Train CPPN on {Path(self.data).name or 'data'}"

    def phases(self) -> list[Phase]:
        return [Phase("train", self.trainer.steps)]

    def run_path(self) -> Path:
        return self.run_dir

    def out_path(self) -> Path:
        return self.out

    def config(self) -> dict[str, Any]:
        return dataclasses.asdict(self.cfg)

    def setup(self, ctx: TrainContext, saved: Mapping[str, Any] | None) -> None:
        if saved is not None:
            self.cfg = CPPNConfig(**saved["config"])
        self.G, self.D = CPPN(self.cfg), PatchCritic()
        self.images = load_image_folder(self.data, self.cfg.image_size)
        self.local = self.images[ctx.shard(self.images.shape[0])]
        self.preview_z = torch.randn(16, self.cfg.latent_dim, generator=torch.Generator().manual_seed(3))

    def networks(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D}

    def ema_networks(self) -> tuple[str, ...]:
        return ("G",)

    def optimizers(self, phase: str) -> dict[str, torch.optim.Optimizer]:
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=self.lr, betas=(0.5, 0.99))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=self.lr, betas=(0.5, 0.99))
        return {"G": self.opt_g, "D": self.opt_d}

    def train_step(self, ctx: TrainContext) -> dict[str, float]:
        n = ctx.local_batch(self.trainer.batch)
        idx = torch.randint(0, self.local.shape[0], (n,), generator=ctx.rng)
        real = ctx.to_device(self.local[idx].float() / 255.0)
        z = torch.randn(n, self.cfg.latent_dim, generator=ctx.rng).to(ctx.device)
        softplus = nn.functional.softplus
        with ctx.autocast():
            fake = self.G(z)
            d_loss = softplus(-self.D(real)).mean() + softplus(self.D(fake.detach())).mean()
        self.opt_d.zero_grad(set_to_none=True)
        ctx.backward(d_loss)
        ctx.step_optimizer(self.opt_d)
        self.D.requires_grad_(False)
        with ctx.autocast():
            g_loss = softplus(-self.D(fake)).mean()
        self.opt_g.zero_grad(set_to_none=True)
        ctx.backward(g_loss)
        ctx.step_optimizer(self.opt_g)
        self.D.requires_grad_(True)
        return {"d": float(d_loss.detach()), "g": float(g_loss.detach())}

    def preview(self, ctx: TrainContext) -> Any:
        from studio.core.grid import tile, to_uint8

        with torch.no_grad(), ctx.autocast():
            img = ctx.export_module("G")(self.preview_z.to(ctx.device)).float().cpu()
        return tile(to_uint8(img), 4, 4, pad=1)

    def kid_sources(self, ctx: TrainContext) -> list[KIDSource]:
        def reference(n: int) -> torch.Tensor:
            return self.images[:n].float() / 255.0

        def samples(n: int) -> torch.Tensor:
            z = torch.randn(n, self.cfg.latent_dim, generator=torch.Generator().manual_seed(11))
            with torch.no_grad():
                return ctx.export_module("G")(z.to(ctx.device)).float()

        return [KIDSource(reference, samples, value_range=(0.0, 1.0))]

    def export(self, ctx: TrainContext, summary: RunSummary) -> Path:
        card = ModelCard(
            name=self.out.name,
            family=CPPNFamily.name,
            config=dataclasses.asdict(self.cfg),
            image_size=self.cfg.image_size,
            latent_dim=self.cfg.latent_dim,
            training=ctx.training_info(
                summary,
                f"{self.data} ({self.images.shape[0]} images)",
                "as supplied by the user",
                "CPPN GAN (example plugin)",
            ),
            extra={"training_run": ctx.training_record(summary), "loss_history": summary.history},
        )
        return save_checkpoint(self.out, module_tensors("cppn", ctx.export_module("G")), card)


# ------------------------------------------------------------------------------- render job + tool
MAX_RENDER = 1024  # px per side: the whole grid goes through the network at once


class RenderPatternJob:
    """Render one canvas state at any resolution (a CPPN is a function of pixel coordinates, so a bigger
    grid is more detail, not blown-up pixels). The window's "CPPN at any size" tool runs it without
    ``out`` (outputs the pixels); ``studio run cppn render MODEL --size 512 -o big.png`` writes a PNG."""

    def __init__(
        self,
        model: Any,
        state: Mapping[str, Any] | None = None,
        size: int = 512,
        out: str | Path | None = None,
        force: bool = False,
        device: str = "auto",
        seed: int = 0,
        command: str = "",
    ):
        from studio.core.errors import StudioError

        if not 8 <= int(size) <= MAX_RENDER:
            raise StudioError(f"--size must be between 8 and {MAX_RENDER} px, not {size}")
        self.model, self.state, self.size = model, state, int(size)
        self.out, self.force, self.device, self.seed, self.command = out, force, device, int(seed), command
        self.title = f"CPPN: render at {self.size} px"

    def run(self, reporter) -> dict[str, Any]:
        from studio.core.errors import StudioError
        from studio.core.export import save_png
        from studio.core.grid import to_uint8
        from studio.models.job_common import check_output, model_id_of, resolve_model

        out = check_output(self.out, self.force, (".png",)) if self.out else None
        model = resolve_model(self.model, self.device, reporter)
        if not isinstance(model, CPPNModel):
            raise StudioError(f"'{model.card.name}' is a {model.card.family} model, not a CPPN")
        state = dict(self.state) if self.state else model.default_state(model_id_of(self.model), self.seed)
        reporter.message(f"rendering {self.size}×{self.size}…")
        with torch.no_grad():
            z = model.latents_for([state]).to(model.device)
            pixels = to_uint8(model.net(z, self.size).float().cpu())[0]
        reporter.report(1, 1, message="rendered")
        if out is None:
            return {"image": pixels, "state": state}
        save_png(out, pixels, dict(state, render_size=self.size))
        return {"out": str(out), "size": self.size}


def make_render_panel(window: Any):
    """The tool's widget (Qt is imported here, when the window opens the tool, never by the CLI)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPixmap
    from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

    from studio.engine.frames import array_to_qimage
    from studio.engine.jobs import JobHandle

    class RenderPanel(QWidget):
        def __init__(self) -> None:
            super().__init__()
            self.result: dict[str, Any] | None = None
            self.handle: JobHandle | None = None
            self.size_box = QSpinBox()
            self.size_box.setRange(8, MAX_RENDER)
            self.size_box.setSingleStep(64)
            self.size_box.setValue(512)
            self.size_box.setSuffix(" px")
            self.render_button = QPushButton("Render")
            self.render_button.clicked.connect(self.render_pattern)
            self.save_button = QPushButton("Save PNG…")
            self.save_button.setEnabled(False)
            self.save_button.clicked.connect(self.save_dialog)
            self.view = QLabel("the canvas pattern, at any size")
            self.view.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.view.setMinimumSize(200, 200)
            row = QHBoxLayout()
            for w in (self.size_box, self.render_button, self.save_button):
                row.addWidget(w)
            lay = QVBoxLayout(self)
            lay.addLayout(row)
            lay.addWidget(self.view, 1)

        def render_pattern(self) -> None:  # not render(): QWidget.render paints the widget
            model = window.current_model()
            if not isinstance(model, CPPNModel):
                window.show_error("Open a CPPN model first.")
                return
            handle = window.start_job(RenderPatternJob(model, window.current_state(), self.size_box.value()))
            handle.finished.connect(self._done)
            self.handle = handle

        def _done(self, result) -> None:
            if not result.ok:
                window.show_error(result.message)
                return
            self.result = dict(result.outputs, size=self.size_box.value())
            pm = QPixmap.fromImage(array_to_qimage(self.result["image"]))
            self.view.setPixmap(
                pm.scaled(256, 256, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
            )
            self.save_button.setEnabled(True)

        def save_dialog(self) -> None:
            from studio.core.export import save_png

            path, _ = QFileDialog.getSaveFileName(self, "Save pattern", "pattern.png", "PNG (*.png)")
            if path and self.result:
                save_png(path, self.result["image"], dict(self.result["state"], render_size=self.result["size"]))
                window.show_message(f"saved {path}")

    return RenderPanel()


class CPPNFamily(Family):
    name = "cppn"
    title = "CPPN patterns (example plugin)"
    description = "Abstract patterns from a random coordinate network; the plugin API example."

    def load(self, tensors, card, device):
        known = {f.name for f in dataclasses.fields(CPPNConfig)}
        cfg = CPPNConfig(**{k: v for k, v in card.config.items() if k in known})
        net = CPPN(cfg)
        load_module_tensors("cppn", net, tensors, card.name)
        return CPPNModel(card, net, device)

    def jobs(self) -> dict[str, str]:
        return {
            "create": "draw a random pattern network from a seed",
            "render": "render a pattern at any resolution (up to 1024 px) to a PNG",
            "train": "fit a CPPN to a folder of images as a small GAN (shared Trainer)",
        }

    def add_job_arguments(self, name: str, parser) -> None:
        if name == "render":
            from studio.models.job_common import add_model_argument, add_output_arguments

            add_model_argument(parser, "CPPN model")
            parser.add_argument(
                "--size",
                type=argtypes.int_range(1, 8192),
                default=512,
                help="output side in px, up to 8192 (default 512)",
            )
            parser.add_argument("--seed", type=argtypes.seed, default=0, help="the pattern's seed")
            parser.add_argument("--state", default=None, help="render the state of an exported PNG instead")
            add_output_arguments(parser, (".png",), "MODEL-SIZE.png")
            return
        parser.add_argument("--out", help="model name (saved in your model folder) or a path with a '/'")
        if name == "train":
            parser.add_argument("--data", required=True, help="folder of training images")
            parser.add_argument("--image-size", dest="image_size", type=argtypes.int_range(4, 1024), default=32)
            parser.add_argument("--latent-dim", dest="latent_dim", type=argtypes.positive_int, default=8)
            parser.add_argument("--hidden", type=argtypes.positive_int, default=32)
            parser.add_argument("--lr", type=argtypes.positive_float, default=2e-4)
            add_trainer_arguments(parser, steps=1000, batch=16, checkpoint_every=200, preview_every=50)
            return
        parser.add_argument("--seed", type=argtypes.seed, default=0)
        parser.add_argument("--image-size", dest="image_size", type=argtypes.int_range(4, 1024), default=64)

    def make_job(self, name: str, /, **options: Any):
        if name == "render":
            from studio.core.states import read_state_file
            from studio.models.job_common import model_id_of

            state = read_state_file(options["state"]) if options.get("state") else None
            size = int(options.get("size") or 512)
            out = options.get("out") or f"{model_id_of(options['model'])}-{size}.png"
            return RenderPatternJob(
                options["model"],
                state,
                size,
                out=out,
                force=bool(options.get("force")),
                device=options.get("device") or "auto",
                seed=int(options.get("seed") or 0),
            )
        if name == "train":
            trainer = TrainerOptions.from_mapping(options, steps=1000, batch=16, checkpoint_every=200, preview_every=50)
            return Trainer(CPPNTrainTask(options, trainer), trainer)
        if name != "create":
            return super().make_job(name, **options)
        return CreateCPPNJob(**options)


FAMILIES = [CPPNFamily]

# The window's Tools menu offers this tool while a CPPN model is on the canvas (the spec is Qt-free;
# make_render_panel imports Qt only when the tool opens).
TOOLS = [
    ToolSpec(
        "cppn-render",
        "CPPN at any size…",
        None,
        make_render_panel,
        kind="dock",
        help="render the canvas pattern at up to 1024 px (a CPPN has no fixed resolution)",
        families=(CPPNFamily.name,),
    )
]
