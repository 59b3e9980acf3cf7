"""A real restart: two processes (two QApplications) on one STUDIO_HOME keep the canvas, undo and gallery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    from PySide6.QtWidgets import QApplication
    from studio.ui.main_window import MainWindow

    app = QApplication([])

    def wait(cond, seconds=60):
        end = time.monotonic() + seconds
        while time.monotonic() < end and not cond():
            app.processEvents()
            time.sleep(0.01)

    w = MainWindow(device="cpu")
    w.show()
    wait(lambda: w.current_model() is not None and not w.canvas.image().isNull())
    if sys.argv[1] == "first":
        state = w.current_state()
        state["seed"] = 4242
        w.set_state(state)
        w.gallery.keep_current()
        state["directions"] = {"pc0": 1.25}
        w.set_state(state)
    out = {
        "model": w.current_model_id(),
        "state": w.current_state(),
        "gallery": [e.state.get("seed") for e in w.gallery.gallery.entries],
        "can_undo": w.history.can_undo(),
    }
    w.close()  # saves the session (synchronously, in closeEvent)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)  # skip interpreter teardown: a process-exit abort of a worker thread is not what this tests
    """
)


def _run(tmp_path, which):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_HOME=str(tmp_path / "home"), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, which], env=env, capture_output=True, text=True, timeout=180, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


@pytest.mark.slow  # two app starts in new processes (~12 s of CPU); the in-process restart test is fast
def test_the_canvas_undo_and_gallery_survive_a_new_process(tmp_path):
    first = _run(tmp_path, "first")
    assert first["state"]["seed"] == 4242 and first["gallery"] == [4242]
    second = _run(tmp_path, "second")
    assert second["model"] == first["model"]
    assert second["state"]["seed"] == 4242 and second["state"]["directions"] == {"pc0": 1.25}
    assert second["gallery"] == [4242] and second["can_undo"]
