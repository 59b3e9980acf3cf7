"""Pick a grid cell, crossbreed states, a history that survives model switches and restarts, the layout."""

from __future__ import annotations

import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDockWidget

from studio.core.gallery import Gallery


def _latent(window, state):
    return window.current_model().latent_for(state)


def _click_cell(qtbot, window, index):
    """Click the middle of grid cell ``index`` of the canvas frame."""
    frame = window.last_frame()
    h, w = frame.cells.shape[1:3]
    pad = (frame.image.width() - frame.cols * w) // (frame.cols + 1)
    r, c = divmod(index, frame.cols)
    x, y = pad + c * (w + pad) + w / 2, pad + r * (h + pad) + h / 2
    rect, z = window.canvas.image_rect(), window.canvas.effective_zoom()
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(rect.x() + x * z), int(rect.y() + y * z)))


def test_clicking_a_grid_cell_makes_it_the_state_and_undo_returns(window, settle, qtbot):
    window.rows_box.setValue(2)
    window.cols_box.setValue(3)
    settle(window, lambda: window.act_grid.trigger())
    before = window.current_state()
    frame = window.last_frame()
    assert frame.rows * frame.cols == 6
    wanted = _latent(window, frame.states[4])
    settle(window, lambda: _click_cell(qtbot, window, 4))
    picked = window.current_state()
    assert "variation" not in picked
    assert torch.allclose(_latent(window, picked), wanted, atol=1e-4)
    # the new grid is centred on the picked cell
    assert torch.allclose(_latent(window, window.last_frame().states[0]), wanted, atol=1e-4)
    assert window.gallery.gallery.entries[-1].origin == "picked"
    settle(window, window.undo)
    assert window.current_state() == before
    _click_cell(qtbot, window, 0)  # the centre cell is already the state: nothing happens
    assert window.current_state() == before


def test_crossbreeding_two_states_renders_a_state_between_them(window, settle, qtbot):
    hub = window.gallery
    parents = []
    for seed in (11, 12):
        state = window.current_state()
        state["seed"] = seed
        settle(window, lambda s=state: window.set_state(s))
        parents.append(hub.keep_current())
    dialog = hub.crossbreed_selected([p.id for p in parents])
    assert dialog is not None
    dialog.sliders[0].setValue(25)
    dialog.sliders[1].setValue(75)
    qtbot.waitUntil(lambda: dialog.frame is not None and dialog.frame.stamp == dialog._stamp, timeout=10000)
    assert len(dialog.frame.cells) == dialog.CHILDREN
    frames = window.canvas.frames_shown
    dialog.accept_mix()
    qtbot.waitUntil(lambda: window.canvas.frames_shown > frames, timeout=10000)
    za, zb = (_latent(window, p.state) for p in parents)
    z = _latent(window, window.current_state())
    coef = torch.linalg.lstsq(torch.stack([za, zb]).T, z.unsqueeze(1)).solution.flatten()
    assert torch.allclose(torch.stack([za, zb]).T @ coef, z, atol=1e-4)  # in the parents' plane ...
    assert (coef > 0).all() and coef[1] > coef[0]  # ... between them, nearer the heavier parent
    child = window.gallery.gallery.entries[-1]
    assert child.origin == "bred" and [p["id"] for p in child.parents] == [p.id for p in parents]
    assert [p.id for p in window.gallery.gallery.lineage(child.id)] == [p.id for p in parents]
    assert [p["weight"] for p in window.current_state()["parents"]] == [0.25, 0.75]
    settle(window, window.undo)  # breeding is one undo step
    assert window.current_state()["seed"] == 12 and "parents" not in window.current_state()


def test_the_seed_and_undo_history_survive_a_model_switch(window, settle, qtbot):
    state = window.current_state()
    state["seed"] = 42
    settle(window, lambda: window.set_state(state))
    with qtbot.waitSignal(window.modelChanged, timeout=10000):
        window.model_list._activated(window.model_list.item("tiny-child"))
    assert window.current_model_id() == "tiny-child"
    assert window.current_state()["seed"] == 42  # the seed came along
    left = window.gallery.gallery.entries[-1]
    assert left.model == "tiny" and left.origin == "switched" and left.state["seed"] == 42
    assert window.gallery.gallery.thumb_path(left.id).is_file()  # from the frame that was on the canvas
    assert window.gallery.panel.list.item(0).data(Qt.ItemDataRole.UserRole) == left.id  # newest first
    assert window.history.can_undo()
    with qtbot.waitSignal(window.modelChanged, timeout=10000):
        window.undo()  # back across the switch: the previous model with its state
    assert window.current_model_id() == "tiny" and window.current_state()["seed"] == 42
    settle(window, window.undo)
    assert window.current_state()["seed"] != 42
    with qtbot.waitSignal(window.modelChanged, timeout=10000):
        window.redo()
        window.redo()
    assert window.current_model_id() == "tiny-child"


