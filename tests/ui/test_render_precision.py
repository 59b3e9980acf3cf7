"""Device ▸ Render precision: fp32 (the reference) and bf16 are a setting in the window, remembered, and
switching keeps the picture's state; a damaged setting falls back to auto."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _no_env_precision(monkeypatch, tiny_family):
    monkeypatch.delenv("STUDIO_RENDER_PRECISION", raising=False)
    loaded_class = type(tiny_family).load.__globals__["TinyLoaded"]  # the class conftest's family loads
    # the tiny model's layer goes through the fast path like a real family's generator
    monkeypatch.setattr(loaded_class, "render_networks", ("net",), raising=False)


def _switch(window, qtbot, name):
    with qtbot.waitSignal(window.modelChanged, timeout=10000):
        next(a for a in window.precision_group.actions() if a.data() == name).trigger()
    qtbot.waitUntil(
        lambda: (
            window._last_frame is not None
            and window._last_frame.extra.get("precision") == (window._model.render_precision)
        ),
        timeout=10000,
    )


def test_precision_menu_switches_the_render_path_and_is_remembered(make_window, qtbot, px):
    w = make_window()
    seed = w.current_state()["seed"]
    _switch(w, qtbot, "fp32")
    assert w._model.render_precision == "fp32" and "fp32" in w.info.text()
    assert w.current_state()["seed"] == seed  # the picture's state survives the reload
    reference = px(w).astype(int)
    _switch(w, qtbot, "bf16")
    assert w._model.render_precision == "bf16" and "bf16" in w.info.text()
    # bf16 renders differ from fp32 a little (the stated tolerance is in README's render path)
    assert np.abs(px(w).astype(int) - reference).mean() < 8
    _switch(w, qtbot, "fp32")
    w.close()
    w2 = make_window()
    assert w2.engine.precision == "fp32" and w2._model.render_precision == "fp32"
    assert [a.data() for a in w2.precision_group.actions() if a.isChecked()] == ["fp32"]


def test_a_damaged_precision_setting_falls_back_to_auto(make_window, settings_path):
    from PySide6.QtCore import QSettings

    s = QSettings(str(settings_path), QSettings.Format.IniFormat)
    s.setValue("render_precision", "fp128")
    s.sync()
    w = make_window()
    assert w.engine.precision == "auto" and not w.last_error
