"""The real launcher (qasync loop + window) starts, draws and quits: `studio gui` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

from PIL import Image


def test_run_app_opens_the_window_and_takes_a_screenshot(tmp_path):
    shot = tmp_path / "shot.png"
    resources = tmp_path / "resources"
    (resources / "models").mkdir(parents=True)  # no models: the window must still open
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        STUDIO_HOME=str(tmp_path / "home"),
        STUDIO_RESOURCES=str(resources),
        STUDIO_SCREENSHOT=str(shot),
        STUDIO_SCREENSHOT_DELAY="1",
        OMP_NUM_THREADS="1",
    )
    proc = subprocess.run([sys.executable, "-m", "studio", "gui"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    img = Image.open(shot)
    # a real window, and it fits the offscreen platform's 800x800 screen (the window never grows past it)
    assert 600 <= img.width <= 800 and 500 <= img.height <= 800
    assert (tmp_path / "home" / "settings.ini").exists()  # settings were saved on close
