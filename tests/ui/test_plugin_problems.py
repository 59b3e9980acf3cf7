"""A broken plugin is a lasting warning in the window's status bar (every problem in its tooltip), never fatal."""

from __future__ import annotations

import pytest

from studio.core.registry import reset_default_registry


@pytest.fixture
def plugin_folder(tmp_path, monkeypatch):
    folder = tmp_path / "my-plugins"
    folder.mkdir()
    (folder / "broken.py").write_text("raise RuntimeError('plugin bug here')\n")
    (folder / "quitter.py").write_text("import sys\nsys.exit(3)\n")
    monkeypatch.setenv("STUDIO_PLUGIN_PATH", str(folder))
    reset_default_registry()
    yield folder
    reset_default_registry()


def test_the_window_shows_plugin_problems_in_its_status_bar(plugin_folder, make_window):
    window = make_window()
    assert window.plugin_warning.isVisible()
    assert "2 plugin problems" in window.plugin_warning.text()
    assert "plugin bug here" in window.plugin_warning.toolTip()
    assert window.current_model_id() == "tiny"  # and the window works
