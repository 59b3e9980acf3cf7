"""Text progress bar for jobs run from the command line (the CLI face of studio.core.jobs)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Any, TextIO

from studio.core.jobs import CancelToken, Job, JobResult, Progress, quality_scores, run_job


class TextProgress:
    """Prints one updating line: bar, step/total, losses, rate, ETA. Throttled to ~5 updates/s."""

    def __init__(self, stream: TextIO | None = None, width: int = 28):
        self.stream = stream or sys.stderr
        self.width = width
        self._last = 0.0
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._first: tuple[int, float] | None = None  # (step, elapsed) of the first step seen
        self.last_step = 0  # the last step a job reported (what a stop acknowledges)

    def __call__(self, p: Progress) -> None:
        self.last_step = max(self.last_step, p.step)
        scores = quality_scores(p.metrics)
        if scores:  # rare (every --kid-every steps) and worth keeping in the scrollback: its own line
            text = ", ".join(f"{k} = {v:.4g}" for k, v in scores.items())
            self.stream.write(("\r\033[K" if self._tty else "") + f"step {p.step}: {text}\n")
            self.stream.flush()
        now = time.monotonic()
        final = p.total > 0 and p.step >= p.total
        if not final and now - self._last < (0.2 if self._tty else 5.0) and not (p.message and not p.losses):
            return
        self._last = now
        if p.message and not p.losses and p.step == 0:
            self.stream.write(("\r" if self._tty else "") + p.message + ("\n" if not self._tty else "\033[K\n"))
            self.stream.flush()
            return
        filled = int(self.width * p.fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        losses = " ".join(f"{k}={v:.4g}" for k, v in list(p.losses.items())[:5])
        if self._first is None and p.step > 0:
            self._first = (p.step, p.elapsed_s)
        # rate over the steps this process ran (a resumed run starts at a later step)
        first_step, first_time = self._first or (0, 0.0)
        span = p.elapsed_s - first_time
        rate = (p.step - first_step) / span if span > 0 else 0.0
        eta, by_limit = p.eta((p.total - p.step) / rate if rate > 0 else 0.0)
        until = " (time limit)" if by_limit else ""
        line = f"[{bar}] {p.step}/{p.total} {losses} {rate:.2f} it/s eta {eta:.0f}s{until} {p.message}".rstrip()
        if self._tty:
            self.stream.write("\r" + line + "\033[K" + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


class PreviewWriter:
    """Keeps the job's latest preview image in one PNG (written atomically, so a viewer never sees half)."""

    def __init__(self, path: str, every_s: float = 2.0):
        self.path, self.every_s, self._last = path, every_s, -1e9

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if p.preview is None or now - self._last < self.every_s:
            return
        self._last = now
        from studio.core.export import save_png

        try:
            save_png(self.path, p.preview, {"step": p.step, "total": p.total})
        except OSError as exc:  # a full disk must not kill the training
            print(f"\ncould not write the preview to {self.path}: {exc}", file=sys.stderr)


# Replaced in tests (the real one ends the process at once, without running any clean-up).
_exit_now = os._exit


