"""Sliders change the canvas; undo restores the previous pixels; a drag is one undo step."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt


def test_window_opens_on_first_root_model(window):
    assert window.current_model_id() == "tiny"
    assert window.model_list.item("tiny-child").parent() is window.model_list.item("tiny")
    assert window.canvas.image().width() == 16


def test_moving_a_slider_changes_pixels_and_undo_restores_them(window, px, settle):
    before = px(window)
    slider = window.panel.sliders["dir:pc0"]
    settle(window, lambda: slider.slider.setValue(900))
    after = px(window)
    assert not np.array_equal(before, after)
    assert window.current_state()["directions"]["pc0"] > 1.0
    settle(window, window.undo)
    assert np.array_equal(px(window), before)
    assert window.current_state()["directions"].get("pc0", 0.0) == 0.0
    assert slider.value() == 0.0  # the slider follows the restored state
    settle(window, window.redo)
    assert np.array_equal(px(window), after)


def test_a_drag_is_one_undo_step(window, px, settle, qtbot):
    start = px(window)
    s = window.panel.sliders["dir:pc1"].slider
    s.setSliderDown(True)  # the user grabs the handle
    for v in range(520, 1000, 40):
        s.setValue(v)
        qtbot.wait(5)
    assert window.history.pending  # live edits while the handle is held
    s.setSliderDown(False)  # ... and lets go: the drag becomes one step
    assert not window.history.pending
    qtbot.waitUntil(lambda: window.canvas.frames_shown > 1 and not np.array_equal(px(window), start))
    qtbot.wait(100)
    assert not np.array_equal(px(window), start)
    settle(window, window.undo)
    assert np.array_equal(px(window), start)
    assert not window.history.can_undo()


def test_seed_randomize_labels_and_scalars_render(window, px, settle):
    seen = [px(window)]
    settle(window, lambda: window.panel.seed_box.setValue(42))
    seen.append(px(window))
    settle(window, window.randomize)
    seen.append(px(window))
    combo = window.panel.combos["colour"]
    settle(window, lambda: combo._activated(2))
    assert window.current_state()["labels"]["colour"] == "blue"
    seen.append(px(window))
    settle(window, lambda: window.panel.sliders["scalar:brightness"].slider.setValue(200))
    assert abs(window.current_state()["scalars"]["brightness"] - 0.4) < 1e-6
    seen.append(px(window))
    for a, b in zip(seen, seen[1:]):
        assert not np.array_equal(a, b)


def test_grid_mode_and_keyboard_shortcuts(window, settle, qtbot):
    window.rows_box.setValue(2)
    window.cols_box.setValue(3)
    settle(window, lambda: qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier))
    assert window.act_grid.isChecked()
    img = window.canvas.image()
    assert (img.width(), img.height()) == (3 * 16 + 4 * 3, 2 * 16 + 3 * 3)  # 3 px gaps
    seed = window.current_state()["seed"]
    settle(window, lambda: qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier))
    assert window.current_state()["seed"] != seed
    settle(window, lambda: qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier))
    assert window.current_state()["seed"] == seed


def test_switching_models_rebuilds_the_panel(window, qtbot, px):
    first = px(window)
    item = window.model_list.item("tiny-child")
    with qtbot.waitSignal(window.modelChanged, timeout=10000):
        window.model_list._activated(item)
    qtbot.waitUntil(lambda: not np.array_equal(px(window), first), timeout=10000)
    assert window.current_model_id() == "tiny-child"
    assert window.current_state()["model"] == "tiny-child"


def test_set_state_api_for_tools(window, px, settle):
    state = window.current_state()
    state["seed"] = 1234
    settle(window, lambda: window.set_state(state))
    assert window.panel.seed_box.value() == 1234
    assert window.history.can_undo()
