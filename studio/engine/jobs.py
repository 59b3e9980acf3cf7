"""Run any :mod:`studio.core.jobs` job in a QThread and re-emit its progress as Qt signals.

Why: the GUI must never block, and it must show the same job the CLI runs (``run_job``), not a copy.
Progress events arrive from the job thread as fast as the job reports; the handle keeps every loss
point (for the loss curve) but emits ``progress`` at most every ``min_interval_s`` so live previews
don't flood the event loop. The last event before the end is always delivered. ``cancel()`` sets the
job's CancelToken; jobs check it at every ``report()``, so the job stops at its next report (a
training job then saves its state and exports the model: see ``studio.train``).

A QThread object destroyed while its thread still runs aborts the whole process ("QThread: Destroyed
while thread … is still running"). So a running job's thread is kept alive here, not by the window
that started it, until it has ended; the window asks before closing during a job, and the app waits
for :func:`wait_for_jobs` before the process exits.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from studio.core.jobs import CancelToken, JobResult, Progress, quality_scores, run_job
from studio.core.threads import lower_priority_here

# every job thread that was started and has not been seen to end (kept alive by this set, see above)
_THREADS: set[_JobThread] = set()
_THREADS_LOCK = threading.Lock()


def _reap() -> None:
    with _THREADS_LOCK:
        for t in [t for t in _THREADS if t.isFinished()]:
            _THREADS.discard(t)


def running_job_threads() -> list[_JobThread]:
    """Job threads that are still running (in any window or runner)."""
    _reap()
    with _THREADS_LOCK:
        return [t for t in _THREADS if t.isRunning()]


def wait_for_jobs(timeout_s: float | None = None, cancel: bool = False) -> bool:
    """Block until every job thread has ended (optionally cancelling the jobs first); True when none
    runs any more. Meant for the end of the process, when no event loop is left to wait in."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    for t in running_job_threads():
        if cancel:
            t.handle.token.cancel()
    for t in running_job_threads():
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not (t.wait() if left is None else t.wait(int(left * 1000))):
            return False
    _reap()
    return not running_job_threads()


class _JobThread(QThread):
    def __init__(self, handle: JobHandle) -> None:
        super().__init__()
        self.handle = handle
        self.setObjectName(f"studio-job-{handle.title}")

    def run(self) -> None:  # runs in the job thread
        h = self.handle
        lower_priority_here()  # the window's renders go first (studio.core.threads)
        result = run_job(h.job, h._on_progress, h.token)
        h.result_in_thread = result
        try:
            h._flush()
            h._result_ready.emit(result)
        except RuntimeError:  # the handle's QObject is gone (its window was destroyed): nobody to tell
            pass


class JobHandle(QObject):
    """A running (or finished) job. Signals are delivered in the GUI thread."""

    progress = Signal(object)  # Progress (throttled)
    finished = Signal(object)  # JobResult
    cancelRequested = Signal()  # cancel() was called: the job is stopping (and saving its work)
    _result_ready = Signal(object)

    def __init__(self, job: Any, min_interval_s: float = 0.05, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.title = str(getattr(job, "title", type(job).__name__))
        self.token = CancelToken()
        self.min_interval_s = min_interval_s
        self.history: list[tuple[int, dict[str, float]]] = []  # (step, losses) for every report
        self.score_history: list[tuple[int, dict[str, float]]] = []  # (step, KID…) when a job measured one
        self.last: Progress | None = None
        self.result: JobResult | None = None
        self.result_in_thread: JobResult | None = None  # set by the job thread before it signals
        self.started_at = time.perf_counter()
        self._lock = threading.Lock()
        self._pending: Progress | None = None
        self._last_emit = 0.0
        self._result_ready.connect(self._on_result)
        self._thread = _JobThread(self)
        # A throttled event must not stay unshown while the job is busy without reporting (a KID
        # measurement, the export): the GUI thread shows whatever is pending a few times a second.
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(200)
        self._flush_timer.timeout.connect(self._flush)

    def start(self) -> JobHandle:
        self.started_at = time.perf_counter()
        _reap()
        with _THREADS_LOCK:
            _THREADS.add(self._thread)
        self._thread.start()
        self._flush_timer.start()
        return self

    @property
    def running(self) -> bool:
        return self.result is None

    @property
    def cancel_requested(self) -> bool:
        return self.token.cancelled

    @property
    def thread_running(self) -> bool:
        """The job's thread has not ended yet (``running`` turns False only once the GUI got the result)."""
        return self._thread.isRunning()

    def cancel(self) -> None:
        """Ask the job to stop; it does so at its next report() (and saves its work if it can).
        ``cancelRequested`` is emitted at once (the first time), so the UI can say so before the job does."""
        if self.token.cancelled or self.result is not None:
            return
        self.token.cancel()
        self.cancelRequested.emit()

    def wait(self, timeout_ms: int | None = 30000) -> bool:
        """Block until the job's thread has ended (``None``: as long as it takes)."""
        return self._thread.wait() if timeout_ms is None else self._thread.wait(timeout_ms)

    # -- job thread side --
    def _on_progress(self, event: Progress) -> None:
        with self._lock:
            if event.losses:
                self.history.append((event.step, dict(event.losses)))
            scores = quality_scores(event.metrics)
            if scores:
                self.score_history.append((event.step, scores))
            if event.preview is None and self._pending is not None and self._pending.preview is not None:
                event.preview = self._pending.preview  # keep the newest preview until it is shown
            self._pending = event
            now = time.perf_counter()
            if now - self._last_emit < self.min_interval_s:
                return
            self._last_emit = now
            self._pending = None
        self.last = event
        self.progress.emit(event)

    def _flush(self) -> None:
        with self._lock:
            event, self._pending = self._pending, None
        if event is not None:
            self.last = event
            self.progress.emit(event)

    # -- GUI thread side --
    def _on_result(self, result: JobResult) -> None:
        self._flush_timer.stop()
        self._thread.wait(2000)
        self.result = result
        self.finished.emit(result)


class JobRunner(QObject):
    """Starts jobs and keeps their handles alive until they finish."""

    jobStarted = Signal(object)  # JobHandle
    allFinished = Signal()  # the last running job of this runner has finished

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.handles: list[JobHandle] = []

    def start(self, job: Any, min_interval_s: float = 0.05) -> JobHandle:
        handle = JobHandle(job, min_interval_s, parent=self)
        self.handles.append(handle)
        handle.finished.connect(lambda _r, h=handle: self._forget(h))
        handle.start()
        self.jobStarted.emit(handle)
        return handle

    def _forget(self, handle: JobHandle) -> None:
        if handle in self.handles:
            self.handles.remove(handle)
        if not self.running:
            self.allFinished.emit()

    @property
    def running(self) -> list[JobHandle]:
        return [h for h in self.handles if h.running]

    def cancel_all(self, wait_ms: int | None = 5000) -> bool:
        """Cancel every job and wait for the threads (``None``: as long as they take). True when all ended."""
        for h in list(self.handles):
            h.cancel()
        return self.wait_all(wait_ms)

    def wait_all(self, wait_ms: int | None = None) -> bool:
        """Block until every job's thread has ended; True when none is left running."""
        deadline = None if wait_ms is None else time.monotonic() + wait_ms / 1000
        for h in list(self.handles):
            left = None if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            if not h.wait(left):
                return False
        return True
