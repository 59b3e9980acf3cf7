"""The "Train…" dialog: pick a family and one of its jobs; the form is built from the job's CLI options.

Why from argparse: every family already describes its jobs' options for ``studio train FAMILY`` via
``Family.add_job_arguments``; reading those options back means the GUI and the CLI can never disagree
and a new family gets a form for free. Folder-like options (data, out, resume, …) get a Browse button.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.registry import Registry

from .option_labels import label as option_label

FOLDER_WORDS = ("data", "dir", "folder", "a", "b")  # a/b: the two image folders of a translator
FILE_WORDS = ("path", "image", "style", "content", "photo", "painting")
SAVE_WORDS = ("out",)


def _browse_kind(dest: str) -> str | None:
    """'folder', 'file', 'save' or None, from the option's name (data, run_dir, out, style_image…)."""
    d = dest.lower()
    for kind, words in (("folder", FOLDER_WORDS), ("file", FILE_WORDS), ("save", SAVE_WORDS)):
        if any(d == w or d.endswith("_" + w) for w in words):
            return kind
    return None


# Options that only make sense on the command line: several training processes are started by torchrun
# (``studio train ... --nproc N``); a job started from the window runs in the window's own process.
CLI_ONLY = frozenset({"nproc"})


def job_options(family, job_name: str) -> list[argparse.Action]:
    """The argparse actions (minus --help and the CLI-only ones) a family declares for a job."""
    parser = argparse.ArgumentParser(add_help=False)
    family.add_job_arguments(job_name, parser)
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction) and a.dest not in CLI_ONLY]


def _is_flag(action: argparse.Action) -> bool:
    return isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction))


def _flag(action: argparse.Action) -> str:
    return action.option_strings[0] if action.option_strings else action.dest


class _Field:
    """One option's widget and how to read it back."""

    def __init__(self, action: argparse.Action, settings=None) -> None:
        self.action = action
        self.settings = settings
        default = action.default if action.default is not argparse.SUPPRESS else None
        self.browse: QPushButton | None = None
        self.kind: str | None = None
        self.widget: QCheckBox | QComboBox | QLineEdit
        if _is_flag(action):
            self.widget = QCheckBox()
            self.widget.setChecked(bool(default))
            self.row: QWidget = self.widget
        elif action.dest == "device" and not action.choices:
            from studio.core.device import available_devices

            self.widget = QComboBox()
            self.widget.setEditable(True)
            self.widget.addItems(available_devices())
            self.widget.setCurrentText(str(default or "auto"))
            self.row = self.widget
        elif action.choices:
            self.widget = QComboBox()
            self.widget.addItems([str(c) for c in action.choices])
            if default is not None and str(default) in [str(c) for c in action.choices]:
                self.widget.setCurrentText(str(default))
            self.row = self.widget
        else:
            self.widget = QLineEdit("" if default is None else str(default))
            self.row = self.widget
            self.kind = _browse_kind(action.dest)
            if self.kind is not None and action.type in (None, str):
                self.row = QWidget()
                h = QHBoxLayout(self.row)
                h.setContentsMargins(0, 0, 0, 0)
                h.addWidget(self.widget, 1)
                self.browse = QPushButton("Browse…")
                self.browse.clicked.connect(self._browse)
                h.addWidget(self.browse)

    def _browse(self) -> None:
        assert isinstance(self.widget, QLineEdit)  # only text fields get a Browse button
        start = self.widget.text() or (self.settings.folder("data") if self.settings else "")
        title = f"Choose: {option_label(self.action.dest).lower()}"
        if self.kind == "folder":
            chosen = QFileDialog.getExistingDirectory(self.row, title, start)
        elif self.kind == "save":
            chosen, _ = QFileDialog.getSaveFileName(self.row, title, start)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self.row, title, start)
        if chosen:
            self.widget.setText(chosen)
            if self.settings:
                self.settings.set_folder("data", chosen if self.kind == "folder" else str(Path(chosen).parent))

    def value(self) -> Any:
        a = self.action
        if isinstance(self.widget, QCheckBox):  # a flag
            return self.widget.isChecked()
        text = self.widget.currentText() if isinstance(self.widget, QComboBox) else self.widget.text().strip()
        if text == "":
            if a.required or not a.option_strings and a.nargs not in ("?", "*"):
                raise StudioError(f"{option_label(a.dest)} ({_flag(a)}) is needed")
            return a.default
        if a.type is not None and callable(a.type):
            try:
                return a.type(text)
            except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
                raise StudioError(f"{option_label(a.dest)} ({_flag(a)}): {text!r} is not valid ({exc})") from exc
        if a.choices:
            for c in a.choices:
                if str(c) == text:
                    return c
        return text

    def cli_words(self, value: Any) -> list[str]:
        """How this value is written on the command line (for the model card's 'command')."""
        a = self.action
        if _is_flag(a):
            want = isinstance(a, argparse._StoreTrueAction)
            return [a.option_strings[0]] if bool(value) == want and value != a.default else []
        if value is None or value == a.default:
            return []
        return [a.option_strings[0], str(value)] if a.option_strings else [str(value)]


