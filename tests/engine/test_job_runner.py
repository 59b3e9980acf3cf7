"""JobRunner: jobs run off the GUI thread, progress is throttled, Cancel really stops the job."""

from __future__ import annotations

import threading
import time

import numpy as np

from studio.core.errors import StudioError
from studio.core.jobs import cancelled_with
from studio.engine import JobRunner


class LoopJob:
    """Reports in a tight loop (like a training job) until done or cancelled."""

    title = "loop"

    def __init__(self, steps=10_000_000, sleep=0.001):
        self.steps, self.sleep = steps, sleep
        self.thread = None
        self.last_step = -1

    def run(self, reporter):
        self.thread = threading.current_thread()
        try:
            for step in range(self.steps):
                time.sleep(self.sleep)
                self.last_step = step
                preview = np.full((8, 8, 3), step % 255, np.uint8) if step % 10 == 0 else None
                reporter.report(step + 1, self.steps, losses={"g": 1.0 / (step + 1)}, preview=preview)
        except StudioError as exc:
            raise cancelled_with({"card": "saved.json"}) from exc
        return {"card": "done.json"}


def test_job_runs_in_another_thread_and_finishes(qtbot, qapp):
    runner = JobRunner()
    job = LoopJob(steps=50, sleep=0.0)
    events = []
    handle = runner.start(job)
    handle.progress.connect(events.append)
    with qtbot.waitSignal(handle.finished, timeout=5000) as sig:
        pass
    result = sig.args[0]
    assert result.ok and result.outputs == {"card": "done.json"}
    assert job.thread is not threading.main_thread()
    assert len(handle.history) == 50  # every loss point kept for the curve
    assert events and events[-1].step == 50  # the last event is always delivered
    assert len(events) < 50  # but the GUI was not flooded


def test_cancel_stops_a_running_job_within_a_second(qtbot, qapp):
    runner = JobRunner()
    job = LoopJob()
    handle = runner.start(job)
    qtbot.waitUntil(lambda: job.last_step > 5, timeout=5000)
    t0 = time.perf_counter()
    handle.cancel()
    with qtbot.waitSignal(handle.finished, timeout=1000) as sig:
        pass
    assert time.perf_counter() - t0 < 1.0
    result = sig.args[0]
    assert result.status == "cancelled" and result.outputs == {"card": "saved.json"}
    stopped_at = job.last_step
    time.sleep(0.05)
    assert job.last_step == stopped_at  # the job really stopped
    assert runner.running == []


def test_failing_job_reports_failure(qtbot, qapp):
    class Bad:
        title = "bad"

        def run(self, reporter):
            raise StudioError("data folder is empty")

    handle = JobRunner().start(Bad())
    with qtbot.waitSignal(handle.finished, timeout=5000) as sig:
        pass
    assert sig.args[0].status == "failed" and "data folder is empty" in sig.args[0].message
