"""Screenshot of the Translate tool with a U-GAT-IT: input | translation | CAM attention map.

Run under a virtual screen (a fresh temp STUDIO_HOME)::

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot_translate_attention.py OUT.png [MODEL.json]

Without MODEL.json a tiny randomly initialised U-GAT-IT is saved into the temp model folder (a check of the
window, not of a translator); with it, that card's model is copied in. The photo is tests/data/chelsea-96.jpg
(CC0) unless ``--image`` names another.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("model", type=Path, nargs="?")
    ap.add_argument("--image", type=Path, default=ROOT / "tests" / "data" / "chelsea-96.jpg")
    args = ap.parse_args(argv)
    os.environ["STUDIO_HOME"] = tempfile.mkdtemp(prefix="studio-shots-")
    from PySide6.QtCore import QEvent, QSettings
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from studio.core.paths import user_models_dir
    from studio.ui.main_window import MainWindow
    from studio.ui.translate_tool import TOOL

    models = user_models_dir()
    models.mkdir(parents=True, exist_ok=True)
    bundled = args.model is not None and args.model.resolve().parent == (ROOT / "resources" / "models").resolve()
    if args.model and not bundled:  # a bundled model is listed already
        for suffix in (".json", ".safetensors"):
            shutil.copy(args.model.with_suffix(suffix), models)
    elif args.model is None:
        sys.path.insert(0, str(ROOT))
        from tests.ui.test_translate_tool_ugatit import make_ugatit

        make_ugatit(models, "ugatit-untrained")
    app = QApplication.instance() or QApplication(sys.argv)

    def wait(cond=lambda: False, seconds: float = 10.0) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not cond():
            app.processEvents()
            app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            time.sleep(0.01)

    settings = QSettings(str(Path(os.environ["STUDIO_HOME"]) / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, model="emoji-dcgan", device="cpu")
    window.move(0, 0)
    window.resize(1360, 860)
    window.show()
    wait(lambda: window.current_model() is not None, 60)
    panel = window.open_tool(TOOL)
    wanted = args.model.stem if args.model else "ugatit-untrained"
    index = next(i for i in range(panel.translator.count()) if panel.translator.itemText(i).startswith(wanted))
    panel.translator.setCurrentIndex(index)
    panel.open_image(args.image)
    wait(lambda: panel.result is not None, 120)
    wait(seconds=1.0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    shot = QGuiApplication.primaryScreen().grabWindow(0)
    geo = window.frameGeometry()
    shot.copy(0, 0, geo.right() + 1, geo.bottom() + 1).save(str(args.out))
    print(f"wrote {args.out}; attention shown: {panel.attention_view.isVisible()}")
    window.close()
    wait(seconds=1.0)  # let the window stop its render thread before the interpreter ends
    return 0


if __name__ == "__main__":
    sys.exit(main())
