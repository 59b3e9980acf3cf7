"""Screenshot of the Translate tool with a U-GAT-IT: input | translation | CAM attention map.

Run under a virtual screen (a fresh temp STUDIO_HOME)::

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot_translate_attention.py OUT.png [MODEL.json]

Without MODEL.json a tiny randomly initialised U-GAT-IT is saved into the temp model folder (a check of the
window, not of a translator); with it, that card's model is copied in. The photo is tests/data/chelsea-96.jpg
(CC0) unless ``--image`` names another.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshot_session import new_home, open_window

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("model", type=Path, nargs="?")
    ap.add_argument("--image", type=Path, default=ROOT / "tests" / "data" / "chelsea-96.jpg")
    args = ap.parse_args(argv)
    new_home()
    from studio.core.paths import user_models_dir
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
    shot = open_window("emoji-dcgan", image=False)
    window, wait = shot.window, shot.wait
    panel = window.open_tool(TOOL)
    wanted = args.model.stem if args.model else "ugatit-untrained"
    index = next(i for i in range(panel.translator.count()) if panel.translator.itemText(i).startswith(wanted))
    panel.translator.setCurrentIndex(index)
    panel.open_image(args.image)
    wait(lambda: panel.result is not None, 120)
    wait(seconds=1.0)
    shot.save_screen(args.out)
    print(f"wrote {args.out}; attention shown: {panel.attention_view.isVisible()}")
    shot.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
