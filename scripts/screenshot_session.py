"""What every ``scripts/screenshot_*.py`` does first and last: a throwaway STUDIO_HOME (your own settings,
gallery and models stay untouched), the Qt application, the main window on a model, an event-pumping
wait, and a grab of the window as the screen shows it.

Call :func:`new_home` before anything imports ``studio`` (the paths are read at import time), then
:func:`open_window`. Run the scripts under a virtual screen, e.g. ``xvfb-run -a -s "-screen 0 1400x900x24"``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def new_home() -> Path:
    """A fresh, empty STUDIO_HOME for this run."""
    home = Path(tempfile.mkdtemp(prefix="studio-shots-"))
    os.environ["STUDIO_HOME"] = str(home)
    return home


@dataclass
class Shot:
    app: Any
    window: Any

    def wait(self, cond: Callable[[], bool] = lambda: False, seconds: float = 10.0) -> None:
        """Run the event loop (as the app's own loop would) until ``cond()`` or ``seconds`` pass."""
        from PySide6.QtCore import QEvent

        end = time.monotonic() + seconds
        while time.monotonic() < end and not cond():
            self.app.processEvents()
            self.app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            time.sleep(0.01)

    def show_state(self, state: dict) -> None:
        """Put ``state`` on the canvas and wait until it is drawn."""
        before = self.window.canvas.frames_shown
        self.window.set_state(state)
        self.wait(lambda: self.window.canvas.frames_shown > before)

    def save_screen(self, path: Path) -> Path:
        """The window as the screen shows it (with any dialog or popup over it), to ``path``."""
        from PySide6.QtGui import QGuiApplication

        path.parent.mkdir(parents=True, exist_ok=True)
        shot = QGuiApplication.primaryScreen().grabWindow(0)
        geo = self.window.frameGeometry()
        shot.copy(0, 0, geo.right() + 1, geo.bottom() + 1).save(str(path))
        return path

    def close(self) -> None:
        self.window.close()
        self.wait(seconds=1.0)  # let the window stop its render thread before the interpreter ends


def open_window(model: str = "emoji-dcgan", size: tuple[int, int] = (1360, 860), image: bool = True) -> Shot:
    """The main window on ``model`` at ``size``, at the screen's corner, once the model is loaded (and,
    with ``image``, its first frame drawn)."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from studio.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    settings = QSettings(str(Path(os.environ["STUDIO_HOME"]) / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, model=model, device="cpu")
    window.move(0, 0)
    window.resize(*size)
    window.show()
    shot = Shot(app, window)
    shot.wait(lambda: window.current_model() is not None and (not image or not window.canvas.image().isNull()), 60)
    return shot
