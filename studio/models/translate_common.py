"""The translator families' shared code under its older flat names (a re-export module).

The code lives in :mod:`studio.models.translate`, one module per responsibility: ``data`` (folders,
random crops, the image pool), ``tiling`` (tiled inference), ``model`` (the loaded translator and the
translate-one-image job) and ``train`` (:class:`TranslatorTask` on the shared Trainer). Import from
there in new code. ``optimizer_tensors`` / ``load_optimizer_tensors`` are the one optimizer-state codec
of :mod:`studio.train.optim_state`, kept under these names for older callers.
"""

from __future__ import annotations

from studio.train.optim_state import load_optimizer as load_optimizer_tensors
from studio.train.optim_state import optimizer_tensors

from .translate.data import ImagePool, UnpairedImages, from_model_range, load_folder, to_model_range
from .translate.model import (
    DIRECTIONS,
    TranslateImageJob,
    TranslatorModel,
    load_generator_pair,
    receptive_radius_of,
    validation_tensors,
)
from .translate.tiling import pad_to_multiple, tiled_apply
from .translate.train import (
    TrainOptions,
    TranslatorTask,
    TranslatorTrainJob,
    add_common_arguments,
    linear_decay,
    options_from,
    set_requires_grad,
)

__all__ = [
    "DIRECTIONS",
    "ImagePool",
    "TrainOptions",
    "TranslateImageJob",
    "TranslatorModel",
    "TranslatorTask",
    "TranslatorTrainJob",
    "UnpairedImages",
    "add_common_arguments",
    "from_model_range",
    "linear_decay",
    "load_folder",
    "load_generator_pair",
    "load_optimizer_tensors",
    "optimizer_tensors",
    "options_from",
    "pad_to_multiple",
    "receptive_radius_of",
    "set_requires_grad",
    "tiled_apply",
    "to_model_range",
    "validation_tensors",
]
