"""One job API for every long task (training, fine-tuning, encoding, style transfer, evaluation).

A job is an object with ``title`` and ``run(reporter) -> dict`` (its outputs, e.g. the saved card path).
Inside ``run`` it calls ``reporter.report(step, total, losses=..., preview=...)`` as it goes. ``report``
is also the cancellation point: when the user pressed Cancel it raises :class:`JobCancelled`, and when
a loss is NaN/inf it raises :class:`JobDiverged`. A job that wants to save its work when cancelled
catches ``JobCancelled``, saves atomically, and re-raises.

The CLI renders progress as a text bar (``studio.cli``), the GUI as a job panel (``studio.engine``);
both call :func:`run_job`, so a job behaves the same everywhere.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .errors import JobCancelled, JobDiverged, StudioError


@dataclass
class Progress:
    """One progress event. ``preview`` is an HxWx3 uint8 image (already pixels, so any UI can show it)."""

    step: int
    total: int
    losses: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    message: str = ""
    preview: np.ndarray | None = None
    elapsed_s: float = 0.0
    time_left_s: float | None = None  # until a time limit stops the job (None: no limit)

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, self.step / self.total)

    def eta(self, steps_left_s: float) -> tuple[float, bool]:
        """(seconds left, whether the time limit is what ends the job): a run given ``--time-limit`` and a
        step ceiling it will never reach stops at the limit, and its ETA should say so."""
        if self.time_left_s is not None and self.time_left_s < steps_left_s:
            return max(0.0, self.time_left_s), True
        return steps_left_s, False


class CancelToken:
    """Thread-safe cancel flag shared between the UI (sets it) and the job (checks it)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise JobCancelled()


ProgressCallback = Callable[[Progress], None]

SCORE_PREFIX = "kid@"  # metrics named kid@<feature net> are quality scores, plotted beside the losses


def quality_scores(metrics: Mapping[str, float]) -> dict[str, float]:
    """The metrics a job panel plots as quality scores (KID of any feature network)."""
    return {k: float(v) for k, v in metrics.items() if k.startswith(SCORE_PREFIX)}


class Reporter:
    """Handed to a job: reports progress, checks for cancel, guards against divergence."""

    def __init__(
        self, callback: ProgressCallback | None = None, cancel: CancelToken | None = None, divergence_limit: float = 1e6
    ) -> None:
        self.callback = callback
        self.cancel = cancel or CancelToken()
        self.divergence_limit = divergence_limit
        self.history: list[Progress] = []
        self._start = time.perf_counter()

    @property
    def cancelled(self) -> bool:
        return self.cancel.cancelled

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self._start

    def check(self) -> None:
        """Raise JobCancelled if the user cancelled. Call it in inner loops that report rarely."""
        self.cancel.raise_if_cancelled()

    def report(
        self,
        step: int,
        total: int,
        losses: Mapping[str, float] | None = None,
        message: str = "",
        preview: np.ndarray | None = None,
        metrics: Mapping[str, float] | None = None,
        time_left_s: float | None = None,
    ) -> None:
        clean = {k: float(v) for k, v in (losses or {}).items()}
        for name, value in clean.items():
            if not math.isfinite(value) or abs(value) > self.divergence_limit:
                raise JobDiverged(
                    f"training diverged at step {step}: loss '{name}' is {value}. "
                    "Try a lower learning rate; the last checkpoint is kept."
                )
        event = Progress(
            step=step,
            total=total,
            losses=clean,
            metrics={k: float(v) for k, v in (metrics or {}).items()},
            message=message,
            preview=preview,
            elapsed_s=self.elapsed_s,
            time_left_s=time_left_s,
        )
        if preview is None:
            self.history.append(event)
        else:  # keep history light: previews are only for live display
            self.history.append(Progress(step, total, clean, event.metrics, message, None, event.elapsed_s))
        if self.callback is not None:
            self.callback(event)
        self.check()

    def message(self, text: str) -> None:
        """A status line without a step (e.g. 'loading data…')."""
        last = self.history[-1] if self.history else Progress(0, 0)
        if self.callback is not None:
            self.callback(Progress(last.step, last.total, {}, {}, text, None, self.elapsed_s))
        self.check()


class Job(Protocol):
    title: str

    def run(self, reporter: Reporter) -> dict[str, Any]: ...


@dataclass
class JobResult:
    status: str  # "finished" | "cancelled" | "failed"
    message: str
    outputs: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "finished"


def run_job(job: Job, callback: ProgressCallback | None = None, cancel: CancelToken | None = None) -> JobResult:
    """Run a job to the end, turning cancel/divergence/user errors into a JobResult (never raises them)."""
    reporter = Reporter(callback, cancel)
    try:
        outputs = job.run(reporter) or {}
        return JobResult("finished", f"{job.title}: finished", dict(outputs), reporter.elapsed_s)
    except JobCancelled as exc:
        outputs = getattr(exc, "outputs", {}) or {}
        saved = " (work so far was saved)" if outputs else ""
        return JobResult("cancelled", f"{job.title}: cancelled{saved}", dict(outputs), reporter.elapsed_s)
    except (JobDiverged, StudioError) as exc:
        return JobResult("failed", f"{job.title}: {exc}", {}, reporter.elapsed_s)
    except MemoryError:
        return JobResult(
            "failed", f"{job.title}: out of memory — try a smaller batch or image size", {}, reporter.elapsed_s
        )
    except Exception as exc:  # a bug: keep the app alive, show the message, keep the trace for the log
        return JobResult(
            "failed",
            f"{job.title}: unexpected error: {exc!r}",
            {"traceback": traceback.format_exc()},
            reporter.elapsed_s,
        )


def cancelled_with(outputs: Mapping[str, Any]) -> JobCancelled:
    """A JobCancelled that carries what the job saved before stopping (shown to the user)."""
    exc = JobCancelled()
    exc.outputs = dict(outputs)  # type: ignore[attr-defined]
    return exc
