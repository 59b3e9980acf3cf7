"""Example plugin family: CPPN patterns (compositional pattern-producing networks).

It shows the whole plugin API in one file: a typed config, a plain ``torch.nn.Module``, a
``LoadedModel`` built on the shared latent logic, a job that writes a checkpoint, and the
``FAMILIES`` list that the studio's registry reads from every ``plugins/*.py`` file. Copy this file,
rename the family, and replace the network to add your own generator to GAN Studio.

A CPPN maps pixel coordinates (x, y, r) plus a latent code z to a colour, so any resolution works
and nearby codes give smoothly related abstract patterns. It needs no training data: ``create``
draws a random network from a seed.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from torch import nn

from studio.core.checkpoint import ModelCard, TrainingInfo, load_module_tensors, module_tensors, save_checkpoint
from studio.core.family import Family, LatentModel
from studio.core.paths import user_models_dir


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
        rr = torch.sqrt(xx ** 2 + yy ** 2)
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


class CreateCPPNJob:
    """Draw a random CPPN from a seed and save it as a model (a 'job' so it uses the shared job API)."""

    title = "Create CPPN pattern model"

    def __init__(self, out: str | Path | None = None, seed: int = 0, command: str = "", **cfg: Any):
        known = {f.name for f in dataclasses.fields(CPPNConfig)}
        self.cfg = CPPNConfig(**{k: v for k, v in cfg.items() if k in known and v is not None})
        self.seed = seed
        self.out = Path(out) if out else user_models_dir() / f"cppn-{seed}"
        self.command = command

    def run(self, reporter) -> dict[str, Any]:
        start = time.perf_counter()
        reporter.report(0, 1, message="drawing a random network")
        torch.manual_seed(self.seed)
        net = CPPN(self.cfg)
        for layer in net.hidden:  # wide weights give rich patterns
            nn.init.normal_(layer.weight, std=1.5 / layer.in_features ** 0.5 * 2)
        card = ModelCard(name=self.out.name, family=CPPNFamily.name, config=dataclasses.asdict(self.cfg),
                         image_size=self.cfg.image_size, latent_dim=self.cfg.latent_dim,
                         training=TrainingInfo(data="none (random network)", licence="MIT",
                                               command=self.command, steps=0,
                                               wall_time_s=time.perf_counter() - start))
        path = save_checkpoint(self.out, module_tensors("cppn", net), card)
        reporter.report(1, 1)
        return {"card": str(path)}


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
        return {"create": "draw a random pattern network from a seed"}

    def add_job_arguments(self, name: str, parser) -> None:
        parser.add_argument("--out", help="output path stem")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--image-size", dest="image_size", type=int, default=64)

    def make_job(self, name: str, **options: Any):
        if name != "create":
            return super().make_job(name, **options)
        return CreateCPPNJob(**options)


FAMILIES = [CPPNFamily]
