"""Start a CAN's generator from a trained csgan FastGAN (``studio train can --arch fastgan --init-generator``).

Why: on a CPU a 128 px GAN gets a few thousand steps per sitting, and most of them go to learning to draw at
all. A content GAN already trained on the same images knows that; starting from it, the CAN's steps go to
what is its own, the style-ambiguity term. Only the generator is taken (its exported EMA copy, BatchNorm
statistics included); the discriminator, with its style head, starts fresh. The card records the source
model and the digest of its tensors, so the start is reproducible and stated.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from studio.core.checkpoint import load_checkpoint, load_module_tensors
from studio.core.errors import StudioError

from .config import CANConfig
from .networks import FastGANGenerator


def init_generator(g: nn.Module, model: str, cfg: CANConfig) -> dict[str, Any]:
    """Load the generator of the csgan model ``model`` (an id or a card path) into ``g``; returns what the
    card records. A model of another family or shape is refused with the reason, before ``g`` is touched."""
    from studio.core.store import ModelStore

    if not isinstance(g, FastGANGenerator):
        raise StudioError("--init-generator needs --arch fastgan (it starts from a csgan FastGAN generator)")
    path = ModelStore().resolve(model)
    tensors, card = load_checkpoint(path, device="cpu")
    arch = str(card.config.get("arch", ""))
    want = f"fastgan{cfg.image_size}"
    if card.family != "csgan" or arch != want:
        raise StudioError(
            f"{path}: --init-generator needs a csgan {want} model (this one is {card.family}"
            + (f" {arch}" if arch else "")
            + ")"
        )
    widths = (float(card.config.get("width", 1.0)), float(cfg.width))
    latents = (int(card.config.get("latent_dim", 0) or card.latent_dim or 0), int(cfg.latent_dim))
    if widths[0] != widths[1] or latents[0] != latents[1]:
        raise StudioError(
            f"{path}: its generator has width {widths[0]:g} and a {latents[0]}-d latent code; give the CAN "
            f"--width {widths[0]:g} --latent-dim {latents[0]} to start from it (asked: {widths[1]:g}, {latents[1]})"
        )
    load_module_tensors("fast", g.fast, {k[2:]: v for k, v in tensors.items() if k.startswith("G.")})
    return {
        "model": card.name,
        "path": str(path),
        "tensors_sha256": card.tensors_sha256,
        "steps": card.training.steps,
        "what": "the CAN's generator started from this csgan model's exported generator; D started fresh",
    }
