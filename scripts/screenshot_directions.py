"""Screenshot of the direction strips (README's "Directions that explain themselves").

Run under a virtual screen (a fresh temp STUDIO_HOME, so your own direction names are untouched)::

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot_directions.py docs/images

Writes ``direction-strips.png``: the window with the Directions view (every direction's strip, −2σ … +2σ
around the canvas, with the names typed in it), a two-state direction among them, and the strip that
hovering a slider shows beside it. The names given are the script's ``NAMES`` (what the strips of the
bundled emoji-dcgan show at seed 21, looked at by eye).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshot_session import new_home, open_window

SEED_A, SEED_B = 21, 57
NAMES = {"pc0": "smiley ↔ dark", "pc1": "heart ↔ blue face", "pc2": "blue ↔ red"}


def main(out: Path) -> int:
    new_home()
    shot = open_window("emoji-dcgan")
    window, wait, show = shot.window, shot.wait, shot.show_state
    strips = window.directions

    state_a = dict(window.current_state(), seed=SEED_A)
    show(state_a)
    show(dict(state_a, seed=SEED_B))
    strips.new_direction(window.current_state() | {"seed": SEED_A}, window.current_state(), f"seed {SEED_A} → {SEED_B}")
    show(state_a)
    for key, name in NAMES.items():
        strips.rename(key, name)
    dialog = strips.show_dialog()
    assert dialog is not None
    dialog.move(window.x() + 250, window.y() + 30)
    dialog.resize(600, 820)
    keys = [k for k, _ in strips.directions()]
    wait(lambda: all(k in strips.fresh for k in keys), 60)
    slider = window.panel.sliders["dir:pc1"]
    strips.show_popup("pc1", slider)
    wait(lambda: "pc1" in strips.fresh, 30)
    wait(seconds=0.8)
    print(f"wrote {shot.save_screen(out / 'direction-strips.png')}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")))
