"""Tools feed each other (issue 17 item 9): a translated or stylised result is kept in the gallery or sent
to another tool; a plain picture dropped on the canvas is offered the tools; a too-large picture is
offered a scale-down."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.core.export import read_state
from studio.core.states import StateError, read_state_file
from studio.ui import result_actions, tools
from tests.ui.test_translate_tool import _image, make_translator

TOOL_MODULES = ("studio.ui.translate_tool", "studio.ui.stylize_tool", "studio.ui.gadn_tools")


@pytest.fixture
def tool_window(make_window, tmp_path, tiny_models_dir):
    import importlib

    specs = [importlib.import_module(m).TOOL for m in TOOL_MODULES]
    for spec in specs:
        tools.register_tool(spec)
    folder = tmp_path / "translators"
    folder.mkdir()
    make_translator(folder)
    w = make_window(folders=[tiny_models_dir, folder])
    w._add_tool_actions()
    yield w
    for spec in specs:
        tools.unregister_tool(spec.id)


def _panel(window, tool_id):
    spec = next(s for s in tools.registered_tools(discover=False) if s.id == tool_id)
    return window.open_tool(spec)


def _translated(window, qtbot, tmp_path):
    panel = _panel(window, "translate")
    assert panel.open_image(_image(tmp_path / "in.png"))
    qtbot.waitUntil(lambda: panel.result is not None, timeout=15000)
    return panel


def test_a_translation_goes_to_stylize_as_its_photo(tool_window, qtbot, tmp_path):
    translate = _translated(tool_window, qtbot, tmp_path)
    assert translate.result_actions.send_button.isEnabled()
    assert "stylize-photo" in translate.result_actions.actions_by_key
    assert translate.result_actions.send("stylize-photo")
    stylize = _panel(tool_window, "stylize")
    handed = stylize.paths["content"]
    assert handed is not None and handed.parent == result_actions.results_dir()
    assert np.array_equal(np.asarray(Image.open(handed).convert("RGB")), translate.result["image"])
    with pytest.raises(StateError, match="holds no GAN Studio state"):
        read_state_file(handed)  # a plain picture: the canvas would offer to find it, not restore a state
    assert stylize.content_well.pixels.shape == (22, 37, 3)


def test_a_translation_is_kept_in_the_gallery_with_its_thumbnail(tool_window, qtbot, tmp_path):
    translate = _translated(tool_window, qtbot, tmp_path)
    before = len(tool_window.gallery.gallery.entries)
    assert translate.result_actions.keep()
    entry = tool_window.gallery.gallery.entries[-1]
    assert len(tool_window.gallery.gallery.entries) == before + 1
    assert entry.origin == "tool" and entry.state["translate"]["source"] == "in.png"
    assert tool_window.gallery.gallery.thumb_path(entry.id).exists()


def test_a_stylised_result_goes_to_translate(tool_window, qtbot, tmp_path):
    from studio.losses.testing import TinyFeatures

    stylize = _panel(tool_window, "stylize")
    stylize.loss_network = TinyFeatures()
    stylize.steps.setValue(2)
    assert stylize.set_image("content", _image(tmp_path / "photo.png", (30, 20)))
    assert stylize.set_image("style", _image(tmp_path / "style.png", (16, 16)))
    stylize.start()
    qtbot.waitUntil(lambda: stylize.output is not None, timeout=20000)
    assert read_state(stylize.output)["settings"]["size"] == 0  # the photo's own size by default
    assert stylize.result_actions.send("translate")
    translate = _panel(tool_window, "translate")
    assert translate.source_path == stylize.output and translate.source_image.size == (30, 20)
    assert "stylize-photo" not in stylize.result_actions.actions_by_key  # not to itself
    qtbot.waitUntil(lambda: translate.result is not None, timeout=15000)  # it translated what it was sent


def test_gadn_transfer_is_offered_only_with_a_gadn_model(tool_window):
    why = result_actions.unavailable(tool_window, result_actions.target("transfer"))
    assert "serves" in why
    assert result_actions.unavailable(tool_window, result_actions.target("translate")) == ""


def test_a_plain_picture_dropped_on_the_canvas_is_offered_the_tools(tool_window, qtbot, tmp_path, monkeypatch):
    from studio.ui import invert_animate

    monkeypatch.setattr(invert_animate.InvertAnimate, "offer", lambda self, path: False)  # not the inversion
    picture = _image(tmp_path / "holiday.png")
    tool_window.drop_file(picture)
    assert "holds no GAN Studio state" in tool_window.last_error and "Use it in a tool" in tool_window.last_error
    box = result_actions.PLAIN_BOXES[-1]
    texts = {b.text(): b for b in box.buttons()}
    assert {"Translate it", "Stylize it", "Use it as a style"} <= set(texts) and "Redraw it with GADN" not in texts
    texts["Translate it"].click()
    translate = _panel(tool_window, "translate")
    assert translate.source_path == picture
    qtbot.waitUntil(lambda: translate.result is not None, timeout=15000)  # its translation ran
    box.close()


def test_a_too_large_picture_is_offered_a_scale_down(tool_window, monkeypatch, tmp_path):
    from studio.core import images
    from studio.ui import image_open

    real = images.load_image
    monkeypatch.setattr(image_open, "load_image", lambda p, max_pixels=300, **k: real(p, min(max_pixels, 300), **k))
    asked = []
    monkeypatch.setattr(image_open, "ask_scale_down", lambda parent, exc: asked.append(exc) or True)
    translate = _panel(tool_window, "translate")
    translate.auto_run.setChecked(False)
    assert translate.open_image(_image(tmp_path / "big.png", (40, 30)))
    assert asked and asked[0].size == (40, 30) and "scaled down to 20×15" in image_open.scale_down_question(asked[0])
    assert translate.source_image.size == (20, 15) and "scaled down" in tool_window.statusBar().currentMessage()
    monkeypatch.setattr(image_open, "ask_scale_down", lambda parent, exc: False)
    assert not translate.open_image(_image(tmp_path / "big2.png", (40, 30)))