def test_the_canvas_gallery_and_undo_survive_a_restart(make_window, settle, qtbot):
    first = make_window()
    state = first.current_state()
    state["seed"] = 77
    settle(first, lambda: first.set_state(state))
    kept = first.gallery.keep_current()
    state["directions"] = {"pc0": 1.5}
    settle(first, lambda: first.set_state(state))
    first.close()
    second = make_window()  # a new window on the same STUDIO_HOME and settings
    assert second.current_model_id() == "tiny"
    assert second.current_state()["seed"] == 77 and second.current_state()["directions"] == {"pc0": 1.5}
    assert kept.id in [e.id for e in second.gallery.gallery.entries]
    assert second.gallery.panel.item(kept.id) is not None
    qtbot.waitUntil(lambda: second.act_undo.isEnabled(), timeout=5000)
    settle(second, second.undo)
    assert second.current_state()["directions"].get("pc0", 0.0) == 0.0 and second.current_state()["seed"] == 77


def test_a_damaged_gallery_is_reported_and_kept(make_window, tmp_path):
    import os

    folder = tmp_path / "studio-home" / "gallery"
    folder.mkdir(parents=True)
    (folder / "gallery.json").write_text("{broken")
    assert os.environ["STUDIO_HOME"] == str(tmp_path / "studio-home")
    window = make_window()
    assert "gallery" in window.last_error and "could not be read" in window.last_error
    window.gallery.keep_current()
    assert (folder / "gallery.damaged-1.json").read_text() == "{broken"
    assert len(Gallery(folder).entries) == 1


def test_reset_layout_restores_the_default(window, qtbot):
    default_area = window.dockWidgetArea(window.jobs_dock)
    window.controls_dock.hide()
    window.jobs_dock.setFloating(True)
    window.removeDockWidget(window.models_dock)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.models_dock)
    window.layout_keeper.action.trigger()
    qtbot.wait(20)
    assert window.controls_dock.isVisible() and not window.jobs_dock.isFloating()
    assert window.dockWidgetArea(window.jobs_dock) == default_area
    assert window.dockWidgetArea(window.models_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.saveState() == window.layout_keeper.default_state or all(
        not d.isFloating() for d in window.findChildren(QDockWidget)
    )
    assert "Reset layout" in [a.text().replace("&", "") for a in window.view_menu.actions()]


def test_restored_geometry_is_clamped_to_the_screen(make_window, qtbot):
    first = make_window()
    area = first.screen().availableGeometry()
    first.resize(area.width() * 3, area.height() * 3)  # grown past the screen (e.g. on a larger one)
    qtbot.waitUntil(lambda: first.width() <= area.width(), timeout=3000)  # never larger than the screen
    first.setGeometry(area.x() + 5000, area.y() + 4000, area.width() + 900, area.height() + 700)
    first.save_settings()
    first.close()
    second = make_window()
    frame = second.frameGeometry()
    assert frame.width() <= area.width() and frame.height() <= area.height()
    assert area.contains(frame.topLeft()) and area.contains(frame.bottomRight())


def test_undo_across_a_switch_to_a_model_that_is_gone_stays_put(window, qtbot, tiny_models_dir):
    with qtbot.waitSignal(window.modelChanged, timeout=10000):
        window.model_list._activated(window.model_list.item("tiny-child"))
    for suffix in (".json", ".safetensors"):
        (tiny_models_dir / f"tiny{suffix}").unlink()
    window.refresh_models()
    window.undo()
    assert "tiny" in window.last_error
    assert window.current_model_id() == "tiny-child" and window.current_state()["model"] == "tiny-child"


def test_an_entry_of_a_model_that_is_not_installed_says_so(window):
    entry = window.gallery.keep({"model": "gone-model", "seed": 3}, "tool")
    assert not window.gallery.open_entry(entry.id)
    assert not window.gallery.gallery.thumb_path(entry.id).exists()  # not drawn by the model on the canvas
    assert "gone-model" in window.last_error and "not installed" in window.last_error
    assert window.current_model_id() == "tiny"


def test_choosing_a_seed_after_breeding_goes_to_that_seed(window, settle, qtbot):
    """A bred (or inverted) state holds its whole code; typing a seed must still go to that seed."""
    state = window.current_state()
    dim = window.current_model().latent_for(state).numel()
    state["z_edits"] = {str(i): 0.5 for i in range(dim)}  # a full code, as crossbreed and inversion store it
    settle(window, lambda: window.set_state(state))
    full = _latent(window, window.current_state())
    settle(window, lambda: window.panel.seed_box.setValue(int(state["seed"]) + 7))
    now = window.current_state()
    assert now["seed"] == int(state["seed"]) + 7 and not now["z_edits"]
    plain = dict(now, z_edits={})
    assert torch.allclose(_latent(window, now), _latent(window, plain)) and not torch.allclose(
        _latent(window, now), full
    )
