"""The render engine serves the newest request, skips superseded ones, caches models, reports errors."""

from __future__ import annotations

import time

import numpy as np
import pytest

from studio.core.family import new_state
from studio.core.grid import to_uint8
from studio.engine import ModelCache, RenderEngine, qimage_to_array


@pytest.fixture
def engine(qapp):
    eng = RenderEngine(device="cpu")
    yield eng
    eng.shutdown()


def _state(seed):
    return new_state("tiny", seed)


def test_newest_of_many_requests_is_served_and_stale_ones_skipped(qtbot, engine, tiny_model):
    frames = []
    engine.frameReady.connect(frames.append)
    # make every render slow enough that requests pile up while one is in progress
    model = engine.cache.get(tiny_model, "cpu")
    original = model.render

    def slow_render(states):
        time.sleep(0.02)
        return original(states)

    model.render = slow_render
    stamps = []
    for i in range(60):  # a fast drag: a new state every ~5 ms while a render takes 20 ms
        stamps.append(engine.request(tiny_model, [_state(i)]))
        qtbot.wait(5)
    qtbot.waitUntil(lambda: bool(frames) and frames[-1].stamp == stamps[-1], timeout=5000)
    qtbot.wait(100)
    rendered = [f.stamp for f in frames]
    assert rendered[-1] == stamps[-1]
    assert rendered == sorted(rendered)  # never goes back in time
    assert 1 < len(rendered) < 30  # frames kept coming during the drag, but no queue was built
    assert engine.skipped >= 30
    assert frames[-1].states[0]["seed"] == 59
    assert engine.stats["rendered"] == len(rendered) + engine.stats["stale_dropped"]


def test_frame_pixels_match_the_model(qtbot, engine, tiny_model):
    with qtbot.waitSignal(engine.frameReady, timeout=5000) as sig:
        engine.request(tiny_model, [_state(3)])
    frame = sig.args[0]
    direct = engine.cache.get(tiny_model, "cpu").render([_state(3)])
    expected = to_uint8(direct)[0]
    assert frame.image.width() == 16 and frame.image.height() == 16
    assert np.array_equal(qimage_to_array(frame.image), expected)
    assert frame.cells.shape == (1, 16, 16, 3)


def test_grid_request_tiles_cells(qtbot, engine, tiny_model):
    model = engine.cache.get(tiny_model, "cpu")
    states = model.variations(_state(1), 6)
    with qtbot.waitSignal(engine.frameReady, timeout=5000) as sig:
        engine.request(tiny_model, states, rows=2, cols=3, pad=2)
    frame = sig.args[0]
    assert frame.cells.shape == (6, 16, 16, 3)
    assert (frame.image.width(), frame.image.height()) == (3 * 16 + 4 * 2, 2 * 16 + 3 * 2)
    assert not np.array_equal(frame.cells[0], frame.cells[1])


def test_switching_model_drops_results_of_the_old_one(qtbot, engine, tiny_models_dir):
    frames = []
    engine.frameReady.connect(frames.append)
    a, b = tiny_models_dir / "tiny.json", tiny_models_dir / "tiny-child.json"
    engine.request(a, [_state(0)])
    last = engine.request(b, [_state(0)])
    qtbot.waitUntil(lambda: bool(frames) and frames[-1].stamp == last, timeout=5000)
    assert all(f.model_key.endswith("tiny-child.json") for f in frames)


def test_models_are_cached_per_device(tiny_model):
    calls = []
    from studio.core.store import load_model

    cache = ModelCache(capacity=2, loader=lambda p, d: calls.append(p) or load_model(p, d))
    m1 = cache.get(tiny_model, "cpu")
    m2 = cache.get(str(tiny_model).replace(".json", ".safetensors"), "cpu")
    assert m1 is m2 and len(calls) == 1


def test_bad_model_and_bad_device_are_reported_not_raised(qtbot, engine, tmp_path, tiny_model):
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    with qtbot.waitSignal(engine.renderFailed, timeout=5000) as sig:
        engine.request(bad, [_state(0)])
    assert "broken.json" in sig.args[0].message
    engine.set_device("cuda:7" if not __import__("torch").cuda.is_available() else "nonsense")
    with qtbot.waitSignal(engine.renderFailed, timeout=5000) as sig:
        engine.request(tiny_model, [_state(0)])
    assert "device" in sig.args[0].message
    engine.set_device("cpu")  # and it keeps working
    with qtbot.waitSignal(engine.frameReady, timeout=5000):
        engine.request(tiny_model, [_state(0)])


def test_load_answers_with_the_model(qtbot, engine, tiny_model):
    with qtbot.waitSignal(engine.modelReady, timeout=5000) as sig:
        engine.load(tiny_model)
    ready = sig.args[0]
    assert ready.model.image_size == 16
    assert any(c.kind == "direction" for c in ready.model.controls())
