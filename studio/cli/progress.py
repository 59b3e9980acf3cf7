"""Text progress bar for jobs run from the command line (the CLI face of studio.core.jobs)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from studio.core.jobs import CancelToken, Job, JobResult, Progress, quality_scores, run_job


class TextProgress:
    """Prints one updating line: bar, step/total, losses, rate, ETA. Throttled to ~5 updates/s."""

    def __init__(self, stream: TextIO | None = None, width: int = 28):
        self.stream = stream or sys.stderr
        self.width = width
        self._last = 0.0
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._first: tuple[int, float] | None = None  # (step, elapsed) of the first step seen

    def __call__(self, p: Progress) -> None:
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
        eta = (p.total - p.step) / rate if rate > 0 else 0.0
        line = f"[{bar}] {p.step}/{p.total} {losses} {rate:.2f} it/s eta {eta:.0f}s {p.message}".rstrip()
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


def cancel_on_sigterm(cancel: CancelToken):
    """Make SIGTERM (``kill PID``, a scheduler's stop) cancel the job like Ctrl+C does, so the job
    saves its work. Background jobs of a non-interactive shell ignore SIGINT, so there TERM is the
    only polite stop. Returns a function that puts the previous handler back."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signal handlers can only be set from the main thread

    def on_term(signum, frame) -> None:
        if not cancel.cancelled:
            print("\nterminated: cancelling… (the job saves its work)", file=sys.stderr)
            cancel.cancel()

    previous = signal.signal(signal.SIGTERM, on_term)
    return lambda: signal.signal(signal.SIGTERM, previous)


def run_with_progress(job: Job, preview_png: str | None = None) -> JobResult:
    """Run a job with a text bar; Ctrl+C cancels it cleanly (the job saves what it can).

    ``preview_png``: keep the latest live preview there, for watching a long headless run.
    """
    cancel = CancelToken()
    text_bar = TextProgress()
    writer = PreviewWriter(preview_png) if preview_png else None

    def bar(p: Progress) -> None:
        text_bar(p)
        if writer is not None:
            writer(p)

    import threading

    result: list[JobResult] = []
    worker = threading.Thread(target=lambda: result.append(run_job(job, bar, cancel)), daemon=True)
    restore = cancel_on_sigterm(cancel)
    worker.start()
    # Poll the result list rather than join(): on CPython 3.11 a join() interrupted by Ctrl+C can
    # leave the thread looking finished while the job is still saving its work.
    while not result:
        try:
            time.sleep(0.1)
        except KeyboardInterrupt:
            if not cancel.cancelled:
                print(
                    "\ncancelling… (the job saves its work; press Ctrl+C again to wait less politely)", file=sys.stderr
                )
                cancel.cancel()
    restore()
    res = result[0]
    print(res.message, file=sys.stderr)
    for key, value in res.outputs.items():
        if key != "traceback":
            print(f"  {key}: {value}", file=sys.stderr)
    if "traceback" in res.outputs:
        print(res.outputs["traceback"], file=sys.stderr)
    return res


def run_quietly(job: Job) -> JobResult:
    """Run a job without a progress bar (a DDP rank other than 0); SIGTERM still cancels it."""
    import signal

    cancel = CancelToken()
    restore = cancel_on_sigterm(cancel)
    previous = signal.signal(signal.SIGINT, lambda signum, frame: cancel.cancel())
    try:
        return run_job(job, None, cancel)
    finally:
        signal.signal(signal.SIGINT, previous)
        restore()


def exit_code(res: JobResult) -> int:
    return {"finished": 0, "cancelled": 130}.get(res.status, 1)
