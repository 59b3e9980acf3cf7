"""Screenshots of the Gallery dock and the Crossbreed dialog (README's "Pick, breed and history").

Run under a virtual screen (it uses a fresh temp STUDIO_HOME, so your own gallery is untouched)::

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot_gallery.py docs/images

Writes ``gallery.png`` (the window: a crossbred grid on the canvas, the gallery with its lineage) and
``crossbreed.png`` (the Crossbreed dialog: two parents, their weights and a grid of children).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshot_session import new_home, open_window


def main(out: Path) -> int:
    new_home()
    shot = open_window("emoji-dcgan")
    window, wait = shot.window, shot.wait
    hub = window.gallery
    hub.dock.show()
    hub.dock.raise_()

    def show_seed(seed: int) -> None:
        shot.show_state(dict(window.current_state(), seed=seed))
        wait(seconds=0.2)

    parents = []
    for seed in (3, 8, 21, 40, 57):
        show_seed(seed)
        parents.append(hub.keep_current())
    dialog = hub.crossbreed_selected([parents[1].id, parents[3].id])
    assert dialog is not None
    dialog.sliders[0].setValue(40)
    dialog.sliders[1].setValue(60)
    dialog.resize(620, 520)
    dialog.move(window.x() + 360, window.y() + 120)
    wait(lambda: dialog.frame is not None and dialog.frame.stamp == dialog._stamp, 30)
    wait(seconds=0.5)
    out.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(out / "crossbreed.png"))
    dialog.accept_mix()
    window.rows_box.setValue(2)
    window.cols_box.setValue(4)
    if not window.act_grid.isChecked():
        window.act_grid.trigger()
    before = window.canvas.frames_shown
    wait(lambda: window.canvas.frames_shown > before, 30)
    wait(seconds=0.5)
    child = hub.gallery.entries[-1]
    item = hub.panel.item(child.id)
    if item is not None:
        hub.panel.list.setCurrentItem(item)
    window.resizeDocks([window.jobs_dock], [190], __import__("PySide6.QtCore").QtCore.Qt.Orientation.Vertical)
    wait(seconds=0.5)
    window.grab().save(str(out / "gallery.png"))
    print(f"wrote {out / 'crossbreed.png'} and {out / 'gallery.png'}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")))
