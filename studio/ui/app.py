"""Start the GUI: QApplication + the qasync event loop (asyncio over Qt's loop) + the main window.

Why qasync: UI code can ``await`` engine results (e.g. the export renders and then saves) instead of
chaining callbacks, while heavy work still runs in the engine's threads.

``STUDIO_SCREENSHOT=path.png`` (with optional ``STUDIO_SCREENSHOT_DELAY`` seconds, default 4) grabs
the main window to a PNG and quits: used for the README screenshot and to look at the window headless.
"""

from __future__ import annotations

import asyncio
import os
import sys
import traceback
from typing import cast

os.environ.setdefault("QT_API", "pyside6")


def _install_excepthook(window) -> None:
    """A bug in a slot shows an error and is logged; it never takes the window down."""

    def hook(exc_type, exc, tb):
        traceback.print_exception(exc_type, exc, tb)
        try:
            window.show_error(f"unexpected error: {exc!r} (details in the terminal)")
        except Exception:
            pass

    sys.excepthook = hook


def _schedule_screenshot(app, window, path: str) -> None:
    from PySide6.QtCore import QTimer

    delay_ms = int(float(os.environ.get("STUDIO_SCREENSHOT_DELAY", "4")) * 1000)

    def grab() -> None:
        pixmap = window.grab()
        ok = pixmap.save(path, "PNG")
        print(f"screenshot {'saved to' if ok else 'could not be saved to'} {path}", file=sys.stderr)
        window.close()
        app.quit()

    QTimer.singleShot(delay_ms, grab)


def run_app(model: str | None = None, device: str | None = None) -> int:
    """Open the studio window and run until it is closed. Returns the exit code."""
    import qasync
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from studio.core.paths import resources_dir

    from .main_window import MainWindow

    # instance() is typed as QCoreApplication; the studio only ever creates a QApplication
    app = cast(QApplication, QApplication.instance() or QApplication(sys.argv))
    app.setApplicationName("GAN Studio")
    app.setOrganizationName("GAN Studio")
    icon = resources_dir() / "icons" / "studio.png"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    style = resources_dir() / "style.qss"
    if style.exists():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = MainWindow(model=model, device=device)
    _install_excepthook(window)

    def on_async_error(_loop, context) -> None:  # an exception in an awaited UI task
        exc = context.get("exception")
        print(f"async error: {context.get('message')} {exc!r}", file=sys.stderr)
        window.show_error(f"unexpected error: {exc!r}" if exc else str(context.get("message")))

    loop.set_exception_handler(on_async_error)
    window.show()
    shot = os.environ.get("STUDIO_SCREENSHOT")
    if shot:
        _schedule_screenshot(app, window, shot)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    app.lastWindowClosed.connect(closed.set)
    window.windowClosed.connect(closed.set)  # also after a job the window kept running in the background
    with loop:
        loop.run_until_complete(closed.wait())
    _wait_for_jobs()
    window.engine.shutdown()  # already done when the window closed; not when the app was told to quit
    return 0


def _wait_for_jobs() -> None:
    """Never end the process under a running job thread (Qt aborts it, and the job's save is lost).
    The window waits for its jobs before it closes; this covers an app told to quit some other way."""
    from studio.engine.jobs import running_job_threads, wait_for_jobs

    if running_job_threads():
        print("GAN Studio: stopping the running job (it saves its work)…", file=sys.stderr)
        wait_for_jobs(cancel=True)
