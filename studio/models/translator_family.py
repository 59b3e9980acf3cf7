"""What every translator family (CycleGAN, Bayesian CycleGAN, U-GAT-IT) offers the same way: the
'translate' jobs of ``translate_jobs`` beside its own 'train' job, whose shared flags come first.

A family says only what is its own: ``train_help``, ``add_train_arguments`` and ``train_job``.
"""

from __future__ import annotations

from typing import Any

from studio.core.family import Family
from studio.models.translate.train import add_common_arguments
from studio.models.translate_jobs import JOBS as TRANSLATE_JOBS
from studio.models.translate_jobs import add_job_arguments as add_translate_arguments
from studio.models.translate_jobs import make_job as make_translate_job


class TranslatorFamily(Family):
    """A :class:`Family` whose jobs are 'train' plus the shared translate jobs."""

    train_help = "train a translator between two image folders (--a DIR --b DIR)"

    def jobs(self) -> dict[str, str]:
        return {"train": self.train_help, **TRANSLATE_JOBS}

    def add_job_arguments(self, name: str, parser: Any) -> None:
        if name in TRANSLATE_JOBS:  # translate (studio/models/translate_jobs.py)
            return add_translate_arguments(name, parser)
        if name != "train":
            raise KeyError(f"family '{self.name}' has no job '{name}'")
        add_common_arguments(parser)
        self.add_train_arguments(parser)

    def make_job(self, name: str, /, **options: Any):
        if name in TRANSLATE_JOBS:
            return make_translate_job(name, options)
        if name != "train":
            raise KeyError(f"family '{self.name}' has no job '{name}'")
        return self.train_job(options)

    def add_train_arguments(self, parser: Any) -> None:
        """The family's own 'train' flags (after the shared ones)."""

    def train_job(self, options: dict[str, Any]):
        raise NotImplementedError
