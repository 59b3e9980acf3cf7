"""UI fixtures: a main window on the tiny test models, with settings in a temp INI file."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import QSettings

from studio.engine import qimage_to_array


@pytest.fixture
def settings_path(tmp_path):
    return tmp_path / "settings.ini"


def make_settings(path) -> QSettings:
    return QSettings(str(path), QSettings.Format.IniFormat)


def _stop_jobs(window) -> None:
    """Cancel the window's jobs, wait for their threads and deliver their results (queued signals)."""
    import time

    from PySide6.QtWidgets import QApplication

    window.jobs.cancel_all(wait_ms=30000)
    deadline = time.monotonic() + 30
    while window.jobs.running and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)


@pytest.fixture
def make_window(qtbot, tiny_models_dir, settings_path):
    """Factory: a shown MainWindow on the tiny models (closed at the end of the test)."""
    from studio.ui.main_window import MainWindow

    made = []

    def make(folders=None, wait=True, **kw):
        w = MainWindow(
            settings=make_settings(settings_path),
            store_folders=[tiny_models_dir] if folders is None else folders,
            load_tools=False,
            **kw,
        )
        # a job a test left running would put the modal "a job is running" question up when pytest-qt
        # closes the window and hang the suite: cancel it and let it save first
        qtbot.addWidget(w, before_close_func=_stop_jobs)
        w.show()
        made.append(w)
        if wait:
            qtbot.waitUntil(lambda: not w.canvas.image().isNull(), timeout=10000)
        return w

    yield make
    for w in made:
        w.close()


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def px():
    """px(window) -> the canvas pixels as HxWx3 uint8."""
    return lambda window: qimage_to_array(window.canvas.image())


@pytest.fixture
def settle(qtbot):
    """settle(window, action) runs action() and waits until the canvas shows a newer frame."""

    def run(window, action):
        before = window.canvas.frames_shown
        action()
        qtbot.waitUntil(lambda: window.canvas.frames_shown > before, timeout=10000)
        qtbot.wait(60)  # let any newer frame of the same burst land

    return run


@pytest.fixture(scope="session")
def aloop(qapp):
    """The qasync loop the app runs on, for awaiting window coroutines in tests."""
    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
