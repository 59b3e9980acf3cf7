"""The first frame after start is rendered by the warm path, and the status bar's frame time is the
steady state, never a cold first frame."""

from __future__ import annotations

import numpy as np
import pytest

from studio.core.store import ModelStore
from studio.engine import RenderEngine
from studio.engine.frames import Frame, SteadyFrameTime


def _bundled_dcgan():
    store = ModelStore()
    if "emoji-dcgan" not in store.entries:
        pytest.skip("bundled model not present")
    return store.entries["emoji-dcgan"].path


def test_first_frame_after_start_is_rendered_warm(qtbot, qapp):
    path = _bundled_dcgan()
    engine = RenderEngine(device="cpu")
    try:
        model_state = {"model": "emoji-dcgan", "seed": 5}
        with qtbot.waitSignal(engine.frameReady, timeout=60000) as sig:
            engine.request(path, [model_state])
        frame = sig.args[0]
        assert frame.extra["warm"] is True  # the model was warmed up when it loaded, before this frame
        model = engine.cache.get(path, "cpu")
        assert model.warmed and frame.extra["precision"] == model.render_precision
    finally:
        engine.shutdown()


def _frame(ms: float, model: str = "m", warm: bool = False) -> Frame:
    return Frame(1, "canvas", model, [], 1, 1, np.zeros((1, 1, 1, 3), np.uint8), None, ms, ms, 0.0, {"warm": warm})  # type: ignore[arg-type]


def test_steady_frame_time_leaves_out_a_cold_first_frame():
    t = SteadyFrameTime(window=5)
    assert t.value() is None
    t.add(_frame(289.0))  # cold first frame of a model
    assert t.value() is None
    for ms in (4.0, 5.0, 3.0):
        t.add(_frame(ms))
    assert t.value() == 4.0
    t.add(_frame(300.0, model="other", warm=True))  # a warmed first frame counts
    assert t.value() == 300.0
    for ms in (2.0, 2.0, 2.0, 2.0, 2.0):
        t.add(_frame(ms, model="other"))
    assert t.value() == 2.0  # only the last few frames


def test_opening_a_model_times_the_thread_counts_while_idle_and_requests_still_come_first(qtbot, qapp, monkeypatch):
    monkeypatch.delenv("STUDIO_RENDER_THREADS", raising=False)
    path = _bundled_dcgan()
    engine = RenderEngine(device="cpu")
    try:
        with qtbot.waitSignal(engine.modelReady, timeout=60000) as ready:
            engine.load(path)
        key = ready.args[0].model_key
        worker = engine._worker
        with qtbot.waitSignal(engine.frameReady, timeout=60000) as sig:  # served while it calibrates
            engine.request(path, [{"model": "emoji-dcgan", "seed": 5}])
        assert sig.args[0].extra["warm"] is True
        tuner = worker._tuner
        assert tuner is not None
        if len(tuner.candidates) == 1:
            return  # one core or a fixed count: nothing to time
        qtbot.waitUntil(lambda: tuner.chosen(key, 1) is not None, timeout=30000)  # no drag needed
        qtbot.waitUntil(lambda: worker._calibrating is None, timeout=10000)
        timed = sum(len(v) for v in tuner._times(key, 1).values())
        qtbot.wait(200)
        assert sum(len(v) for v in tuner._times(key, 1).values()) == timed  # it stops once chosen
    finally:
        engine.shutdown()
