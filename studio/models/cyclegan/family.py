"""The CycleGAN family: builds a translator from a card, offers the 'train' job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from studio.core import argtypes
from studio.core.checkpoint import ModelCard
from studio.core.errors import CheckpointError, StudioError
from studio.models.translate.model import TranslatorModel, load_generator_pair, receptive_radius_of, validation_tensors
from studio.models.translator_family import TranslatorFamily

from .config import D_NORMS, DISCRIMINATORS, G_NORMS, GAN_LOSSES, PRESETS, UPSAMPLES, CycleGANConfig
from .networks import build_generator


class CycleGANModel(TranslatorModel):
    """A loaded CycleGAN: G_ab translates A→B, G_ba B→A."""


def config_from_card(card: ModelCard) -> CycleGANConfig:
    try:
        return CycleGANConfig.from_dict(card.config)
    except (StudioError, TypeError) as exc:
        raise CheckpointError(card.name + ".json", f"not a valid CycleGAN config ({exc})") from exc


def add_architecture_arguments(g: Any) -> None:
    """The CycleGAN architecture and loss flags (shared with Bayesian CycleGAN); each overrides the preset."""
    g.add_argument("--generator", choices=["dncnn", "resnet"])
    g.add_argument("--channels", type=argtypes.positive_int, help="DnCNN C / ResNet ngf (default 64)")
    g.add_argument("--depth", type=argtypes.positive_int, help="DnCNN depth D (default 6)")
    g.add_argument("--residual", type=_bool, help="DnCNN adds its output to the input (default true)")
    g.add_argument("--blocks", dest="n_blocks", type=argtypes.positive_int, help="ResNet blocks (6 or 9)")
    g.add_argument("--skips", action="store_true", default=None, help="ResNet skip connections (Kaggle)")
    g.add_argument("--g-norm", choices=G_NORMS, help="ResNet normalisation: instance or layer (Kaggle)")
    g.add_argument(
        "--upsample",
        choices=UPSAMPLES,
        help="ResNet decoder: transposed (the papers' stride-2 transposed convs, default) or resize "
        "(nearest ×2 + 3×3 conv: no checkerboard stripes)",
    )
    g.add_argument(
        "--discriminator",
        choices=DISCRIMINATORS,
        help="kaggle: 5 convs + average pooling; projected: Sauer et al.'s D on frozen EfficientNet-Lite0 "
        "features (hinge loss)",
    )
    g.add_argument("--d-channels", type=_ints, help="ECE D widths, e.g. 16,64,256,256")
    g.add_argument("--d-strides", type=_ints, help="ECE D strides for its 5 convs, e.g. 2,2,2,1,1")
    g.add_argument("--ndf", type=argtypes.positive_int, help="PatchGAN / Kaggle D width")
    g.add_argument(
        "--d-norm",
        choices=D_NORMS,
        help="discriminator normalisation: instance (the papers), layer (Kaggle) or "
        "none (D also sees brightness and colour balance)",
    )
    g.add_argument(
        "--gan-loss",
        choices=GAN_LOSSES,
        help="adversarial loss: lsgan (MSE), bce (log loss, Kaggle) or hinge (default with --discriminator projected)",
    )
    g.add_argument("--lambda-cycle", type=argtypes.nonneg_float)
    g.add_argument("--lambda-identity", type=argtypes.nonneg_float)
    g.add_argument("--pool-size", type=argtypes.nonneg_int)
    g.add_argument("--lr", type=argtypes.positive_float)
    g.add_argument("--decay-start", type=argtypes.prob, help="fraction of the run after which lr decays to 0")
    g.add_argument(
        "--exp-decay",
        type=argtypes.float_range(0.0, 1.0, lo_open=True),
        help="ECE 285's exponential schedule: lr × this every --exp-decay-epochs epochs (e.g. 0.99; default off)",
    )
    g.add_argument(
        "--exp-decay-epochs",
        type=argtypes.positive_float,
        help="epochs between two --exp-decay steps (default 2; an epoch = the larger folder once)",
    )


def _bool(text: str) -> bool:
    word = str(text).strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise argtypes.ArgumentTypeError(f"must be true or false (got {text!r})")


def _ints(text: str) -> list[int]:
    """A comma list of whole numbers ≥ 1, e.g. 16,64,256,256."""
    try:
        values = [int(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise argtypes.ArgumentTypeError(f"must be whole numbers separated by commas (got {text!r})") from None
    if not values or min(values) < 1:
        raise argtypes.ArgumentTypeError(f"must be whole numbers ≥ 1 separated by commas (got {text!r})")
    return values


class CycleGANFamily(TranslatorFamily):
    name = "cyclegan"
    title = "CycleGAN translator"
    description = "Unpaired image-to-image translation between two folders (Zhu et al.; ECE 285 variant)."

    def load(self, tensors: Mapping[str, torch.Tensor], card: ModelCard, device: torch.device) -> CycleGANModel:
        cfg = config_from_card(card)
        gens = load_generator_pair(lambda: build_generator(cfg), tensors, card)
        model = CycleGANModel(card, device, gens, validation_tensors(tensors))
        model.receptive_radius = receptive_radius_of(gens["a2b"])
        return model

    train_help = "train a CycleGAN between two image folders (--a DIR --b DIR)"

    def add_train_arguments(self, parser: Any) -> None:
        g = parser.add_argument_group("CycleGAN architecture")
        g.add_argument(
            "--preset",
            default="ece",
            choices=PRESETS,
            help="ece: DnCNN G + 5-layer IN D (ECE 285); standard: ResNet G + PatchGAN, "
            "identity loss, pool 50, lr decay; kaggle: standard with the Kaggle report's LayerNorm skip "
            "generator, average-pooled D and log loss",
        )
        add_architecture_arguments(g)

    def train_job(self, options: dict[str, Any]):
        from .train import CycleGANTrainJob

        return CycleGANTrainJob(**options)