class JobForm(QWidget):
    """The option form of one family's job: one row per CLI option, with a readable label
    (:mod:`studio.ui.option_labels`) and the flag and its help in the tooltip."""

    def __init__(self, settings=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.fields: list[_Field] = []
        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

    def build(self, family, job_name: str) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields.clear()
        for action in job_options(family, job_name):
            f = _Field(action, self.settings)
            label = QLabel(option_label(action.dest))
            flag = _flag(action)
            tip = f"{flag}: {action.help}" if action.help and action.help is not argparse.SUPPRESS else flag
            label.setToolTip(tip)
            f.row.setToolTip(tip)
            self.form.addRow(label, f.row)
            self.fields.append(f)

    def has(self, dest: str) -> bool:
        return any(f.action.dest == dest for f in self.fields)

    def field(self, dest: str) -> QWidget:
        return next(f.widget for f in self.fields if f.action.dest == dest)

    def set_value(self, dest: str, value: Any) -> None:
        """Show ``value`` in the field of ``dest`` (a preset, the wizard's simple fields)."""
        for f in self.fields:
            if f.action.dest != dest:
                continue
            w = f.widget
            if isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QComboBox):
                w.setCurrentText(str(value))
            else:
                w.setText("" if value is None else str(value))

    def defaults(self) -> dict[str, Any]:
        return {
            f.action.dest: (f.action.default if f.action.default is not argparse.SUPPRESS else None)
            for f in self.fields
        }

    def options(self, family_name: str, job: str) -> dict[str, Any]:
        """The options as make_job gets them, with 'command' = the equivalent CLI command."""
        options: dict[str, Any] = {}
        words = ["studio", job if job == "train" else "run", family_name] + ([] if job == "train" else [job])
        for f in self.fields:
            value = f.value()
            options[f.action.dest] = value
            words += f.cli_words(value)
        options["command"] = " ".join(shlex.quote(w) for w in words)
        return options


def scrolled(widget: QWidget) -> QScrollArea:
    """``widget`` in a scroll area, so a long form never pushes a dialog's buttons off the screen."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area


def fit_to_screen(dialog: QWidget, width: int, height: int) -> None:
    """Resize ``dialog`` to width×height, at most 90 % of its screen (the buttons stay visible)."""
    screen = dialog.screen() if dialog.screen() is not None else QApplication.primaryScreen()
    if screen is not None:
        avail = screen.availableGeometry()
        width, height = min(width, int(avail.width() * 0.9)), min(height, int(avail.height() * 0.9))
        dialog.setMaximumHeight(avail.height())
    dialog.resize(width, height)


def start_row(dialog, start_text: str) -> tuple[QLabel, QDialogButtonBox, QPushButton]:
    """A job dialog's error line and its Start / Cancel buttons (Start calls ``dialog._try_accept``)."""
    error = QLabel("")
    error.setStyleSheet("color: #c0392b;")
    error.setWordWrap(True)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    start = buttons.button(QDialogButtonBox.StandardButton.Ok)
    start.setText(start_text)
    buttons.accepted.connect(dialog._try_accept)
    buttons.rejected.connect(dialog.reject)
    return error, buttons, start


class JobDialog(QDialog):
    """Choose family + job, fill in the options, get a job object from ``make_job()``."""

    def __init__(
        self,
        registry: Registry,
        job_name: str = "train",
        settings=None,
        parent: QWidget | None = None,
        family_name: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train a model" if job_name == "train" else "Run a job")
        self.registry = registry
        self.settings = settings
        self.choices: list[tuple[str, str]] = [
            (fam, job)
            for fam, f in sorted(registry.families.items())
            for job in f.jobs()
            if job_name in (None, "*", job)
        ]
        self.picker = QComboBox()
        for fam, job in self.choices:
            family = registry.families[fam]
            self.picker.addItem(f"{family.title or fam} — {job}: {family.jobs()[job]}")
        self.job_form = JobForm(settings)
        self.fields = self.job_form.fields
        self.form = self.job_form.form
        self.error, buttons, self.start_button = start_row(self, "Start")
        layout = QVBoxLayout(self)
        layout.addWidget(self.picker)
        layout.addWidget(scrolled(self.job_form), 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)  # outside the scroll area: always visible
        if not self.choices:
            self.error.setText("No installed family offers this job.")
            self.start_button.setEnabled(False)
        self.picker.currentIndexChanged.connect(self._rebuild)
        if family_name:
            for i, (fam, _job) in enumerate(self.choices):
                if fam == family_name:
                    self.picker.setCurrentIndex(i)
                    break
        self._rebuild()
        fit_to_screen(self, 640, 720)
        self.job = None

    def selected(self) -> tuple[str, str] | None:
        i = self.picker.currentIndex()
        return self.choices[i] if 0 <= i < len(self.choices) else None

    def _rebuild(self) -> None:
        sel = self.selected()
        if sel is None:
            return
        self.job_form.build(self.registry.families[sel[0]], sel[1])

    def field(self, dest: str) -> QWidget:
        return self.job_form.field(dest)

    def options(self) -> dict[str, Any]:
        """The options as make_job gets them, with 'command' = the equivalent CLI command."""
        selected = self.selected()
        if selected is None:
            raise StudioError("choose a job first")
        return self.job_form.options(*selected)

    def make_job(self):
        fam, job = self.selected()
        return self.registry.families[fam].make_job(job, **self.options())

    def _try_accept(self) -> None:
        try:
            self.job = self.make_job()
        except StudioError as exc:
            self.error.setText(str(exc))
            return
        except (TypeError, ValueError, KeyError) as exc:
            self.error.setText(f"could not start the job: {exc}")
            return
        self.accept()
