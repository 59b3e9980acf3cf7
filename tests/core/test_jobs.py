"""The job API: progress, cancel, divergence, saved work on cancel, bugs never escape."""

import threading
import time

import numpy as np
import pytest

from studio.core.errors import JobCancelled, StudioError
from studio.core.jobs import CancelToken, Reporter, cancelled_with, run_job


class LoopJob:
    title = "loop"

    def __init__(self, steps=1000, loss=lambda i: 1.0 / (i + 1), delay=0.0):
        self.steps, self.loss, self.delay, self.done = steps, loss, delay, 0

    def run(self, reporter):
        for i in range(1, self.steps + 1):
            time.sleep(self.delay)
            self.done = i
            reporter.report(
                i,
                self.steps,
                losses={"l": self.loss(i)},
                preview=np.zeros((2, 2, 3), np.uint8) if i % 10 == 0 else None,
            )
        return {"steps": self.steps}


def test_finished_job_reports_every_step():
    events = []
    res = run_job(LoopJob(steps=20), events.append)
    assert res.ok and res.outputs == {"steps": 20}
    assert [e.step for e in events] == list(range(1, 21))
    assert events[-1].fraction == 1.0 and events[9].preview is not None


def test_cancel_from_another_thread_stops_promptly():
    cancel = CancelToken()
    job = LoopJob(steps=10_000, delay=0.001)
    threading.Timer(0.05, cancel.cancel).start()
    res = run_job(job, None, cancel)
    assert res.status == "cancelled"
    assert job.done < 10_000


def test_nan_loss_fails_with_clear_message():
    res = run_job(LoopJob(steps=10, loss=lambda i: float("nan") if i == 5 else 1.0))
    assert res.status == "failed" and "diverged at step 5" in res.message


def test_exploding_loss_fails():
    res = run_job(LoopJob(steps=10, loss=lambda i: 10.0**i))
    assert res.status == "failed" and "diverged" in res.message


def test_job_that_saves_on_cancel_reports_its_outputs():
    class Saving:
        title = "saving"

        def run(self, reporter):
            try:
                for i in range(100):
                    reporter.report(i, 100)
            except JobCancelled as exc:
                raise cancelled_with({"card": "/x/y.json"}) from exc

    cancel = CancelToken()
    cancel.cancel()
    res = run_job(Saving(), None, cancel)
    assert res.status == "cancelled" and res.outputs == {"card": "/x/y.json"} and "saved" in res.message


def test_user_errors_and_bugs_become_failed_results():
    class Bad:
        title = "bad"

        def __init__(self, exc):
            self.exc = exc

        def run(self, reporter):
            raise self.exc

    res = run_job(Bad(StudioError("data folder is empty")))
    assert res.status == "failed" and "data folder is empty" in res.message
    res = run_job(Bad(ZeroDivisionError("oops")))
    assert res.status == "failed" and "unexpected error" in res.message and "traceback" in res.outputs


def test_reporter_history_drops_previews():
    r = Reporter()
    r.report(1, 2, losses={"a": 1}, preview=np.zeros((2, 2, 3), np.uint8))
    assert r.history[0].preview is None and r.history[0].losses == {"a": 1.0}
    r.cancel.cancel()
    with pytest.raises(JobCancelled):
        r.check()


def test_text_progress_rate_counts_only_this_runs_steps():
    import io

    from studio.cli.progress import TextProgress
    from studio.core.jobs import Progress

    out = io.StringIO()
    bar = TextProgress(out)
    bar(Progress(step=5000, total=5010, elapsed_s=1.0))  # a resumed run starts at step 5000
    bar(Progress(step=5010, total=5010, elapsed_s=11.0))
    assert "1.00 it/s" in out.getvalue().splitlines()[-1]


def test_eta_of_a_time_limited_run_is_the_time_left_not_the_step_ceiling():
    import io

    from studio.cli.progress import TextProgress
    from studio.core.jobs import Progress

    out = io.StringIO()
    bar = TextProgress(out)
    bar(Progress(step=10, total=200_000, elapsed_s=10.0, time_left_s=600.0))  # 1 it/s, ~200,000 s of steps
    bar._last = float("-inf")  # the bar prints every 5 s off a terminal; these events are simulated
    bar(Progress(step=20, total=200_000, elapsed_s=20.0, time_left_s=590.0))
    assert "eta 590s (time limit)" in out.getvalue().splitlines()[-1]
    bar._last = float("-inf")
    bar(Progress(step=30, total=40, elapsed_s=30.0, time_left_s=590.0))  # the step ceiling comes first
    last = out.getvalue().splitlines()[-1]
    assert "eta 10s" in last and "time limit" not in last


def test_text_progress_prints_each_kid_measurement_on_its_own_line():
    import io

    from studio.cli.progress import TextProgress
    from studio.core.jobs import Progress

    out = io.StringIO()
    bar = TextProgress(out)
    bar(Progress(step=1, total=10, losses={"g": 1.0}, metrics={"lr": 0.1}))
    bar(Progress(step=2, total=10, losses={"g": 1.0}, metrics={"kid@mobilenet_v2": 0.0123}))
    assert "step 2: kid@mobilenet_v2 = 0.0123" in out.getvalue().splitlines()
    assert "lr" not in out.getvalue()


def test_preview_writer_keeps_the_latest_preview_in_a_png(tmp_path):
    import numpy as np
    from PIL import Image

    from studio.cli.progress import PreviewWriter
    from studio.core.jobs import Progress

    path = tmp_path / "live.png"
    writer = PreviewWriter(str(path), every_s=0.0)
    writer(Progress(step=1, total=2))  # no preview: nothing written
    assert not path.exists()
    writer(Progress(step=2, total=2, preview=np.full((4, 6, 3), 200, np.uint8)))
    assert Image.open(path).size == (6, 4)
    assert list(tmp_path.iterdir()) == [path]  # written through a temp file, nothing left over


def test_atomic_files_get_normal_permissions(tmp_path):
    import os

    from studio.core.atomic import atomic_write_text

    umask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "f.txt", "x")
    finally:
        os.umask(umask)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644


def test_checkpoint_files_get_normal_permissions(tmp_path):
    import os

    import torch

    from studio.core.checkpoint import ModelCard, save_checkpoint

    umask = os.umask(0o022)
    try:
        save_checkpoint(tmp_path / "m", {"w": torch.zeros(2)}, ModelCard(name="m", family="x", config={}, image_size=8))
    finally:
        os.umask(umask)
    for suffix in (".safetensors", ".json"):
        assert (tmp_path / f"m{suffix}").stat().st_mode & 0o777 == 0o644, suffix
