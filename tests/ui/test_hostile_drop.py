"""A hostile state dropped on the window is refused at the door: nothing is kept, later renders work, and a
state can name a model only by id (a path in a state opens nothing)."""

from __future__ import annotations

import numpy as np
from PIL import Image, PngImagePlugin

from studio.core.export import save_png


def _png(path, text):
    info = PngImagePlugin.PngInfo()
    info.add_text("gan-studio-state", text)
    Image.new("RGB", (4, 4)).save(path, pnginfo=info)
    return path


def test_hostile_states_are_refused_and_the_canvas_keeps_rendering(window, tmp_path, px, settle):
    before_state, before_undo = window.current_state(), window.history.can_undo()
    hostile = {
        "letters.png": '{"model": "tiny", "z_edits": {"0": "abc"}}',
        "nan.png": '{"model": "tiny", "directions": {"pc0": NaN}}',
        "huge.png": '{"model": "tiny", "directions": {"pc0": 1e308}}',
        "deep.png": '{"model": "tiny", "x": ' + "[" * 3000 + "]" * 3000 + "}",
        "seed.png": '{"model": "tiny", "seed": "abc"}',
        "edits.png": '{"model": "tiny", "z_edits": [1, 2, 3]}',
    }
    for name, text in hostile.items():
        window.last_error = ""
        assert window.drop_file(_png(tmp_path / name, text)) is False
        assert name in window.last_error and "damaged" in window.last_error, (name, window.last_error)
        assert window.current_state() == before_state  # nothing of it was kept
        assert window.history.can_undo() == before_undo
    before = px(window)
    settle(window, lambda: window.panel.sliders["dir:pc0"].slider.setValue(950))  # later renders still work
    assert not np.array_equal(before, px(window))


def test_a_state_naming_a_card_path_opens_nothing(window, tmp_path, make_tiny, qtbot):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    card = make_tiny(elsewhere / "planted", seed=4)
    for named in (str(card), str(card.with_suffix("")), "../elsewhere/planted"):
        png = save_png(tmp_path / "p.png", np.zeros((4, 4, 3), np.uint8), {"model": named, "seed": 1})
        window.last_error = ""
        assert window.drop_file(png) is False
        assert "file path" in window.last_error and "open it yourself" in window.last_error
        qtbot.wait(50)
        assert window.current_model_id() == "tiny"


def test_a_state_of_a_model_the_user_opened_from_a_file_still_restores(window, tmp_path, make_tiny, qtbot, settle):
    card = make_tiny(tmp_path / "mine", seed=3)
    with qtbot.waitSignal(window.modelChanged, timeout=10000):
        window.open_model(card)  # an explicit user action (File ▸ Open)
    opened = window.current_model_id()
    png = save_png(tmp_path / "s.png", np.zeros((4, 4, 3), np.uint8), {"model": opened, "seed": 9})
    settle(window, lambda: window.drop_file(png))
    assert window.current_state()["seed"] == 9 and window.last_error == ""


def test_a_label_the_model_does_not_offer_is_replaced_not_kept(window, tmp_path, settle, px):
    png = save_png(tmp_path / "l.png", np.zeros((4, 4, 3), np.uint8), {"model": "tiny", "labels": {"colour": "x"}})
    settle(window, lambda: window.drop_file(png))
    assert window.current_state()["labels"]["colour"] in ("red", "green", "blue")
