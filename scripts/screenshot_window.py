"""Screenshot of the main window showing one model (README and docs: "looked at" after UI or model changes).

Run under a virtual screen (a fresh temp STUDIO_HOME, so your own settings are untouched)::

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot_window.py OUT.png MODEL [--seed N]

MODEL is a bundled or installed model's name, or a model card's path (e.g. a fine-tuned child kept
elsewhere). The window opens at 1360×860 with the model on the canvas at the given seed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshot_session import new_home, open_window


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("model")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    new_home()
    shot = open_window(args.model)
    shot.show_state(dict(shot.window.current_state(), seed=args.seed))
    shot.wait(seconds=0.8)
    print(f"wrote {shot.save_screen(args.out)}")
    shot.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
