"""The GADN tools dock, offscreen: artist picker (search, thumbnails), blend, grids, style transfer by drop."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PIL import Image

from studio.core.jobs import run_job

pytest.importorskip("pytestqt")


@pytest.fixture(scope="module")
def gadn_models(tmp_path_factory):
    from studio.models.gadn.train import GADNTrainJob

    root = tmp_path_factory.mktemp("gadn_ui")
    data = root / "data"
    for artist, colour in [("anna", (200, 30, 30)), ("bert", (30, 200, 30)), ("cleo", (30, 30, 200))]:
        (data / artist).mkdir(parents=True)
        for j in range(3):
            img = np.full((16, 16, 3), 255, np.uint8)
            img[4 + j : 12, 4 : 12 - j] = colour
            Image.fromarray(img).save(data / artist / f"c{j}.png")
    models = root / "models"
    job = GADNTrainJob(
        data=data,
        out=models / "tiny-gadn",
        run_dir=root / "run",
        device="cpu",
        image_size=16,
        content_dim=8,
        style_dim=4,
        base_channels=4,
        fc_features=16,
        steps1=2,
        steps_cls=1,
        steps2=2,
        batch=3,
        batch_cls=3,
        model_name="tiny-gadn",
    )
    assert run_job(job).ok
    return models, data


@pytest.fixture
def window_and_panel(qtbot, gadn_models, tmp_path):
    from PySide6.QtCore import QSettings

    from studio.ui.gadn_tools import make_panel
    from studio.ui.main_window import MainWindow

    models, _ = gadn_models
    w = MainWindow(
        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
        store_folders=[models],
        load_tools=False,
        model="tiny-gadn",
        device="cpu",
    )
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.current_model() is not None and not w.canvas.image().isNull(), timeout=15000)
    panel = make_panel(w)
    qtbot.addWidget(panel)
    panel.show()
    yield w, panel
    w.close()


def test_tool_is_registered():
    from studio.ui import gadn_tools, tools

    assert any(t.id == "gadn" and t.factory is gadn_tools.make_panel for t in tools.registered_tools())


def test_artist_picker_search_thumbnails_and_pick(window_and_panel, qtbot):
    w, panel = window_and_panel
    assert [panel.list.item(i).text() for i in range(panel.list.count())] == ["anna", "bert", "cleo"]
    qtbot.waitUntil(lambda: all(not panel.list.item(i).icon().isNull() for i in range(3)), timeout=10000)
    panel.search.setText("ER")
    assert panel.visible_artists() == ["bert"]
    panel.search.clear()
    assert len(panel.visible_artists()) == 3
    panel._artist_picked(panel.list.item(2))
    assert w.current_state()["labels"]["artist"] == "cleo"


def test_blend_slider_and_new_content(window_and_panel):
    w, panel = window_and_panel
    panel.blend_with.setCurrentText("bert")
    panel.blend.setValue(40)
    panel.blend.sliderReleased.emit()
    s = w.current_state()
    assert s["labels"]["artist2"] == "bert" and abs(s["scalars"]["blend"] - 0.4) < 1e-9
    seed = s["seed"]
    panel.sample_new_content()
    assert w.current_state()["seed"] != seed


def test_grids(window_and_panel, qtbot):
    w, panel = window_and_panel
    panel.show_content_grid()
    qtbot.waitUntil(lambda: panel.last_grid_cells == 3, timeout=10000)
    assert not panel.grid_view.pixmap().isNull()
    panel.grid_count.setValue(6)
    panel.show_artist_grid()
    qtbot.waitUntil(lambda: panel.last_grid_cells == 6, timeout=10000)
    states = panel.artist_grid_states()
    assert len({s["seed"] for s in states}) == 6
    assert len({s["labels"]["artist"] for s in panel.content_grid_states()}) == 3


def test_style_transfer_by_drop(window_and_panel, qtbot, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    w, panel = window_and_panel
    img = tmp_path / "mine.jpg"
    Image.new("RGB", (40, 30), (250, 200, 10)).save(img)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(img))])
    event = QDropEvent(
        QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    )
    panel.drop.dropEvent(event)
    qtbot.waitUntil(lambda: w.current_state().get("content") is not None, timeout=15000)
    state = w.current_state()
    assert len(state["content"]) == 8 and state["source_image"] == "mine.jpg"
    assert not panel.drop.pixmap().isNull()
    qtbot.waitUntil(lambda: not panel.output_view.pixmap().isNull(), timeout=10000)
    # a broken file gives an error message, not a crash
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    panel.transfer_file(str(bad))
    qtbot.waitUntil(lambda: panel.transfer_handle.result is not None, timeout=10000)
    qtbot.waitUntil(lambda: "bad.png" in w.last_error, timeout=5000)


def test_clicking_a_cell_of_a_grid_makes_it_the_canvas_and_undo_returns(window_and_panel, qtbot):
    from PySide6.QtCore import QPoint, Qt

    w, panel = window_and_panel
    before = w.current_state()
    panel.grid_count.setValue(4)
    panel.show_artist_grid()
    qtbot.waitUntil(lambda: panel.grid_frame is not None and len(panel.grid_frame.cells) == 4, timeout=10000)
    frame, label = panel.grid_frame, panel.grid_view
    pm = label.pixmap()
    scale = pm.width() / frame.image.width()
    size = frame.cells.shape[1]
    pad = (frame.image.width() - frame.cols * size) // (frame.cols + 1)
    rect = label.contentsRect()
    left, top = rect.x() + (rect.width() - pm.width()) / 2, rect.y() + (rect.height() - pm.height()) / 2
    x, y = pad + (size + pad) + size / 2, pad + (size + pad) + size / 2  # the middle of cell 3 (row 1, col 1)
    qtbot.mouseClick(label, Qt.MouseButton.LeftButton, pos=QPoint(int(left + x * scale), int(top + y * scale)))
    assert w.current_state()["seed"] == frame.states[3]["seed"] != before["seed"]
    w.undo()
    assert w.current_state()["seed"] == before["seed"]


def test_crossbreeding_gadn_states_mixes_content_and_blends_artists(window_and_panel):
    import torch

    from studio.core.breed import crossbreed

    w, _ = window_and_panel
    model = w.current_model()
    a = dict(w.current_state(), seed=1, labels={"artist": "anna"})
    b = dict(w.current_state(), seed=2, labels={"artist": "cleo"})
    child = crossbreed(model, [a, b], [0.3, 0.7])
    assert torch.allclose(model.content_for(child), 0.3 * model.content_for(a) + 0.7 * model.content_for(b), atol=1e-4)
    assert child["labels"]["artist"] == "cleo"
    assert child["labels"]["artist2"] == "anna" and abs(child["scalars"]["blend"] - 0.3) < 1e-6  # two artists blend
