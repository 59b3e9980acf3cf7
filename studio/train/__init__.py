"""The one training engine (Qt-free): a family writes a :class:`TrainingTask`, the :class:`Trainer` runs it."""

from .context import RunSummary, TrainContext
from .optim_state import load_optimizer, optimizer_tensors
from .options import PRECISIONS, TrainerOptions, add_trainer_arguments
from .run_folder import RunFolder
from .task import KIDSource, Phase, TrainingTask
from .trainer import Trainer

__all__ = [
    "KIDSource",
    "PRECISIONS",
    "Phase",
    "RunFolder",
    "RunSummary",
    "TrainContext",
    "Trainer",
    "TrainerOptions",
    "TrainingTask",
    "add_trainer_arguments",
    "load_optimizer",
    "optimizer_tensors",
]
