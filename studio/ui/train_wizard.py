"""File ▸ "Train on my folder…": the artist's way in to training.

Why a wizard in front of the form: the full option form (:class:`~studio.ui.job_dialog.JobForm`, built
from the family's CLI options) has thirty fields an artist should not have to read. The wizard asks for
what matters — which kind of model (preselected from the model on the canvas), the folder, a name and
how long — and says before Start how many images are usable, what will be skipped and why
(:func:`studio.train.data_check.check_folder`), and about how long each preset takes, from a couple of
real training steps timed on this machine in the background (:mod:`studio.train.step_timing`). The full
form stays one click away behind "Advanced options"; the wizard only writes into it, so the job started
is exactly the one the form (and ``studio train``) would start. The body scrolls; Start never leaves
the screen.
"""

from __future__ import annotations

import re
import tempfile
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import JobCancelled, StudioError
from studio.core.registry import Registry
from studio.train import presets as preset_mod
from studio.train.data_check import DataReport, check_folder
from studio.train.step_timing import duration_text, estimate_seconds, measure_step_times, sample_copy

from .job_dialog import JobForm, _browse_kind, fit_to_screen, job_options, scrolled, start_row
from .option_labels import label as option_label

TRAIN = "train"


def folder_options(family) -> list[Any]:
    """The required folder options of a family's train job (``data``, or a translator's ``a`` and ``b``)."""
    return [
        a
        for a in job_options(family, TRAIN)
        if (a.required or not a.option_strings) and _browse_kind(a.dest) == "folder"
    ]


def target_size(options: dict[str, Any]) -> int:
    """The model's image size from the options (``image_size``, ``size``, or the px in ``arch``)."""
    for key in ("image_size", "size"):
        v = options.get(key)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    m = re.search(r"(\d{2,4})$", str(options.get("arch") or ""))
    return int(m.group(1)) if m else 0


class _Bridge(QObject):
    """Carries results of the background threads to the GUI thread (queued signal)."""

    checked = Signal(int, str, object)  # generation, option dest, DataReport
    timed = Signal(int, object)  # generation, dict | str (a problem)


