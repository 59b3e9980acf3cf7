"""Tools feed each other: a tool's result can be saved, kept in the gallery, or sent on — to another
tool as its input, or to the canvas — and a plain picture dropped on the canvas is offered the tools.

Why one module: Translate, Stylize and the GADN transfer each produce a picture, and each takes one.
Rather than every tool knowing every other, a result is handed over as a PNG file (under
``$STUDIO_HOME/results``, written atomically, without a canvas state so the canvas treats it as a
plain picture) and :func:`send_image` gives that file to the target tool through the same method a
user's own file takes (``open_image``, ``set_image``, ``transfer_file``) or to the canvas through the
window's drop (``drop_file``: inversion on a latent model). Targets are tools found by id in the tool
registry; one that does not serve the model on the canvas (GADN transfer without a GADN model) is
offered disabled, with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QMenu, QMessageBox, QPushButton, QToolButton, QWidget

from studio.core.errors import StudioError
from studio.core.paths import studio_home

from . import tools as tool_registry


@dataclass(frozen=True)
class Target:
    key: str
    text: str
    tool: str | None  # the module declaring the tool's TOOL spec; None = the canvas
    method: str = ""  # the panel's method that takes a user's picture file
    role: str = ""  # the stylize tool's well: 'content' or 'style'


TARGETS: tuple[Target, ...] = (
    Target("canvas", "Canvas (find it in the model)", None),
    Target("translate", "Translate", "studio.ui.translate_tool", "open_image"),
    Target("stylize-photo", "Stylize, as the photo", "studio.ui.stylize_tool", "set_image", "content"),
    Target("stylize-style", "Stylize, as the style", "studio.ui.stylize_tool", "set_image", "style"),
    Target("transfer", "GADN style transfer", "studio.ui.gadn_tools", "transfer_file"),
)


def target(key: str) -> Target:
    return next(t for t in TARGETS if t.key == key)


def results_dir() -> Path:
    return studio_home() / "results"


def write_handoff(pixels: np.ndarray, stem: str) -> Path:
    """``pixels`` as a plain PNG (no state: the canvas sees a picture) in the results folder."""
    from studio.core.export import save_png

    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:60] or "result"
    path = results_dir() / f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 1000:03d}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_png(path, np.ascontiguousarray(pixels), None, {"Software": "GAN Studio"})


def _spec(module: str):
    """The registered spec of the tool declared in ``module`` (None when the window does not have it)."""
    import importlib

    try:
        declared = importlib.import_module(module).TOOL
    except (ImportError, AttributeError):
        return None
    return next((s for s in tool_registry.registered_tools(discover=False) if s.id == declared.id), None)


def unavailable(window: Any, t: Target) -> str:
    """Why ``t`` cannot take a picture now ('' when it can)."""
    if t.tool is None:
        model = window.current_model()
        if model is None:
            return "open a model first"
        from studio.core.inversion import supports_inversion

        return "" if supports_inversion(model) else "this model cannot find pictures (open a CSGAN, CAN or GADN model)"
    spec = _spec(t.tool)
    if spec is None:
        return f"the {t.text} tool is not installed"
    if not spec.serves(window.current_model()):
        return f"open a model the {spec.menu_title.rstrip('…. ')} tool serves first"
    return ""


def send_image(window: Any, path: str | Path, key: str) -> bool:
    """Give the picture at ``path`` to the target ``key`` (see TARGETS). Errors are shown; True when taken."""
    t = target(key)
    why = unavailable(window, t)
    if why:
        window.show_error(f"{t.text}: {why}")
        return False
    if t.tool is None:
        return bool(window.drop_file(path))
    panel = window.open_tool(_spec(t.tool))
    if panel is None:
        return False
    take = getattr(panel, t.method)
    taken = take(t.role, path) if t.role else take(str(path))
    return taken is None or bool(taken)  # transfer_file starts a job and returns nothing


class ResultActions(QWidget):
    """Save… · Keep in gallery · Send to ▾ — under a tool's result.

    ``result()`` returns (pixels HxWx3 uint8, state for the gallery, a file already holding the result
    or None) or None when there is no result yet; ``save()`` is the tool's own Save dialog."""

    def __init__(
        self,
        window: Any,
        source: str,  # the module of the tool showing this row (``__name__``)
        result: Callable[[], tuple[np.ndarray, dict[str, Any], Path | None] | None],
        save: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.main_window, self.source, self.result = window, source, result
        self.name = source.rsplit(".", 1)[-1].removesuffix("_tools").removesuffix("_tool")  # translate, stylize…
        self.save_button = QPushButton("Save…")
        self.save_button.clicked.connect(save)
        self.keep_button = QPushButton("Keep")
        self.keep_button.setToolTip("keep the result in the gallery (the canvas history)")
        self.keep_button.clicked.connect(self.keep)
        self.send_button = QToolButton()
        self.send_button.setText("Send to")
        self.send_button.setToolTip("use the result as the input of another tool, or find it on the canvas")
        self.send_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self.send_button)
        self.menu.aboutToShow.connect(self._update_menu)
        self.actions_by_key = {}
        for t in TARGETS:
            if t.tool == source:  # not back to itself
                continue
            act = self.menu.addAction(t.text)
            act.triggered.connect(lambda _c=False, k=t.key: self.send(k))
            self.actions_by_key[t.key] = act
        self.send_button.setMenu(self.menu)
        self.send_button.setMinimumWidth(self.send_button.sizeHint().width() + 18)  # room for the menu arrow
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self.save_button, self.keep_button, self.send_button):
            row.addWidget(w)
        self.set_ready(False)

    def set_ready(self, ready: bool) -> None:
        for w in (self.save_button, self.keep_button, self.send_button):
            w.setEnabled(ready)

    def _update_menu(self) -> None:
        for key, act in self.actions_by_key.items():
            why = unavailable(self.main_window, target(key))
            act.setEnabled(not why)
            act.setToolTip(why)

    def _file(self) -> Path | None:
        got = self.result()
        if got is None:
            self.main_window.show_error("There is no result yet.")
            return None
        pixels, _state, path = got
        try:
            return path if path is not None and path.suffix.lower() == ".png" else write_handoff(pixels, self.name)
        except (StudioError, OSError) as exc:
            self.main_window.show_error(f"could not hand the result over: {exc}")
            return None

    def send(self, key: str) -> bool:
        path = self._file()
        return path is not None and send_image(self.main_window, path, key)

    def keep(self) -> bool:
        got = self.result()
        gallery = getattr(self.main_window, "gallery", None)
        if got is None or gallery is None:
            self.main_window.show_error("There is no result to keep yet." if got is None else "No gallery here.")
            return False
        pixels, state, _path = got
        entry = gallery.keep(dict(state, tool=self.name), "tool", pixels)
        if entry is not None:
            self.main_window.show_message(f"kept the {self.name} result in the gallery", 4000)
        return entry is not None


