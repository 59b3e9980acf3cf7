"""Screenshot of File ▸ Train on my folder… (README's "Train on your own images").

Run under a virtual screen (a fresh temp STUDIO_HOME; the folder checked is a temp copy of
data/paintings with a broken file and a note added, so the data check has something to say)::

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot_train_wizard.py docs/images

Writes ``train-wizard.png``: the wizard on the CSGAN model on the canvas, the data check, the presets
with times measured on this machine.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshot_session import new_home, open_window


def main(out: Path) -> int:
    home = new_home()
    from studio.ui.train_wizard import make_train_wizard

    folder = home / "my-paintings"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "paintings", folder)
    (folder / "scan-0042.jpg").write_bytes(b"\xff\xd8\xff\xe0 half a jpeg")
    (folder / "notes.txt").write_text("where the paintings come from")
    shot = open_window("emoji-dcgan", size=(1280, 800))
    window, wait = shot.window, shot.wait
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
