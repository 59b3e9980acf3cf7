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
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.registry import Registry

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
        if action.help and action.help is not argparse.SUPPRESS:
            self.row.setToolTip(action.help)

    def _browse(self) -> None:
        assert isinstance(self.widget, QLineEdit)  # only text fields get a Browse button
        start = self.widget.text() or (self.settings.folder("data") if self.settings else "")
        title = f"Choose {self.action.dest.replace('_', ' ')}"
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
                raise StudioError(f"'{a.dest}' is needed")
            return a.default
        if a.type is not None and callable(a.type):
            try:
                return a.type(text)
            except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
                raise StudioError(f"'{a.dest}': {text!r} is not valid ({exc})") from exc
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
        self.fields: list[_Field] = []
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
        self.form_holder = QWidget()
        self.form = QFormLayout(self.form_holder)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #c0392b;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start")
        buttons.accepted.connect(self._try_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picker)
        layout.addWidget(self.form_holder)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        if not self.choices:
            self.error.setText("No installed family offers this job.")
            buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.picker.currentIndexChanged.connect(self._rebuild)
        if family_name:
            for i, (fam, _job) in enumerate(self.choices):
                if fam == family_name:
                    self.picker.setCurrentIndex(i)
        self._rebuild()
        self.job = None

    def selected(self) -> tuple[str, str] | None:
        i = self.picker.currentIndex()
        return self.choices[i] if 0 <= i < len(self.choices) else None

    def _rebuild(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields.clear()
        sel = self.selected()
        if sel is None:
            return
        family = self.registry.families[sel[0]]
        for action in job_options(family, sel[1]):
            f = _Field(action, self.settings)
            label = action.dest.replace("_", " ")
            self.form.addRow(label, f.row)
            self.fields.append(f)

    def field(self, dest: str) -> QWidget:
        return next(f.widget for f in self.fields if f.action.dest == dest)

    def options(self) -> dict[str, Any]:
        """The options as make_job gets them, with 'command' = the equivalent CLI command."""
        selected = self.selected()
        if selected is None:
            raise StudioError("choose a job first")
        fam, job = selected
        options: dict[str, Any] = {}
        words = ["studio", job if job == "train" else "run", fam] + ([] if job == "train" else [job])
        for f in self.fields:
            value = f.value()
            options[f.action.dest] = value
            words += f.cli_words(value)
        options["command"] = " ".join(shlex.quote(w) for w in words)
        return options

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