# ---------------------------------------------------------------------------- a plain picture dropped
PLAIN_BOXES: list[QMessageBox] = []  # the offer on show (non-modal; tests click its buttons)


def offer_plain_picture(window: Any, path: str | Path, problem: Exception) -> bool:
    """The window's drop fallback for a picture without state (finding it on the canvas comes first, in
    :mod:`studio.ui.invert_animate`): instead of only "holds no GAN Studio state", a non-modal message
    offering the tools that take a picture (Translate it, Stylize it, Redraw it with GADN). True when it
    was offered; False leaves the window's plain message (a damaged file, another model's state…)."""
    from studio.core.images import IMAGE_SUFFIXES

    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES or "holds no GAN Studio state" not in str(problem):
        return False
    offers = [t for t in TARGETS if t.tool is not None and not unavailable(window, t)]
    if not offers:
        return False
    text = f"{path.name} holds no GAN Studio state: it is a picture, not an export. Use it in a tool?"
    window.last_error = text  # the drop's outcome reads like any other message
    window.statusBar().showMessage(text, 15000)
    from shiboken6 import isValid

    for old in PLAIN_BOXES:
        if isValid(old):  # a box of a window that is gone was deleted with it
            old.close()
    PLAIN_BOXES.clear()
    box = QMessageBox(QMessageBox.Icon.Information, "A picture", text, QMessageBox.StandardButton.Close, window)
    keys: dict[Any, str] = {}
    for t in offers:
        keys[box.addButton(_offer_text(t), QMessageBox.ButtonRole.ActionRole)] = t.key
    box.buttonClicked.connect(lambda b: keys.get(b) and send_image(window, path, keys[b]))
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.show()
    PLAIN_BOXES.append(box)
    return True


def _offer_text(t: Target) -> str:
    return {
        "translate": "Translate it",
        "stylize-photo": "Stylize it",
        "stylize-style": "Use it as a style",
        "transfer": "Redraw it with GADN",
    }.get(t.key, t.text)
