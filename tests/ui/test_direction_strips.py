"""Directions that explain themselves: strips, names that survive a restart, two-state directions."""

from __future__ import annotations

import numpy as np
import torch

from studio.core.direction_edits import STRIP_VALUES
from studio.core.direction_names import book_path_for


def wait_strip(qtbot, window, key):
    strips = window.directions
    strips.fresh.discard(key)
    strips.request_strip(key)
    qtbot.waitUntil(lambda: key in strips.fresh, timeout=10000)
    return strips.cells[key]


def test_a_renamed_direction_survives_a_restart(make_window, qtbot):
    first = make_window()
    assert first.panel.sliders["dir:pc0"].label.text() == "Direction 1"
    assert first.directions.rename("pc0", "  smile ")
    assert first.panel.sliders["dir:pc0"].label.text() == "smile"
    card = first.current_model().card
    assert book_path_for(card).exists()
    assert "smile" not in (first.current_model_path()).read_text()  # the card is never rewritten
    first.close()
    second = make_window()  # a new window, the same STUDIO_HOME and settings
    qtbot.waitUntil(lambda: "dir:pc0" in second.panel.sliders, timeout=5000)
    assert second.panel.sliders["dir:pc0"].label.text() == "smile"
    assert second.panel.sliders["dir:pc1"].label.text() == "Direction 2"
    assert dict(second.directions.directions())["pc0"] == "smile"


def test_the_strip_shows_images_that_differ_along_the_direction(window, qtbot, px):
    cells = wait_strip(qtbot, window, "pc0")
    assert cells.shape[0] == len(STRIP_VALUES)
    steps = [float(np.abs(cells[i + 1].astype(int) - cells[i].astype(int)).mean()) for i in range(len(cells) - 1)]
    assert min(steps) > 1.0, steps  # every step along the direction changes the image
    middle = cells[len(cells) // 2]
    # the middle cell is the canvas (a batch of 5 may round one grey level differently from a batch of 1)
    assert np.abs(middle.astype(int) - px(window).astype(int)).max() <= 1
    other = wait_strip(qtbot, window, "pc1")
    assert not np.array_equal(other, cells)  # another direction, another strip
    assert window.directions.pixmaps["pc0"].height() > 0


def test_strips_wait_while_a_slider_is_held(window, qtbot):
    strips = window.directions
    strips.watch(["pc2"])
    qtbot.waitUntil(lambda: "pc2" in strips.fresh, timeout=10000)
    slider = window.panel.sliders["dir:pc2"].slider
    slider.setSliderDown(True)
    slider.setValue(slider.value() + 100)  # a live drag step
    asked = strips.requests
    qtbot.wait(strips._timer.interval() * 3)
    assert "pc2" not in strips.fresh and strips.requests == asked  # nothing asked during the drag
    slider.setSliderDown(False)
    qtbot.waitUntil(lambda: "pc2" in strips.fresh, timeout=10000)


def test_a_two_state_direction_moves_the_latent_from_a_to_b(make_window, qtbot):
    window = make_window()
    model = window.current_model()
    state_a = window.current_state()
    state_b = dict(state_a, seed=12345)
    state_b["directions"] = {"pc1": 1.0}
    window.set_state(state_b)
    key = window.directions.new_direction(state_a, window.current_state(), "to B")
    assert key == "ab1"
    slider = window.panel.sliders[f"dir:{key}"]
    assert slider.label.text() == "to B"
    window.set_state(state_a)
    za, zb = model.latent_for(state_a), model.latent_for(state_b)
    dists = []
    for amount in (0.25, 0.5, 1.0):
        slider.slider.setValue(slider._to_pos(amount))
        z = model.latent_for(window.current_state())
        dists.append(float((z - zb).norm()))
    assert float((za - zb).norm()) > dists[0] > dists[1] > dists[2]
    full = float((za - zb).norm())
    assert dists[2] < 0.01 * full  # amount 1 is B (up to the slider's 1/1000 steps)
    exact = dict(window.current_state(), directions={"ab1": 1.0})
    assert torch.allclose(model.latent_for(exact), zb, atol=1e-4)
    window.close()
    again = make_window()  # saved like the named ones
    qtbot.waitUntil(lambda: f"dir:{key}" in again.panel.sliders, timeout=5000)
    assert again.panel.sliders[f"dir:{key}"].label.text() == "to B"


def test_a_damaged_names_file_is_reported_and_kept(make_window, qtbot, tiny_model):
    from studio.core.checkpoint import read_card

    path = book_path_for(read_card(tiny_model))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    window = make_window()
    qtbot.waitUntil(lambda: path.name in window.last_error, timeout=5000)
    assert "damaged" in window.last_error or "not valid JSON" in window.last_error
    window.directions.ask_set_aside = lambda problem: False
    assert not window.directions.rename("pc0", "smile")
    assert path.read_text() == "{not json"  # not overwritten
    window.directions.ask_set_aside = lambda problem: True
    assert window.directions.rename("pc0", "smile")
    assert "smile" in path.read_text()
    assert list(path.parent.glob("*.damaged-*.json"))[0].read_text() == "{not json"


def test_a_direction_from_an_earlier_undo_step(window, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from studio.ui import direction_strip

    start = window.current_state()
    window.set_state(dict(start, seed=5))
    window.set_state(dict(start, seed=9))
    labels = [label for label, _state in window.directions.history_states()]
    assert labels[0].startswith("1 step back: seed 5")

    def accept(dialog):
        dialog.combo.setCurrentIndex(0)
        dialog.name.setText("five to nine")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(direction_strip.NewDirectionDialog, "exec", accept)
    window.directions.new_direction_dialog()
    slider = window.panel.sliders["dir:ab1"]
    assert slider.label.text() == "five to nine"
    model = window.current_model()
    back = dict(window.current_state(), directions={"ab1": -1.0})
    back["direction_vectors"] = {"ab1": window.directions.book.find("ab1").vector}
    assert float((model.latent_for(back) - model.latent_for(dict(start, seed=5))).norm()) < 1e-4


def test_hovering_a_direction_slider_shows_its_strip(window, qtbot):
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QEnterEvent
    from PySide6.QtWidgets import QApplication

    strips = window.directions
    slider = window.panel.sliders["dir:pc1"]
    QApplication.sendEvent(slider, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
    assert strips.popup.isVisible() and strips.popup.key == "pc1"
    qtbot.waitUntil(lambda: "pc1" in strips.fresh, timeout=10000)
    assert strips.popup.image.pixmap() is not None and not strips.popup.image.pixmap().isNull()
    QApplication.sendEvent(slider, QEvent(QEvent.Type.Leave))
    assert not strips.popup.isVisible() and "pc1" not in strips.watched
