"""The GUI's job runner stops a real training job (the tiny CPPN plugin family on the shared Trainer):
Cancel is acknowledged at once (``cancelRequested``), the job saves and exports, and it has ended
within 2 s plus the time of that save; the thread is joined, none is left running."""

from __future__ import annotations

import time

import pytest

from studio.core.checkpoint import load_checkpoint
from studio.core.registry import default_registry
from studio.engine import JobRunner
from studio.engine.jobs import running_job_threads
from studio.train import RunFolder, Trainer


@pytest.fixture(scope="module")
def stripes(tmp_path_factory):
    import numpy as np
    from PIL import Image

    folder = tmp_path_factory.mktemp("stripes")
    rng = np.random.default_rng(1)
    for i in range(12):
        a = np.zeros((24, 24, 3), np.uint8)
        a[:, :: int(rng.integers(2, 6))] = rng.integers(0, 255, 3)
        Image.fromarray(a).save(folder / f"{i}.png")
    return folder


def cppn_job(stripes, tmp_path, steps=1_000_000, **kw):
    options = dict(
        data=str(stripes),
        image_size=16,
        hidden=8,
        steps=steps,
        batch=4,
        out=str(tmp_path / "models" / "cppn"),
        run_dir=str(tmp_path / "run"),
        preview_every=20,
        device="cpu",
    )
    options.update(kw)
    return default_registry().get("cppn").make_job("train", **options)


def time_saves(monkeypatch):
    """Seconds spent saving the run state and exporting the model (the 'one save' a stop may take)."""
    spent = {"s": 0.0}
    real_save = Trainer._save

    def save(self, *args, **kw):
        t = time.perf_counter()
        try:
            return real_save(self, *args, **kw)
        finally:
            spent["s"] += time.perf_counter() - t

    monkeypatch.setattr(Trainer, "_save", save)
    return spent


def test_cancel_is_acknowledged_at_once_and_the_training_ends_after_its_save(
    qtbot, qapp, stripes, tmp_path, monkeypatch
):
    spent = time_saves(monkeypatch)
    job = cppn_job(stripes, tmp_path, checkpoint_every=0)
    real_export = job.task.export

    def export(ctx, summary):
        t = time.perf_counter()
        try:
            return real_export(ctx, summary)
        finally:
            spent["s"] += time.perf_counter() - t

    monkeypatch.setattr(job.task, "export", export)
    runner = JobRunner()
    handle = runner.start(job, min_interval_s=0.02)
    qtbot.waitUntil(lambda: handle.last is not None and handle.last.step > 20, timeout=30000)
    acked = []
    handle.cancelRequested.connect(lambda: acked.append(time.perf_counter()))
    t0 = time.perf_counter()
    handle.cancel()
    assert acked and acked[0] - t0 < 0.5  # said at once, before the job has even noticed
    with qtbot.waitSignal(handle.finished, timeout=30000) as sig:
        pass
    stopped = time.perf_counter() - t0
    result = sig.args[0]
    assert result.status == "cancelled", result.message
    assert spent["s"] > 0
    assert stopped < 2.0 + spent["s"], (stopped, spent["s"])
    assert handle.wait(1000) and not handle.thread_running
    assert running_job_threads() == []
    step = RunFolder(tmp_path / "run").load()[1]["step"]
    assert result.outputs["step"] == step > 20
    assert load_checkpoint(result.outputs["card"])[1].training.steps == step
    handle.cancel()  # a second cancel after the end changes nothing
    assert len(acked) == 1
