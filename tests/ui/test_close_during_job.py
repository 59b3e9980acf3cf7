"""Closing the window while a training job runs asks what to do and never aborts the process:
cancel and save (the job saves and exports, then the window closes, threads joined), keep running in
the background (the window hides and closes itself when the job has ended), or go back. The last
case is also run as a real app process, which must exit cleanly (rc 0, no QThread abort)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QMessageBox

from studio.core.checkpoint import load_checkpoint
from studio.core.registry import default_registry
from studio.engine.jobs import running_job_threads

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stripes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stripes")
    rng = np.random.default_rng(1)
    for i in range(12):
        a = np.zeros((24, 24, 3), np.uint8)
        a[:, :: int(rng.integers(2, 6))] = rng.integers(0, 255, 3)
        Image.fromarray(a).save(folder / f"{i}.png")
    return folder


def cppn_job(stripes, tmp_path, steps=1_000_000):
    return (
        default_registry()
        .get("cppn")
        .make_job(
            "train",
            data=str(stripes),
            image_size=16,
            hidden=8,
            steps=steps,
            batch=4,
            out=str(tmp_path / "models" / "cppn"),
            run_dir=str(tmp_path / "run"),
            preview_every=10,
            device="cpu",
        )
    )


@pytest.fixture
def answer(monkeypatch):
    """answer(prefix): the close question is answered with the button whose text starts with prefix."""
    asked: list[tuple[str, list[str]]] = []

    def choose(prefix):
        def exec_(box):
            asked.append((box.text(), [b.text() for b in box.buttons()]))
            next(b for b in box.buttons() if b.text().startswith(prefix)).click()
            return 0

        monkeypatch.setattr(QMessageBox, "exec", exec_)
        return asked

    return choose


@pytest.fixture
def window(window, qtbot):
    """The window, with every job it started stopped before the fixture closes it (even after a failure)."""
    yield window
    window.jobs.cancel_all(None)
    qtbot.waitUntil(lambda: not window.jobs.running, timeout=30000)


def _started(window, qtbot, job):
    handle = window.start_job(job)
    qtbot.waitUntil(lambda: handle.last is not None and handle.last.step > 5, timeout=30000)
    return handle


def test_cancel_and_save_waits_for_the_save_then_closes_with_threads_joined(window, qtbot, answer, stripes, tmp_path):
    asked = answer("Cancel job")
    handle = _started(window, qtbot, cppn_job(stripes, tmp_path))
    closed = []
    window.windowClosed.connect(lambda: closed.append(True))
    assert window.close() is False  # not yet: the job saves first
    assert len(asked) == 1
    text, buttons = asked[0]
    assert handle.title in text
    assert sorted(buttons) == ["Cancel job and save", "Go back", "Keep running in background"]
    assert handle.cancel_requested and window.isVisible()
    assert window.job_panel.status.text().startswith("stopping: saving")  # acknowledged at once
    dialog = window._save_dialog
    assert dialog is not None and dialog.isVisible() and dialog.labelText().startswith("stopping: saving")
    qtbot.waitUntil(lambda: bool(closed), timeout=60000)
    assert not window.isVisible()
    assert handle.result is not None and handle.result.status == "cancelled"
    assert not handle.thread_running and running_job_threads() == []
    card = handle.result.outputs["card"]
    assert load_checkpoint(card)[1].training.steps == handle.result.outputs["step"]


def test_go_back_keeps_the_window_and_the_job(window, qtbot, answer, stripes, tmp_path):
    asked = answer("Go back")
    handle = _started(window, qtbot, cppn_job(stripes, tmp_path))
    assert window.close() is False
    assert len(asked) == 1 and window.isVisible() and window.close_mode is None
    step = handle.last.step
    qtbot.waitUntil(lambda: handle.last.step > step + 5, timeout=30000)  # still training
    assert not handle.cancel_requested
    window.job_panel.cancel()
    qtbot.waitUntil(lambda: handle.result is not None, timeout=60000)
    assert handle.result.status == "cancelled"


def test_keep_running_hides_the_window_and_closes_it_when_the_job_ends(window, qtbot, answer, stripes, tmp_path, capfd):
    asked = answer("Keep running")
    handle = _started(window, qtbot, cppn_job(stripes, tmp_path, steps=150))
    closed = []
    window.windowClosed.connect(lambda: closed.append(True))
    assert window.close() is False
    assert len(asked) == 1 and not window.isVisible() and not handle.cancel_requested
    assert window.close() is False and len(asked) == 1  # asked once: a second close keeps waiting
    qtbot.waitUntil(lambda: bool(closed), timeout=60000)
    assert handle.result is not None and handle.result.status == "finished", handle.result.message
    assert load_checkpoint(handle.result.outputs["card"])[1].training.steps == 150
    err = capfd.readouterr().err
    assert "keeps running and GAN Studio quits when it ends" in err and "finished" in err
    assert running_job_threads() == []


APP_SCRIPT = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from studio.core.registry import default_registry
    from studio.ui import app as app_module
    from studio.ui.main_window import MainWindow

    data, out, run_dir = sys.argv[1:4]
    MainWindow.ask_close_choice = lambda self, handles: "background"
    qapp = QApplication(sys.argv[:1])

    def start():
        window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
        job = default_registry().get("cppn").make_job(
            "train", data=data, image_size=16, hidden=8, steps=200, batch=4, out=out, run_dir=run_dir,
            preview_every=0, device="cpu", threads=1,
        )
        window.start_job(job)
        QTimer.singleShot(300, window.close)

    QTimer.singleShot(0, start)
    sys.exit(app_module.run_app(device="cpu"))
    """
)


