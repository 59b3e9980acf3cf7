"""The U-GAT-IT family: builds a translator from a card, offers the 'train' job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from studio.core import argtypes
from studio.core.checkpoint import ModelCard
from studio.core.errors import CheckpointError, StudioError
from studio.models.translate.model import TranslatorModel, load_generator_pair, validation_tensors
from studio.models.translator_family import TranslatorFamily

from .config import DISCRIMINATORS, UGATITConfig
from .networks import UGATITGenerator
from .train import heatmap_image


class UGATITModel(TranslatorModel):
    """A loaded U-GAT-IT: the generators return (image, cam logit, heatmap); ``attention`` exposes the
    heatmap. Instance/layer statistics are global, so tiled output differs from untiled by the blend."""

    receptive_radius = 64
    # renders in fp32: in bf16 (studio.core.fastnet) the bundled photo2painting-ugatit moved pixels by
    # up to 0.11 (28 of 255), beyond the 0.08 that every bf16 render must keep (tests/core/test_fastnet.py);
    # taking the LIN/AdaLIN statistics in fp32 only brought that to 0.10, and keeping the first AdaLIN block
    # (where the error enters: scripts/bf16_error_by_layer.py, docs/translate.md) in fp32 left 0.17
    render_networks: tuple[str, ...] = ()

    def forward(self, x: torch.Tensor, direction: str) -> torch.Tensor:
        return self.generators[direction](x)[0]

    @torch.no_grad()
    def attention(self, image: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
        """[3,H,W] in [0,1] -> [3,H,W] grey attention map in [0,1] (what the generator attends to)."""
        x = image.float().unsqueeze(0).to(self.device) * 2 - 1
        _, _, hm = self.generators[direction](x)
        return heatmap_image(hm.float().cpu(), (image.shape[-2], image.shape[-1]))[0]


def config_from_card(card: ModelCard) -> UGATITConfig:
    try:
        return UGATITConfig.from_dict(card.config)
    except (StudioError, TypeError) as exc:
        raise CheckpointError(card.name + ".json", f"not a valid U-GAT-IT config ({exc})") from exc


class UGATITFamily(TranslatorFamily):
    name = "ugatit"
    title = "U-GAT-IT translator"
    description = "Unsupervised translation with CAM attention and AdaLIN (Kim et al., 2020)."

    def load(self, tensors: Mapping[str, torch.Tensor], card: ModelCard, device: torch.device) -> UGATITModel:
        cfg = config_from_card(card)
        gens = load_generator_pair(lambda: UGATITGenerator(cfg), tensors, card)
        return UGATITModel(card, device, gens, validation_tensors(tensors))

    train_help = "train a U-GAT-IT between two image folders (--a DIR --b DIR)"

    def add_train_arguments(self, parser: Any) -> None:
        g = parser.add_argument_group("U-GAT-IT architecture")
        g.add_argument(
            "--light",
            action="store_true",
            default=None,
            help="light mode: γ, β from pooled attention features (far less memory)",
        )
        g.add_argument("--ngf", type=argtypes.positive_int, help="generator base width (default 64)")
        g.add_argument("--ndf", type=argtypes.positive_int, help="discriminator base width (default 64)")
        g.add_argument("--n-res", type=argtypes.positive_int, help="residual blocks in encoder and decoder (default 4)")
        g.add_argument(
            "--global-layers", type=argtypes.positive_int, help="global discriminator depth (default 7, capped by size)"
        )
        g.add_argument(
            "--local-layers", type=argtypes.positive_int, help="local discriminator depth (default 5, capped by size)"
        )
        g.add_argument(
            "--discriminator",
            choices=DISCRIMINATORS,
            help="ugatit: the paper's global + local CAM discriminators per domain (default); projected: one "
            "projected discriminator per domain on frozen EfficientNet-Lite0 features, hinge loss (not in the paper)",
        )
        for w in ("adv", "cycle", "identity", "cam"):
            g.add_argument(f"--{w}-weight", type=argtypes.nonneg_float)
        g.add_argument("--lr", type=argtypes.positive_float)
        g.add_argument("--weight-decay", type=argtypes.nonneg_float)
        g.add_argument("--decay-start", type=argtypes.prob, help="fraction of the run after which lr decays to 0")

    def train_job(self, options: dict[str, Any]):
        from .train import UGATITTrainJob

        return UGATITTrainJob(**options)
