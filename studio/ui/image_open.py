"""Opening a user's image in a tool: a too-large picture is offered a scale-down, not refused.

Why here: every tool that takes a picture (Translate, Stylize, GADN transfer, the result hand-over of
:mod:`studio.ui.result_actions`) goes through :func:`studio.core.images.load_image`, which refuses an
image over 100 megapixels with :class:`~studio.core.images.ImageTooLarge`. A 12000×12000 scan is not an
attack: the window asks once whether to open it scaled down, and only sizes past the loader's hard
limit are refused, with that reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image
from PySide6.QtWidgets import QMessageBox, QWidget

from studio.core.errors import StudioError
from studio.core.images import ImageTooLarge, load_image, scaled_size

# what a too-large picture is scaled down to: 16 MP (4000×4000) is plenty for every tool (Stylize works at
# up to 1024 px, the translators tile) and decodes in seconds (a JPEG at 1/2 or 1/4 of its size)
SCALE_DOWN_TO = 16_000_000


def scale_down_question(exc: ImageTooLarge) -> str:
    w, h = exc.size
    tw, th = scaled_size(exc.size, min(exc.max_pixels, SCALE_DOWN_TO))
    return (
        f"{exc.path.name} is {w}×{h} pixels ({w * h / 1e6:.0f} megapixels), more than the "
        f"{exc.max_pixels / 1e6:.0f} megapixels the studio works on.\n\nOpen it scaled down to {tw}×{th}?"
    )


def ask_scale_down(parent: QWidget | None, exc: ImageTooLarge) -> bool:
    """Ask whether to open a too-large image scaled down (tests replace this function)."""
    answer = QMessageBox.question(
        parent,
        "Large image",
        scale_down_question(exc),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes


def open_user_image(window: Any, path: str | Path, parent: QWidget | None = None) -> Image.Image | None:
    """The image at ``path`` as RGB, scaled down when it is too large and the user agrees; None (with the
    reason shown through ``window.show_error`` / ``show_message``) when it cannot or should not open."""
    try:
        return load_image(path)
    except ImageTooLarge as exc:
        if not ask_scale_down(parent, exc):
            window.show_message(f"{exc.path.name}: not opened")
            return None
        try:
            img = load_image(path, max_pixels=min(exc.max_pixels, SCALE_DOWN_TO), scale_down=True)
        except StudioError as again:
            window.show_error(str(again))
            return None
        except MemoryError:
            window.show_error(f"{exc.path.name}: not enough memory to open it, even scaled down")
            return None
        window.show_message(f"{exc.path.name}: opened scaled down to {img.width}×{img.height}")
        return img
    except StudioError as exc:
        window.show_error(str(exc))
        return None