class StopSignals:
    """Ctrl+C (SIGINT) and ``kill PID`` (SIGTERM) while a job runs from the command line.

    The first signal asks the job to stop and save its work, and says so at once (before the job has
    even noticed); the job's own messages then show the save ("saving step N…", "exporting…"). A second
    signal stops the process at once, without waiting for the save: every save is atomic (temp file +
    rename), so that leaves the last complete checkpoint, never a half-written one, and the message
    says which step that is (a job tells through ``job.last_checkpoint``: ``(step, path)`` or None).
    Background jobs of a non-interactive shell ignore SIGINT, so there TERM is the polite stop.
    """

    def __init__(self, job: Job, cancel: CancelToken, bar: TextProgress | None = None, stream: TextIO | None = None):
        self.job, self.cancel, self.bar = job, cancel, bar
        self.stream = stream or sys.stderr
        self.count = 0
        self._previous: dict[int, Any] = {}

    def install(self, signals: tuple[int, ...] | None = None) -> bool:
        """Take over the signals (main thread only; elsewhere Python cannot, and nothing changes)."""
        if threading.current_thread() is not threading.main_thread():
            return False
        for sig in signals or (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self)
        return True

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def __call__(self, signum: int, frame: Any = None) -> None:
        self.count += 1
        if self.count == 1:
            self.request_stop(signum)
        else:
            self.stop_now()

    def request_stop(self, signum: int = signal.SIGINT) -> None:
        self.cancel.cancel()
        step = self.bar.last_step if self.bar is not None else 0
        what = f"saving step {step}…" if step > 0 else "saving the work so far…"
        again = "press Ctrl+C again" if signum == signal.SIGINT else "send the signal again"
        why = "" if signum == signal.SIGINT else "terminated: "
        self._say(f"{why}stopping: {what} ({again} to stop at once, without waiting for the save)")

    def stop_now(self) -> None:
        info: Any = getattr(self.job, "last_checkpoint", False)
        if info is False:  # a job without checkpoints
            text = "stopped at once; a file that was being written is left as it was before (writes are atomic)"
        elif info:
            step, where = info
            text = (
                f"stopped without finishing the save; the last complete checkpoint is step {step} "
                f"({where}): continue from it with --resume"
            )
        else:
            text = "stopped without finishing the save; this run has no complete checkpoint yet"
        self._say(text)
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
        _exit_now(130)

    def _say(self, text: str) -> None:
        try:
            self.stream.write("\n" + text + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed terminal: the stop itself must still happen
            pass


def run_with_progress(job: Job, preview_png: str | None = None) -> JobResult:
    """Run a job with a text bar; Ctrl+C asks it to stop and save (see :class:`StopSignals`).

    ``preview_png``: keep the latest live preview there, for watching a long headless run.
    """
    cancel = CancelToken()
    text_bar = TextProgress()
    writer = PreviewWriter(preview_png) if preview_png else None

    def bar(p: Progress) -> None:
        text_bar(p)
        if writer is not None:
            writer(p)

    result: list[JobResult] = []
    worker = threading.Thread(target=lambda: result.append(run_job(job, bar, cancel)), daemon=True)
    stop = StopSignals(job, cancel, text_bar)
    stop.install()
    try:
        worker.start()
        # Poll the result list rather than join(): a signal handler runs between two sleeps at once,
        # and on CPython 3.11 a join() interrupted by Ctrl+C can leave the thread looking finished.
        while not result:
            try:
                time.sleep(0.05)
            except KeyboardInterrupt:  # only where the handlers could not be installed (not the main thread)
                stop(signal.SIGINT)
    finally:
        stop.restore()
    # Let the worker thread finish exiting before this process does: a process that exits while a thread
    # that ran torch is still tearing down can abort in native code ("terminate called without an active
    # exception", seen at the end of a finished `studio train can`). The result is already here, so this
    # join is short; the bound keeps a stuck thread from holding the process.
    worker.join(timeout=30)
    res = result[0]
    print(f"error: {res.message}" if res.status == "failed" else res.message, file=sys.stderr)
    for key, value in res.outputs.items():
        if key != "traceback":
            print(f"  {key}: {value}", file=sys.stderr)
    if "traceback" in res.outputs:
        print(res.outputs["traceback"], file=sys.stderr)
    return res


def run_quietly(job: Job) -> JobResult:
    """Run a job without a progress bar (a DDP rank other than 0); SIGINT and SIGTERM cancel it."""
    cancel = CancelToken()
    stop = StopSignals(job, cancel, None, stream=open(os.devnull, "w"))  # rank 0 speaks for the run
    stop.install()
    try:
        return run_job(job, None, cancel)
    finally:
        stop.restore()
        stop.stream.close()


def exit_code(res: JobResult) -> int:
    return {"finished": 0, "cancelled": 130}.get(res.status, 1)
