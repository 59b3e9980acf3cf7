"""Screenshot of File ▸ Train on my folder… (README's "Train on your own images").

Run under a virtual screen (a fresh temp STUDIO_HOME; the folder checked is a temp copy of
data/paintings with a broken file and a note added, so the data check has something to say)::

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot_train_wizard.py docs/images

Writes ``train-wizard.png``: the wizard on the CSGAN model on the canvas, the data check, the presets
with times measured on this machine.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main(out: Path) -> int:
    home = Path(tempfile.mkdtemp(prefix="studio-shots-"))
    os.environ["STUDIO_HOME"] = str(home)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from studio.ui.main_window import MainWindow
    from studio.ui.train_wizard import make_train_wizard

    app = QApplication.instance() or QApplication(sys.argv)

    def wait(cond=lambda: False, seconds: float = 10.0) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not cond():
            app.processEvents()
            time.sleep(0.01)

    folder = home / "my-paintings"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "paintings", folder)
    (folder / "scan-0042.jpg").write_bytes(b"\xff\xd8\xff\xe0 half a jpeg")
    (folder / "notes.txt").write_text("where the paintings come from")
    settings = QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, model="emoji-dcgan", device="cpu")
    window.resize(1280, 800)
    window.show()
    wait(lambda: window.current_model() is not None and not window.canvas.image().isNull(), 60)
    wizard = make_train_wizard(window)
    wizard.show()
    wizard.name_edit.setText("my-paintings")
    wizard.set_folder(folder)
    wait(lambda: wizard.step_times is not None or bool(wizard.timing_problem), 240)
    wait(seconds=0.5)
    out.mkdir(parents=True, exist_ok=True)
    wizard.grab().save(str(out / "train-wizard.png"))
    print(f"wrote {out / 'train-wizard.png'} ({wizard.width()}×{wizard.height()}); timing: {wizard.timing.text()}")
    wizard.reject()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")))
