"""Messages that say what is true (issue 17 item 8): Help ▸ Getting models with models installed, a
translator's direction in the words of the Translate tool, a finished job's image as an image and its
numbers as numbers."""

from __future__ import annotations

import numpy as np
from PIL import Image

from studio.ui.help_text import getting_models_text
from studio.ui.result_view import outputs_line, result_pixels
from tests.ui.test_translate_tool import make_translator


def test_getting_models_says_what_is_installed(window):
    text = window.getting_models_text()
    assert text.startswith("2 models are installed") and "No models installed" not in text
    assert "Train on my folder" in text
    assert getting_models_text(0).startswith("No models installed yet")
    assert getting_models_text(1).startswith("1 model is installed")


def test_the_direction_control_reads_like_the_translate_tool(make_window, qtbot, tmp_path):
    folder = tmp_path / "translators"
    folder.mkdir()
    make_translator(folder)
    w = make_window(folders=[folder])
    combo = w.panel.combos["direction"]
    assert [combo.itemText(i) for i in range(combo.count())] == ["photo → paint", "paint → photo"]
    assert combo.choice() == "a2b"  # the state still says a2b; the user reads the domains
    with qtbot.waitSignal(w.stateChanged, timeout=5000):
        combo.activated.emit(1)
    assert w.current_state()["labels"]["direction"] == "b2a"


class FinishedWithPictures:
    title = "pictures"

    def __init__(self, path):
        self.path = path

    def run(self, reporter):
        return {"image": str(self.path), "scores": {"fid": 12.345678, "kid": 0.0123456}, "steps": 40, "ok": True}


def test_a_finished_job_shows_its_picture_and_its_numbers(window, qtbot, tmp_path):
    picture = tmp_path / "result.png"
    Image.fromarray(np.full((40, 60, 3), (250, 10, 10), np.uint8)).save(picture)
    handle = window.start_job(FinishedWithPictures(picture))
    qtbot.waitUntil(lambda: handle.result is not None, timeout=5000)
    preview = window.job_panel.preview.pixmap()
    middle = preview.toImage().pixelColor(preview.width() // 2, preview.height() // 2)
    assert not preview.isNull() and middle.red() > 200 and middle.green() < 50
    status = window.job_panel.status.text()
    assert "scores.fid: 12.35" in status and "scores.kid: 0.01235" in status and "steps: 40" in status
    assert "{" not in status and "array" not in status


def test_outputs_line_and_pixels_never_print_arrays():
    image = np.zeros((300, 500, 3), np.uint8)
    line = outputs_line({"image": image, "loss": float("nan"), "name": "x", "nested": {"a": {"b": 1.0}}})
    assert line == "loss: nan, name: x, nested.a.b: 1"
    assert result_pixels({"image": image}) is image or np.array_equal(result_pixels({"image": image}), image)
    assert result_pixels({"card": "/nowhere/model.json", "image": "/nowhere/x.png"}) is None