def test_the_app_process_ends_cleanly_after_a_job_kept_running_in_the_background(stripes, tmp_path):
    import os

    out, run_dir = tmp_path / "models" / "cppn", tmp_path / "run"
    env = dict(os.environ, STUDIO_HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-c", APP_SCRIPT, str(stripes), str(out), str(run_dir)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "QThread: Destroyed" not in proc.stderr
    assert "keeps running" in proc.stderr and "finished" in proc.stderr, proc.stderr[-3000:]
    assert load_checkpoint(out)[1].training.steps == 200  # the export was not lost


class PhaseJob:
    """Reports steps with a phase title (as GADN's phases do) and takes a while to save when cancelled."""

    title = "phase job"

    def run(self, reporter):
        import time

        from studio.core.errors import JobCancelled
        from studio.core.jobs import cancelled_with

        step = 0
        try:
            while True:
                step += 1
                time.sleep(0.002)
                reporter.report(step, 10**9, losses={"g": 1.0}, message="phase one")
        except JobCancelled as exc:
            for _ in range(20):  # the save: the job still reports steps while it works
                time.sleep(0.01)
                try:
                    reporter.report(step, 10**9, losses={"g": 1.0}, message="phase one")
                except JobCancelled:
                    pass
            reporter.callback(type(reporter.history[-1])(step, 10**9, message="exporting…"))
            raise cancelled_with({"card": "x.json"}) from exc


def test_the_job_panel_says_stopping_at_once_and_keeps_showing_the_save(window, qtbot):
    panel = window.job_panel
    handle = window.start_job(PhaseJob())
    qtbot.waitUntil(lambda: panel.status.text() == "phase one", timeout=10000)
    shown = []
    handle.progress.connect(lambda _e: shown.append(panel.status.text()))
    panel.cancel_button.click()
    assert panel.status.text().startswith("stopping: saving step ")  # at once, from the GUI side
    assert not panel.cancel_button.isEnabled() and panel.cancel_button.text() == "Stopping…"
    qtbot.waitUntil(lambda: handle.result is not None, timeout=10000)
    assert shown and "phase one" not in shown  # a step's phase title never hides the stop
    assert "exporting…" in shown  # the job's own status messages do show
    assert "cancelled" in panel.status.text()
