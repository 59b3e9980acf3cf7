"""Export writes a PNG whose state restores the same canvas when dropped; bad drops show an error."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from studio.core.export import read_state, save_png
from studio.ui.export_dialog import ExportOptions


def drop(window, path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(event)


def test_export_then_drop_restores_state_and_pixels(window, aloop, px, settle, tmp_path):
    settle(window, lambda: window.panel.seed_box.setValue(77))
    settle(window, lambda: window.panel.sliders["dir:pc2"].slider.setValue(800))
    state, shown = window.current_state(), px(window)
    out = tmp_path / "out" / "one.png"
    aloop.run_until_complete(window.export_grid(ExportOptions(out, 1, 1, 16, 0)))
    assert read_state(out) == state
    assert np.array_equal(np.asarray(Image.open(out).convert("RGB")), shown)

    settle(window, window.randomize)  # move away, then drop the export back
    settle(window, lambda: window.panel.sliders["dir:pc0"].slider.setValue(100))
    assert window.current_state() != state
    settle(window, lambda: drop(window, out))
    assert window.current_state() == state
    assert np.array_equal(px(window), shown)
    assert window.last_error == ""


def test_grid_export_has_rows_cols_cell_size_and_metadata(window, aloop, tmp_path):
    out = tmp_path / "grid.png"
    aloop.run_until_complete(window.export_grid(ExportOptions(out, 2, 3, 32, 2)))
    img = Image.open(out)
    assert img.size == (3 * 32 + 4 * 2, 2 * 32 + 3 * 2)
    assert read_state(out)["model"] == "tiny"
    assert json.loads(img.text["gan-studio-grid"])["rows"] == 2


def test_drop_from_another_model_opens_it(window, qtbot, tmp_path, px):
    state = {"model": "tiny-child", "seed": 5, "directions": {"pc1": 1.0}}
    out = save_png(tmp_path / "child.png", np.zeros((4, 4, 3), np.uint8), state)
    with qtbot.waitSignal(window.modelChanged, timeout=10000):
        drop(window, out)
    assert window.current_model_id() == "tiny-child"
    assert window.current_state()["seed"] == 5 and window.current_state()["directions"] == {"pc1": 1.0}


def test_bad_drops_show_errors_and_the_app_keeps_running(window, tmp_path, px, settle):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8), "red").save(plain)
    broken = tmp_path / "broken.png"
    broken.write_bytes(plain.read_bytes()[:30])
    foreign = save_png(tmp_path / "foreign.png", np.zeros((4, 4, 3), np.uint8), {"model": "not-installed"})
    damaged = tmp_path / "damaged.png"
    save_png(damaged, np.zeros((4, 4, 3), np.uint8), None, {"gan-studio-state": "{oops"})
    for path, words in (
        (text, "notes.txt"),
        (plain, "no GAN Studio state"),
        (broken, "broken.png"),
        (foreign, "not installed"),
        (damaged, "damaged"),
        (tmp_path / "gone.png", "gone.png"),
    ):
        window.last_error = ""
        drop(window, path)
        assert words in window.last_error, (path, window.last_error)
    # still alive and rendering
    before = px(window)
    settle(window, lambda: window.panel.sliders["dir:pc0"].slider.setValue(950))
    assert not np.array_equal(before, px(window))


def test_dropping_a_checkpoint_from_elsewhere_opens_it(window, qtbot, tmp_path, make_tiny):
    from studio.engine import model_key

    other = tmp_path / "elsewhere"
    other.mkdir()
    card = make_tiny(other / "mine", seed=3)
    with qtbot.waitSignal(window.modelChanged, timeout=10000):
        drop(window, card)
    assert window.current_model_id() == model_key(card)
    assert window.model_list.item(window.current_model_id()) is not None  # listed under "Opened files"
    window.refresh_models()
    assert window.model_list.item(window.current_model_id()) is not None
