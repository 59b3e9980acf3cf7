"""The window's inversion (a dropped picture found in the latent space) and File ▸ Export animation…."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.animate import read_animation_record
from studio.core.animate_job import written_frames
from studio.core.errors import ImageLoadError
from studio.core.inversion import latent_space
from studio.ui import invert_animate


@pytest.fixture
def invertible(window, monkeypatch):
    """The tiny test model, declaring an inversion space (as CSGAN / CAN / GADN do)."""
    model = window.current_model()

    def space(self, state):
        size = self.card.image_size
        return latent_space(self, lambda z: torch.sigmoid(self.net(z) * 3.0).view(-1, 3, size, size), state)

    monkeypatch.setattr(type(model), "inversion_space", space, raising=False)
    monkeypatch.setattr(invert_animate, "INVERT_OPTIONS", {"steps": 4, "starts": 4})
    window.invert_animate._update()
    return model


def _plain_picture(model, path, seed=9):
    image = model.render([model.default_state("tiny", seed)])[0].detach()
    Image.fromarray((image.permute(1, 2, 0).numpy() * 255).astype(np.uint8)).save(path)
    return path


def test_dropped_picture_is_found_and_every_slider_applies(window, invertible, qtbot, monkeypatch, tmp_path):
    asked = []
    monkeypatch.setattr(invert_animate, "ASK_INVERSION", lambda parent, name, model, run: asked.append(name) or run())
    before = window.current_state()
    assert window.invert_animate.act_invert.isEnabled()
    picture = _plain_picture(invertible, tmp_path / "mine.png")
    assert window.drop_file(picture)
    assert asked == ["mine.png"]
    handle = window.invert_animate.last_inversion
    with qtbot.waitSignal(handle.finished, timeout=30000) as done:
        pass
    result = done.args[0] if done.args else handle.result
    assert result.ok, result.message
    state = window.current_state()
    assert len(state["z_edits"]) == invertible.latent_dim and state == {**result.outputs["state"], "model": "tiny"}
    assert "PSNR" in window.statusBar().currentMessage()
    window.panel.sliders["dir:pc0"].slider.setValue(700)  # a slider moves the found code
    moved = window.current_state()
    assert moved["directions"].get("pc0") and moved["z_edits"] == state["z_edits"]
    window.undo()
    window.undo()
    assert window.current_state()["z_edits"] == before["z_edits"]


def test_a_model_that_cannot_invert_keeps_the_old_answer(window, monkeypatch, tmp_path):
    picture = _plain_picture(window.current_model(), tmp_path / "mine.png")
    before = window.current_state()
    assert not window.invert_animate.act_invert.isEnabled()  # the tiny model declares no inversion space
    window.drop_file(picture)
    assert "holds no GAN Studio state" in window.last_error and window.current_state() == before


def test_declining_keeps_the_canvas(window, invertible, monkeypatch, tmp_path):
    monkeypatch.setattr(invert_animate, "ASK_INVERSION", lambda *a: None)  # the user says no
    before = window.current_state()
    assert window.drop_file(_plain_picture(invertible, tmp_path / "mine.png"))
    assert window.current_state() == before and window.invert_animate.last_inversion is None


def test_export_animation_along_a_direction_and_clear_refusals(window, qtbot, tmp_path):
    hub = window.invert_animate
    out = tmp_path / "along.gif"
    handle = hub.export_animation("direction", out, direction="pc0", amount=1.5, frames=6, size=32)
    with qtbot.waitSignal(handle.finished, timeout=30000):
        pass
    assert written_frames(out) == 6
    record = read_animation_record(out)
    assert record["source"] == "direction" and [k["directions"]["pc0"] for k in record["keyframes"]] == [-1.5, 1.5]
    assert hub.export_animation("grid", tmp_path / "grid.gif") is None
    assert "Turn on the grid" in window.last_error
    assert hub.export_animation("history", tmp_path / "h.gif") is None
    assert "fewer than two states" in window.last_error


def test_a_bomb_is_refused_before_asking(window, invertible, monkeypatch, tmp_path):
    monkeypatch.setattr(invert_animate, "ASK_INVERSION", lambda *a: pytest.fail("asked about a bomb"))
    big = tmp_path / "big.png"
    Image.new("RGB", (20, 20)).save(big)

    def refuse(path):
        raise ImageLoadError(path, "the image is 40000×40000 = 1600 megapixels, over the limit")

    monkeypatch.setattr(invert_animate, "load_image", refuse)
    assert window.drop_file(big)
    assert "megapixels" in window.last_error and window.invert_animate.last_inversion is None


def test_animation_dialog_and_file_menu(window):
    file_menu = window.menuBar().actions()[0].menu()
    texts = [a.text() for a in file_menu.actions()]
    assert "Export &animation…" in texts and "Find a picture in the &latent space…" in texts
    dialog = invert_animate.AnimationDialog(window.invert_animate)
    dialog.frames.setValue(12)
    dialog.easing.setCurrentText("linear")
    opts = dialog.options()
    assert dialog.source() == "direction" and opts["direction"] == "pc0"
    assert opts["frames"] == 12 and opts["easing"] == "linear" and opts["overwrite"] is False
    dialog.close()
