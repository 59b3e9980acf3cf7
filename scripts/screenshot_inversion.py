"""Screenshot of GAN inversion in the window (README's "Your own picture in the latent space").

Run under a virtual screen (a fresh temp STUDIO_HOME)::

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot_inversion.py docs/images

Finds the test photograph (tests/data/chelsea-96.jpg, CC0) in the bundled emoji-dcgan's latent space with
the window's own door (what dropping it on the canvas and choosing "Find it in the latent space" runs),
then moves two direction sliders of the found state. Writes ``inversion.png`` (the window: the edited
state on the canvas, the finished job with its preview and loss curve, the quality in the status bar)
and ``inversion-row.png`` (the photo, what the model found, and the two slider edits, side by side).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshot_session import new_home, open_window

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "tests" / "data" / "chelsea-96.jpg"
EDITS = ({"pc0": 1.5}, {"pc0": 1.5, "pc2": -2.0})  # the canvas ends on the last one


def main(out: Path) -> int:
    new_home()
    import numpy as np
    from PIL import Image

    from studio.models.invert import load_target

    shot = open_window("emoji-dcgan")
    window, wait = shot.window, shot.wait
    handle = window.invert_animate.start_inversion(PHOTO, steps=150, starts=64)
    done: list = []
    handle.finished.connect(done.append)
    wait(lambda: bool(done), 600)
    result = done[0]
    print(result.message, {k: v for k, v in result.outputs.items() if k != "state"})
    found = window.current_state()
    model = window.current_model()
    frames = [found] + [dict(found, directions=edit) for edit in EDITS]
    for state in frames[1:]:
        shot.show_state(state)
    message = window.statusBar().currentMessage()
    window.statusBar().showMessage(message or result.message)
    wait(seconds=1.0)
    shot.save_screen(out / "inversion.png")
    size = model.image_size
    photo = load_target(PHOTO, size)[0]
    images = [photo] + list(model.render(frames))
    row = np.concatenate([(im.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8) for im in images], 1)
    Image.fromarray(row).resize((row.shape[1] * 3, row.shape[0] * 3), Image.Resampling.NEAREST).save(
        out / "inversion-row.png"
    )
    print(f"wrote {out / 'inversion.png'} and {out / 'inversion-row.png'}")
    shot.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")))
