"""Controls that stay put (issue 17 item 7): tool tabs are readable vertical tabs with short names, the
fine-tune Cancel button does not move when the preview appears, and a model with a long name (a
fine-tuned one) does not widen the side panel."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QTabBar

from studio.ui import tools
from studio.ui.tool_tabs import dock_tab_bars, short_title
from tests.ui.test_finetune_tool import FakeWindow, parent  # noqa: F401 (the fixture)

TOOL_MODULES = (
    "studio.ui.translate_tool",
    "studio.ui.stylize_tool",
    "studio.ui.finetune_tool",
    "studio.ui.evaluate_tool",
)


@pytest.fixture
def with_tools():
    specs = [spec for m in TOOL_MODULES for spec in importlib.import_module(m).TOOLS]
    for spec in specs:
        tools.register_tool(spec)
    yield specs
    for spec in specs:
        tools.unregister_tool(spec.id)


def test_short_titles():
    assert short_title("Translate image…") == "Translate"
    assert short_title("GADN artists && style transfer…") == "GADN"
    assert short_title("Fine-tune on this painting…") == "Fine-tune"


def test_tool_tabs_are_vertical_and_never_cut(make_window, with_tools, qtbot):
    w = make_window()
    w._add_tool_actions()
    for spec in with_tools:
        assert w.open_tool(spec) is not None
    qtbot.wait(50)
    bar = next(b for b in dock_tab_bars(w) if "Translate" in [b.tabText(i) for i in range(b.count())])
    assert bar.shape() in (QTabBar.Shape.RoundedEast, QTabBar.Shape.RoundedWest)
    texts = [bar.tabText(i) for i in range(bar.count())]
    assert {"Controls", "Translate", "Stylize", "Fine-tune", "Evaluate"} <= set(texts)
    metrics = bar.fontMetrics()
    for i, text in enumerate(texts):
        assert bar.tabRect(i).height() >= metrics.horizontalAdvance(text), text  # the whole name fits
        assert bar.rect().contains(bar.tabRect(i)), text  # and every tab is on screen, no scrolling
    translate = w._tool_docks["translate"]
    assert translate.toolTip() == "Translate image" and translate.toggleViewAction().text() == "Translate image"


def test_the_finetune_cancel_button_does_not_move_when_the_preview_appears(qtbot, parent):  # noqa: F811
    from studio.ui.finetune_tool import FinetunePanel

    win = FakeWindow(parent)
    qtbot.addWidget(win)
    panel = FinetunePanel(win)
    qtbot.addWidget(panel)
    panel.resize(380, 860)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.wait(50)  # the first layout settles
    before = panel.cancel_button.mapTo(panel, QPoint(0, 0))
    panel.preview.set_pixels(np.zeros((128, 512, 3), np.uint8))  # the strip of parent / fine-tuned samples
    panel.painting_view.set_pixels(np.zeros((600, 400, 3), np.uint8))
    panel.status.setText("step 3/100  " + "style 0.1234  content 0.5678  " * 6)  # wraps over lines
    qtbot.wait(50)
    assert panel.cancel_button.mapTo(panel, QPoint(0, 0)) == before


def test_a_long_model_name_does_not_widen_the_side_panel(make_window, make_tiny, with_tools, qtbot, tmp_path):
    folder = tmp_path / "long"
    folder.mkdir()
    make_tiny(folder / "tiny", seed=0)
    long_name = "tiny-fine-tuned-on-katsushika-hokusai-the-great-wave-off-kanagawa-with-style-weight-3"
    make_tiny(folder / long_name, seed=1, parent="tiny")
    w = make_window(folders=[folder])
    w._add_tool_actions()
    w.open_tool(next(s for s in with_tools if s.id == "finetune"))
    qtbot.wait(50)
    width = w.controls_dock.width()
    with qtbot.waitSignal(w.modelChanged, timeout=10000):
        w.open_model(long_name)
    qtbot.wait(50)
    assert w.tool_widget("finetune").model_label.text().startswith(long_name)
    assert w.controls_dock.width() <= width + 4


def test_opening_every_tool_keeps_the_window_on_its_screen(make_window, with_tools, qtbot):
    """Tall tool panels scroll inside their docks instead of growing the window past the screen (the
    Stylize panel grew an 800-px window to 856 px)."""
    w = make_window()
    w._add_tool_actions()
    area = w.screen().availableGeometry()
    w.resize(min(1280, area.width()), area.height())
    qtbot.wait(50)
    for spec in with_tools:
        assert w.open_tool(spec) is not None
        qtbot.wait(50)
        assert w.frameGeometry().height() <= area.height(), spec.id
        assert w.frameGeometry().width() <= area.width(), spec.id