class TrainWizard(QDialog):
    def __init__(
        self,
        registry: Registry,
        settings=None,
        parent: QWidget | None = None,
        family_name: str | None = None,
        device: str = "auto",
        measure: bool = True,
        fallback_family: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train on my folder")
        self.registry = registry
        self.settings = settings
        self.device = device
        self.measure = measure
        self.job = None
        self.reports: dict[str, DataReport] = {}
        self.step_times: dict[str, float] | None = None
        self.timing_problem = ""
        self._generation = 0
        self._cancel = threading.Event()
        self._bridge = _Bridge()
        self._bridge.checked.connect(self._on_checked)
        self._bridge.timed.connect(self._on_timed)
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(350)
        self._check_timer.timeout.connect(self._start_checks)
        self.families = [n for n, f in sorted(registry.families.items()) if TRAIN in f.jobs()]

        intro = QLabel(
            "Pick a folder of your images; GAN Studio learns to make new ones like them. "
            "Everything else has a sensible default."
        )
        intro.setWordWrap(True)
        self.family_box = QComboBox()
        for n in self.families:
            fam = registry.families[n]
            self.family_box.addItem(f"{fam.title or n}", n)
        self.family_help = QLabel("")
        self.family_help.setWordWrap(True)
        self.family_help.setStyleSheet("color: palette(mid);")

        self.folder_holder = QWidget()
        self.folder_form = QFormLayout(self.folder_holder)
        self.folder_form.setContentsMargins(0, 0, 0, 0)
        self.folder_edits: dict[str, QLineEdit] = {}
        self.check_labels: dict[str, QLabel] = {}
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("my-model (saved in your models folder)")

        self.preset_group = QButtonGroup(self)
        self.preset_buttons: dict[str, QRadioButton] = {}
        preset_box = QVBoxLayout()
        for i, p in enumerate(preset_mod.PRESETS):
            b = QRadioButton(p.title)
            b.setToolTip(p.help)
            self.preset_group.addButton(b, i)
            self.preset_buttons[p.name] = b
            preset_box.addWidget(b)
        self.preset_buttons["good"].setChecked(True)
        self.preset_group.idToggled.connect(self._preset_toggled)
        self.timing = QLabel("")
        self.timing.setWordWrap(True)
        preset_box.addWidget(self.timing)

        self.advanced_button = QToolButton()
        self.advanced_button.setText("Advanced options")
        self.advanced_button.setCheckable(True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_button.toggled.connect(self._toggle_advanced)
        self.job_form = JobForm(settings)
        self.job_form.setVisible(False)

        body = QWidget()
        form = QFormLayout()
        form.addRow("Kind of model", self.family_box)
        form.addRow("", self.family_help)
        form.addRow(self.folder_holder)
        form.addRow("Model name", self.name_edit)
        form.addRow("How long", preset_box)
        lay = QVBoxLayout(body)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.advanced_button)
        lay.addWidget(self.job_form)
        lay.addStretch(1)

        self.error, buttons, self.start_button = start_row(self, "Start training")
        outer = QVBoxLayout(self)
        outer.addWidget(scrolled(body), 1)
        outer.addWidget(self.error)
        outer.addWidget(buttons)  # outside the scroll area: always on screen

        self.family_box.currentIndexChanged.connect(lambda _i: self._family_changed())
        self.name_edit.textChanged.connect(lambda t: self._set_option("out", t.strip() or None))
        chosen = family_name if family_name in self.families else None
        if chosen is None and settings is not None:
            last = settings.get_str("wizard_family", "") if hasattr(settings, "get_str") else ""
            chosen = last if last in self.families else None
        if chosen is None and fallback_family in self.families:
            chosen = fallback_family
        if chosen is not None:
            self.family_box.setCurrentIndex(self.families.index(chosen))
        self._family_changed()
        if not self.families:
            self.error.setText("No installed family can be trained.")
            self.start_button.setEnabled(False)
        fit_to_screen(self, 680, 720)

    # -- choices -----------------------------------------------------------------------------------
    def family_name(self) -> str | None:
        data = self.family_box.currentData()
        return str(data) if data else None

    def family(self):
        name = self.family_name()
        return self.registry.families[name] if name else None

    def _family_changed(self) -> None:
        family = self.family()
        if family is None:
            return
        self.job_form.build(family, TRAIN)
        self.family_help.setText(family.jobs().get(TRAIN, ""))
        old = {k: e.text() for k, e in self.folder_edits.items()}  # kept across a change of kind
        while self.folder_form.rowCount():
            self.folder_form.removeRow(0)
        self.folder_edits.clear()
        self.check_labels.clear()
        for action in folder_options(family):
            edit = QLineEdit(old.get(action.dest, ""))
            edit.setPlaceholderText(action.help or "")
            browse = QPushButton("Browse…")
            browse.clicked.connect(lambda _c=False, d=action.dest: self._browse(d))
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(browse)
            check = QLabel("")
            check.setWordWrap(True)
            check.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.folder_form.addRow(option_label(action.dest), row)
            self.folder_form.addRow("", check)
            self.folder_edits[action.dest] = edit
            self.check_labels[action.dest] = check
            edit.textChanged.connect(lambda _t: self._folder_changed())
            if action.help:
                edit.setToolTip(action.help)
        if self.job_form.has("out"):
            self._set_option("out", self.name_edit.text().strip() or None)
        self._apply_preset()
        self._folder_changed()

    def _browse(self, dest: str) -> None:
        edit = self.folder_edits[dest]
        start = edit.text() or (self.settings.folder("data") if self.settings else "")
        chosen = QFileDialog.getExistingDirectory(self, f"Choose: {option_label(dest).lower()}", start)
        if chosen:
            edit.setText(chosen)
            if self.settings:
                self.settings.set_folder("data", chosen)

    def set_folder(self, path: str | Path, dest: str | None = None) -> None:
        """Fill a folder field (the first one without ``dest``)."""
        key = dest or next(iter(self.folder_edits), None)
        if key is not None:
            self.folder_edits[key].setText(str(path))

    def _set_option(self, dest: str, value: Any) -> None:
        if self.job_form.has(dest):
            self.job_form.set_value(dest, value)

    def preset(self) -> preset_mod.Preset:
        return preset_mod.PRESETS[max(0, self.preset_group.checkedId())]

    def _preset_toggled(self, _id: int, on: bool) -> None:
        if on:
            self._apply_preset()

    def _apply_preset(self) -> None:
        for dest, value in preset_mod.preset_options(self.preset(), self.job_form.defaults()).items():
            self._set_option(dest, value)
        defaults = self.job_form.defaults()
        if self.preset().ema == 0 and "ema" in defaults:
            self._set_option("ema", defaults["ema"])
        self._show_timing()

    def _toggle_advanced(self, on: bool) -> None:
        self.job_form.setVisible(on)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

    # -- the data check and the step timing, in the background ---------------------------------------
    def _folder_changed(self) -> None:
        self._generation += 1
        self._cancel.set()
        self.reports.clear()
        self.step_times, self.timing_problem = None, ""
        for dest, edit in self.folder_edits.items():
            self._set_option(dest, edit.text().strip())
            self.check_labels[dest].setText("checking…" if edit.text().strip() else "")
        self._show_timing()
        self._check_timer.start()

    def _grouped(self, dest: str) -> bool:
        family = self.family()
        action = next((a for a in folder_options(family) if a.dest == dest), None) if family else None
        return bool(action is not None and action.help and "subfolder" in action.help)

    def _start_checks(self) -> None:
        self._cancel = threading.Event()
        gen, cancel = self._generation, self._cancel
        try:
            target = target_size(self.job_form.options(self.family_name() or "", TRAIN))
        except StudioError:
            target = 0
        for dest, edit in self.folder_edits.items():
            folder = edit.text().strip()
            if not folder:
                continue
            grouped = self._grouped(dest)

            def work(dest=dest, folder=folder, grouped=grouped) -> None:
                report = check_folder(folder, target=target, grouped=grouped, cancelled=cancel.is_set)
                self._send(self._bridge.checked, gen, dest, report)

            threading.Thread(target=work, name=f"data-check-{dest}", daemon=True).start()

    @staticmethod
    def _send(signal: Any, *args: Any) -> None:
        """Emit from a worker thread; the wizard may have been closed and deleted meanwhile."""
        try:
            signal.emit(*args)
        except RuntimeError:
            pass

    def _on_checked(self, gen: int, dest: str, report: DataReport) -> None:
        if gen != self._generation or dest not in self.check_labels:
            return
        self.reports[dest] = report
        label = self.check_labels[dest]
        label.setText(("✔ " if report.ok else "✖ ") + "\n".join(report.lines()))
        label.setStyleSheet("" if report.ok else "color: #c0392b;")
        if self.measure and self.data_ready():
            self._start_timing(gen)

    def data_ready(self) -> bool:
        return bool(self.folder_edits) and all(d in self.reports and self.reports[d].ok for d in self.folder_edits)

    def _start_timing(self, gen: int) -> None:
        family, fam_name = self.family(), self.family_name()
        if family is None or fam_name is None:
            return
        try:
            base = self.job_form.options(fam_name, TRAIN)
        except StudioError as exc:
            self.timing_problem = f"no time estimate: {exc}"
            self._show_timing()
            return
        reports = dict(self.reports)
        defaults = self.job_form.defaults()
        cancel, device = self._cancel, self.device
        self.timing.setText("timing a few training steps on this machine…")

        def work() -> None:
            try:
                with tempfile.TemporaryDirectory(prefix="studio-timing-") as tmp:
                    opts = dict(base)
                    for dest, rep in reports.items():
                        files = [rep.folder / p for p in self._usable_files(rep)]
                        sample = Path(tmp) / f"data-{dest}"
                        sample.mkdir()
                        sample_copy(files, rep.folder, sample)
                        opts[dest] = str(sample)
                    for key, value in (("out", Path(tmp) / "timing" / "model"), ("run_dir", Path(tmp) / "run")):
                        if key in defaults:
                            opts[key] = str(value)
                    if "ema" in defaults:
                        opts["ema"] = 0.0
                    job = family.make_job(TRAIN, **opts)
                    times = measure_step_times(job, device=device, cancelled=cancel.is_set)
                self._send(self._bridge.timed, gen, times)
            except JobCancelled:
                return
            except Exception as exc:  # an estimate is a nicety: any failure is a line, never a crash
                self._send(self._bridge.timed, gen, f"no time estimate ({exc})")

        threading.Thread(target=work, name="step-timing", daemon=True).start()

    @staticmethod
    def _usable_files(report: DataReport) -> list[Path]:
        from studio.core.images import list_images

        bad = {s.path for s in report.skipped}
        return [p.relative_to(report.folder) for p in list_images(report.folder) if p not in bad]

    def _on_timed(self, gen: int, result: object) -> None:
        if gen != self._generation:
            return
        if isinstance(result, dict):
            self.step_times = result
        else:
            self.timing_problem = str(result)
        self._show_timing()

    def preset_steps(self, preset: preset_mod.Preset) -> dict[str, int]:
        return preset_mod.preset_options(preset, self.job_form.defaults())

    def estimate(self, preset: preset_mod.Preset) -> float | None:
        """Seconds the preset's run takes here, from the measured steps (None before the measurement)."""
        if not self.step_times:
            return None
        steps = {k: v for k, v in self.preset_steps(preset).items() if k != "ema"}
        phase_steps = self._phase_steps(steps)
        return estimate_seconds(phase_steps, self.step_times)

    def _phase_steps(self, steps: dict[str, int]) -> dict[str, int]:
        """Steps per measured phase: one phase takes the whole count; several phases in their order
        get the step options in theirs (GADN: steps1, steps_cls, steps2), the generic --steps left out."""
        names = list(self.step_times or {})
        if len(names) <= 1:
            return {names[0] if names else "train": int(steps.get("steps", sum(steps.values())))}
        counts = [v for k, v in steps.items() if k != "steps"] or [int(steps.get("steps", 0))]
        return {name: counts[i] if i < len(counts) else 0 for i, name in enumerate(names)}

    def _show_timing(self) -> None:
        for p in preset_mod.PRESETS:
            steps = self.preset_steps(p)
            count = " + ".join(str(v) for k, v in steps.items() if k != "ema" and (k != "steps" or len(steps) <= 2))
            text = f"{p.title} — {count} steps" if count else p.title
            est = self.estimate(p)
            if est is not None:
                text += f", {duration_text(est)}"
            self.preset_buttons[p.name].setText(text)
        if self.step_times:
            per = ", ".join(f"{v:.2f} s" for v in self.step_times.values())
            self.timing.setText(
                f"measured here: {per} per step on {self.device} (estimates leave out saving and previews)"
            )
        elif self.timing_problem:
            self.timing.setText(self.timing_problem)
        elif not self.data_ready():
            self.timing.setText("the time estimate appears once the folder is checked")

    # -- start -------------------------------------------------------------------------------------
    def make_job(self):
        fam = self.family_name()
        if fam is None:
            raise StudioError("choose a kind of model first")
        for report in self.reports.values():
            if not report.ok:
                raise StudioError(report.problem or f"{report.folder}: no usable images")
        return self.registry.families[fam].make_job(TRAIN, **self.job_form.options(fam, TRAIN))

    def _try_accept(self) -> None:
        try:
            self.job = self.make_job()
        except StudioError as exc:
            self.error.setText(str(exc))
            return
        except (TypeError, ValueError, KeyError) as exc:
            self.error.setText(f"could not start the training: {exc}")
            return
        if self.settings is not None and hasattr(self.settings, "set"):
            self.settings.set("wizard_family", self.family_name())
        self.accept()

    def done(self, result: int) -> None:
        self._cancel.set()  # a running check or timing stops at its next file / step
        super().done(result)


def make_train_wizard(window: Any, measure: bool = True) -> TrainWizard:
    """The wizard for the window: the kind of model is the one on the canvas when it can be trained, else
    the last one trained from the wizard, else that of the studio's starter model (a DCGAN)."""
    from .main_window import DEFAULT_MODEL

    model = window.current_model()
    family = getattr(getattr(model, "card", None), "family", None)
    starter = getattr(window, "store", None) and window.store.entries.get(DEFAULT_MODEL)
    device = window.device_name() if hasattr(window, "device_name") else "auto"
    return TrainWizard(
        window.registry,
        window.settings,
        window,
        family_name=family,
        device=device,
        measure=measure,
        fallback_family=starter.card.family if starter else None,
    )
