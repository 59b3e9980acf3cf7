"""Plugins are code: `studio plugins` lists where they come from and what failed; a broken plugin is one
stderr line for other commands and a lasting warning in the window's status bar, never fatal."""

from __future__ import annotations

import pytest

from studio.cli import main
from studio.core.registry import reset_default_registry


@pytest.fixture
def plugin_folder(tmp_path, monkeypatch):
    folder = tmp_path / "my-plugins"
    folder.mkdir()
    (folder / "broken.py").write_text("raise RuntimeError('plugin bug here')\n")
    (folder / "quitter.py").write_text("import sys\nsys.exit(3)\n")
    (folder / "empty.py").write_text("X = 1\n")
    monkeypatch.setenv("STUDIO_PLUGIN_PATH", str(folder))
    reset_default_registry()
    yield folder
    reset_default_registry()


def test_studio_plugins_lists_folders_files_and_errors(plugin_folder, capsys):
    assert main(["plugins"]) == 1
    out = capsys.readouterr().out
    assert "Plugins are Python code" in out and "with your permissions" in out
    assert str(plugin_folder) in out
    assert "cppn_patterns.py: families: cppn; tools: 1" in out  # the checkout's example plugin
    assert "broken.py: FAILED" in out and "plugin bug here" in out
    assert "quitter.py: FAILED" in out and "SystemExit(3)" in out  # a plugin's exit() does not end studio
    assert "empty.py: loaded (no FAMILIES or TOOLS)" in out
    assert "csgan" in out and "studio.families" in out  # installed entry points


def test_other_commands_say_it_in_one_stderr_line(plugin_folder, capsys):
    assert main(["models", "list"]) == 0
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if "plugin" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: a plugin failed to load")
    assert "studio plugins" in lines[0] and "(and 1 more)" in lines[0]
    assert "emoji-dcgan" in captured.out  # the rest works


def test_no_plugin_problem_no_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STUDIO_PLUGIN_PATH", str(tmp_path / "nothing-here"))
    reset_default_registry()
    try:
        assert main(["plugins"]) == 0
        assert "(no such folder)" in capsys.readouterr().out
        assert main(["models", "list"]) == 0
        assert "plugin" not in capsys.readouterr().err
    finally:
        reset_default_registry()
