"""The main window: wires the model list, canvas, latent panel and job panel to the engine.

It owns the canvas *state* (with undo/redo) and asks the RenderEngine for frames; it never renders
or touches tensors itself. Other features extend it through studio.ui.tools and the public API listed
there (current_model, current_state, set_state, start_job, show_error, refresh_models, signals).
"""

from __future__ import annotations

import asyncio
import copy
import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSpinBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from studio.core.device import available_devices, resolve_device
from studio.core.errors import StudioError
from studio.core.family import LoadedModel, normalise_state
from studio.core.paths import user_models_dir
from studio.core.registry import default_registry
from studio.core.states import fit_state_to_controls, read_state_file, state_model_id
from studio.core.store import ModelStore
from studio.engine import Frame, JobHandle, JobRunner, ModelReady, RenderEngine, RenderFailure, model_key
from studio.engine.frames import SteadyFrameTime

from . import tools as tool_registry
from .canvas import CanvasView
from .direction_strip import DirectionStrips
from .export_dialog import ExportDialog, ExportOptions, export_grid_png
from .gallery_panel import install_gallery
from .history import StateHistory
from .invert_animate import install_invert_animate
from .job_dialog import JobDialog
from .job_panel import (
    CLOSE_CANCEL_AND_SAVE,
    CLOSE_GO_BACK,
    CLOSE_IN_BACKGROUND,
    JobPanel,
    SaveProgressDialog,
    ask_close_during_jobs,
)
from .latent_panel import LatentPanel
from .layout import clamp_to_screen, install_layout
from .model_list import ModelList
from .settings import StudioSettings

CHECKPOINT_SUFFIXES = (".json", ".safetensors")
DEFAULT_MODEL = "emoji-dcgan"  # the bundled starter model, opened on a first start
PRECISION_CHOICES = (
    ("auto", "Auto (bf16 where the CPU has native bf16)"),
    ("bf16", "bf16 (fast)"),
    ("fp32", "fp32 (the reference)"),
)
CANVAS_GREY = 48  # grid gaps on the canvas blend into its background (exports use white)


def no_models_text() -> str:
    return (
        "No models installed yet.\n\n"
        "• Train one: File ▸ Train on my folder…  or  studio train csgan --data FOLDER_OF_IMAGES\n"
        f"• Or copy NAME.safetensors + NAME.json into {user_models_dir()}\n"
        "• Or open a checkpoint: File ▸ Open checkpoint… (Ctrl+O), or drop it on this window."
    )


class MainWindow(QMainWindow):
    stateChanged = Signal(dict)
    modelChanged = Signal(str)
    windowClosed = Signal()  # closed for good (after any running job was dealt with): the app may end

    def __init__(
        self,
        settings: QSettings | None = None,
        model: str | None = None,
        device: str | None = None,
        store_folders: list[Path] | None = None,
        load_tools: bool = True,
    ) -> None:
        super().__init__()
        self.setWindowTitle("GAN Studio")
        self.setAcceptDrops(True)
        self.settings = StudioSettings(settings)
        self.registry = default_registry()
        self.store = ModelStore(store_folders, self.registry)
        dev = device or self.settings.get_str("device", "auto")
        device_problem = ""
        try:
            resolve_device(dev)
        except StudioError as exc:
            device_problem = f"{exc}; using 'auto' instead" if device else ""
            dev = "auto"
        self.engine = RenderEngine(dev, parent=self)
        saved_precision = self.settings.get_str("render_precision", "")
        if saved_precision and "STUDIO_RENDER_PRECISION" not in os.environ:  # the environment wins (benches)
            try:
                self.engine.set_precision(saved_precision)
            except StudioError:
                self.settings.set("render_precision", "auto")  # a damaged setting: back to the default
        self.jobs = JobRunner(self)
        self.close_mode: str | None = None  # set while the window waits for jobs to end before closing
        self._save_dialog: SaveProgressDialog | None = None
        self.history = StateHistory()
        self.last_error = ""
        self._error_box: QMessageBox | None = None
        self._model: LoadedModel | None = None
        self._model_id: str | None = None
        self._model_path: Path | None = None
        self._load_stamp = 0
        self._pending_state: dict[str, Any] | None = None
        self._pending_id: str | None = None
        self._last_frame: Frame | None = None
        self._frame_time = SteadyFrameTime()  # the status bar's steady-state figure (issue 18)
        self._from_history = False  # the model being loaded was asked for by undo / redo
        self._tool_docks: dict[str, QDockWidget] = {}
        self._tool_actions: list[tuple[Any, QAction]] = []  # (ToolSpec, its Tools menu entry)
        self._docks_hidden_for_model: set[str] = set()  # tool docks hidden because the model changed
        self._tool_windows: list[QWidget] = []
        self._tasks: set = set()
        self._external: dict[str, Any] = {}  # models opened from files outside the model folders

        self._build_widgets()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._connect()
        self.gallery = install_gallery(self)  # gallery dock, grid picking, crossbreeding, the last session
        self.layout_keeper = install_layout(self)  # View ▸ Reset layout; the window stays on its screen
        self.invert_animate = install_invert_animate(self)  # File ▸ Export animation…; a dropped picture → latent
        tool_problems = tool_registry.load_tools(self.registry) if load_tools else []
        self.show_plugin_problems([*self.registry.errors, *tool_problems])
        self._add_tool_actions()
        self._restore_settings()
        self._update_undo_actions()
        self.directions = DirectionStrips(self)  # direction strips, names, two-state directions
        self.refresh_models()
        self._open_first_model(model)
        if device_problem:
            self.show_error(device_problem)

    # ------------------------------------------------------------------------------ building
    def _build_widgets(self) -> None:
        self.canvas = CanvasView()
        self.setCentralWidget(self.canvas)
        self.model_list = ModelList()
        self.models_dock = self._dock("Models", self.model_list, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.panel = LatentPanel()
        scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(300)
        self.controls_dock = self._dock("Controls", scroll, Qt.DockWidgetArea.RightDockWidgetArea)
        self.job_panel = JobPanel()
        self.jobs_dock = self._dock("Jobs", self.job_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.info = QLabel()
        self.statusBar().addPermanentWidget(self.info)
        self.plugin_warning = QLabel()
        self.plugin_warning.setObjectName("plugin-warning")
        self.plugin_warning.hide()
        self.plugin_problems: list[str] = []
        self.statusBar().addPermanentWidget(self.plugin_warning)

    def _dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower()}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, slot, shortcut=None, checkable: bool = False, tip: str = "") -> QAction:
        act = QAction(text, self)
        if shortcut:
            if isinstance(shortcut, (list, tuple)):
                act.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                act.setShortcut(QKeySequence(shortcut))
        act.setCheckable(checkable)
        if tip:
            act.setStatusTip(tip)
            act.setToolTip(tip)
        act.triggered.connect(slot)
        self.addAction(act)  # shortcuts work even when the menu bar is hidden
        return act

    def _build_actions(self) -> None:
        self.act_open = self._action(
            "&Open checkpoint…",
            self.open_checkpoint_dialog,
            "Ctrl+O",
            tip="open a NAME.json / NAME.safetensors checkpoint",
        )
        self.act_export = self._action(
            "&Export grid…",
            self.export_dialog,
            "Ctrl+E",
            tip="save a grid of variations as PNG (drop it back to restore)",
        )
        self.act_train = self._action(
            "&Train on my folder…", self.train_dialog, "Ctrl+T", tip="train a new model on a folder of your images"
        )
        self.act_run_job = self._action(
            "Run &job…", lambda: self.train_dialog("*"), tip="any job a family offers (create, fine-tune, encode, …)"
        )
        self.act_refresh = self._action("&Refresh models", self.refresh_models, "F5")
        self.act_quit = self._action("&Quit", self.close, "Ctrl+Q")
        self.act_undo = self._action("&Undo", self.undo, "Ctrl+Z")
        self.act_redo = self._action("&Redo", self.redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
        self.act_random = self._action("&Randomize", self.randomize, "Ctrl+R", tip="a new random seed")
        self.act_reset = self._action("Reset &sliders", lambda: self.panel.reset_edits())
        self.act_grid = self._action(
            "&Grid of variations",
            self._grid_toggled,
            "Ctrl+G",
            checkable=True,
            tip="show an N×M grid of variations around the current image",
        )
        self.act_zoom_in = self._action("Zoom &in", lambda: self.canvas.zoom_in(), "Ctrl++")
        self.act_zoom_out = self._action("Zoom &out", lambda: self.canvas.zoom_out(), "Ctrl+-")
        self.act_zoom_fit = self._action("&Fit to window", lambda: self.canvas.zoom_fit(), "Ctrl+0")
        self.act_smooth: QAction = self._action(
            "&Smooth magnification",
            lambda: self.canvas.set_smooth(self.act_smooth.isChecked()),
            checkable=True,
            tip="blend pixels when zoomed in (off: crisp pixels)",
        )
        self.act_help_models = self._action(
            "Getting models", lambda: QMessageBox.information(self, "Getting models", self.getting_models_text())
        )
        self.act_about = self._action(
            "About GAN Studio",
            lambda: QMessageBox.about(
                self, "GAN Studio", "GAN Studio: a desktop studio for playing with trained image generators."
            ),
        )

    def _build_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        for a in (
            self.act_open,
            self.act_export,
            None,
            self.act_train,
            self.act_run_job,
            self.act_refresh,
            None,
            self.act_quit,
        ):
            m.addSeparator() if a is None else m.addAction(a)
        m = mb.addMenu("&Edit")
        for a in (self.act_undo, self.act_redo, None, self.act_random, self.act_reset):
            m.addSeparator() if a is None else m.addAction(a)
        m = self.view_menu = mb.addMenu("&View")
        for a in (self.act_grid, None, self.act_zoom_in, self.act_zoom_out, self.act_zoom_fit, self.act_smooth, None):
            m.addSeparator() if a is None else m.addAction(a)
        for dock in (self.models_dock, self.controls_dock, self.jobs_dock):
            m.addAction(dock.toggleViewAction())
        self.device_menu = mb.addMenu("&Device")
        devices = [(name, name) for name in available_devices()]
        self.device_group = self._choice_actions(self.device_menu, devices, self.engine.device, self.set_device)
        self.device_menu.addSeparator()
        self.precision_menu = self.device_menu.addMenu("Render &precision")
        self.precision_group = self._choice_actions(
            self.precision_menu, PRECISION_CHOICES, self.engine.precision, self.set_render_precision
        )
        self.tools_menu = mb.addMenu("T&ools")
        m = mb.addMenu("&Help")
        m.addAction(self.act_help_models)
        m.addAction(self.act_about)

    def _choice_actions(self, menu, choices, current: str, pick) -> QActionGroup:
        """One checkable action per (value, text) in ``menu``, exclusive; triggering one calls pick(value)."""
        group = QActionGroup(self)
        for value, text in choices:
            act = QAction(text, self, checkable=True)
            act.setData(value)
            act.setChecked(value == current)
            act.triggered.connect(lambda _checked=False, v=value: pick(v))
            group.addAction(act)
            menu.addAction(act)
        return group

    def _build_toolbar(self) -> None:
        tb = QToolBar("Canvas")
        tb.setObjectName("toolbar-canvas")
        self.addToolBar(tb)
        tb.addAction(self.act_random)
        tb.addAction(self.act_undo)
        tb.addAction(self.act_redo)
        tb.addSeparator()
        tb.addAction(self.act_grid)
        self.rows_box = QSpinBox()
        self.rows_box.setRange(1, 16)
        self.rows_box.setPrefix("rows ")
        self.cols_box = QSpinBox()
        self.cols_box.setRange(1, 16)
        self.cols_box.setPrefix("cols ")
        self.spread_box = QDoubleSpinBox()
        self.spread_box.setRange(0.05, 2.0)
        self.spread_box.setSingleStep(0.05)
        self.spread_box.setPrefix("spread ")
        self.spread_box.setToolTip("how far the variations stray from the centre image")
        for w in (self.rows_box, self.cols_box, self.spread_box):
            tb.addWidget(w)
            w.valueChanged.connect(lambda _v: self._grid_changed())
        tb.addSeparator()
        tb.addAction(self.act_zoom_out)
        tb.addAction(self.act_zoom_fit)
        tb.addAction(self.act_zoom_in)
        tb.addSeparator()
        tb.addAction(self.act_export)

    def _connect(self) -> None:
        self.engine.frameReady.connect(self._on_frame)
        self.engine.renderFailed.connect(self._on_render_failed)
        self.engine.modelReady.connect(self._on_model_ready)
        self.model_list.modelActivated.connect(self._on_model_activated)
        self.panel.stateEdited.connect(self._on_panel_edit)
        self.panel.editFinished.connect(self._commit)
        self.job_panel.jobFinished.connect(self._on_job_finished)
        self.jobs.allFinished.connect(self._on_all_jobs_finished)
        self.canvas.zoomChanged.connect(lambda _z: self._update_info())
        self._commit_timer = QTimer(self)
        self._commit_timer.setSingleShot(True)
        self._commit_timer.setInterval(600)
        self._commit_timer.timeout.connect(self._commit)

    # ------------------------------------------------------------------------------ settings
    def _restore_settings(self) -> None:
        s = self.settings
        geometry = s.get_bytes("geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 820)
            self.resizeDocks([self.jobs_dock], [150], Qt.Orientation.Vertical)
            self.resizeDocks([self.models_dock, self.controls_dock], [250, 320], Qt.Orientation.Horizontal)
        state = s.get_bytes("window_state")
        if state is not None:
            self.restoreState(state)
        clamp_to_screen(self)  # a geometry saved on a larger screen (or a grown window) fits this one
        for box, key, default in ((self.rows_box, "grid_rows", 3), (self.cols_box, "grid_cols", 4)):
            box.blockSignals(True)
            box.setValue(s.get_int(key, default, 1, 16))
            box.blockSignals(False)
        self.spread_box.blockSignals(True)
        self.spread_box.setValue(min(2.0, max(0.05, s.get_float("grid_spread", 0.6))))
        self.spread_box.blockSignals(False)
        self.act_grid.setChecked(s.get_bool("grid_mode", False))
        self.act_smooth.setChecked(s.get_bool("smooth", False))
        self.canvas.set_smooth(self.act_smooth.isChecked())
        zoom = s.get_float("zoom", 0.0)
        self.canvas.set_zoom(zoom if 0 <= zoom <= 64 else 0.0)

    def save_settings(self) -> None:
        s = self.settings
        s.set("geometry", self.saveGeometry())
        s.set("window_state", self.saveState())
        s.set("device", self.engine.device)
        s.set("grid_rows", self.rows_box.value())
        s.set("grid_cols", self.cols_box.value())
        s.set("grid_spread", self.spread_box.value())
        s.set("grid_mode", self.act_grid.isChecked())
        s.set("zoom", self.canvas.zoom)
        s.set("smooth", self.act_smooth.isChecked())
        if self._model_id:
            s.set("last_model", self._model_id)
        s.sync()

    def ask_close_choice(self, handles: list[JobHandle]) -> str:
        """What to do with running jobs when the window closes (a question; tests replace the answer)."""
        return ask_close_during_jobs(self, handles)

    def closeEvent(self, event) -> None:
        """Closing during a job asks first: keep it running in the background (the window hides and
        the app ends with the job), cancel it and wait for its save, or go back. The window never
        goes away under a running job thread (that would abort the process)."""
        running = self.jobs.running
        if running:
            event.ignore()
            if self.close_mode is None:
                choice = self.ask_close_choice(running)
                if choice == CLOSE_GO_BACK or not self.jobs.running:
                    if not self.jobs.running and choice != CLOSE_GO_BACK:  # it ended while we asked
                        QTimer.singleShot(0, self.close)
                    return
                self.close_mode = choice
                self.save_settings()
                if choice == CLOSE_IN_BACKGROUND:
                    titles = ", ".join(h.title for h in running)
                    print(
                        f"GAN Studio: the window is closed; '{titles}' keeps running and GAN Studio quits when it ends",
                        file=sys.stderr,
                    )
                else:
                    for handle in running:
                        handle.cancel()
                    self._save_dialog = SaveProgressDialog(self, running)
                    self._save_dialog.show()
            if self.close_mode == CLOSE_IN_BACKGROUND:
                for other in [*self._tool_windows, self._error_box]:
                    if other is not None:
                        other.hide()
                self.hide()
            return
        if self._save_dialog is not None:
            self._save_dialog.close()
            self._save_dialog = None
        self.save_settings()
        self.jobs.wait_all(10000)  # nothing runs any more: the threads are ending
        self.engine.shutdown()
        for box in (self._error_box,):
            if box is not None:
                box.close()
        super().closeEvent(event)
        self.windowClosed.emit()

    def _on_all_jobs_finished(self) -> None:
        if self.close_mode in (CLOSE_IN_BACKGROUND, CLOSE_CANCEL_AND_SAVE):
            QTimer.singleShot(0, self.close)  # after the job's other finished handlers have run

    # ------------------------------------------------------------------------------ public API
    def current_model(self) -> LoadedModel | None:
        return self._model

    def current_model_id(self) -> str | None:
        return self._model_id

    def current_model_path(self) -> Path | None:
        return self._model_path

    def last_frame(self) -> Frame | None:
        """The newest canvas frame (its states, grid shape and cells: what a click on the canvas picks)."""
        return self._last_frame

    def current_state(self) -> dict[str, Any]:
        return copy.deepcopy(self.history.current) if self.history.current else {}

    def device_name(self) -> str:
        return self.engine.device

    def set_state(self, state: dict[str, Any], undoable: bool = True) -> None:
        """Show ``state`` on the canvas (re-render); one undo step when ``undoable``."""
        if self._model is None:
            self.show_error("Open a model first.")
            return
        s = fit_state_to_controls(normalise_state(state), self._model.controls())
        s["model"] = self._model_id
        self.history.edit(s, live=not undoable)
        self.panel.show_state(s)
        self._state_changed()

    def start_job(self, job) -> JobHandle:
        """Run a studio.core.jobs job in a worker thread and follow it in the job panel."""
        handle = self.jobs.start(job)
        handle.finished.connect(self._report_if_hidden)
        self.job_panel.attach(handle)
        self.jobs_dock.show()
        self.jobs_dock.raise_()
        self.show_message(f"started: {handle.title}")
        return handle

    def show_plugin_problems(self, problems: list[str]) -> None:
        """Plugins (and tools) that failed to load: a lasting warning in the status bar, every problem in
        its tooltip (``studio plugins`` in a terminal lists them too); the rest of the studio works."""
        self.plugin_problems = list(problems)
        if not problems:
            self.plugin_warning.hide()
            return
        count = len(problems)
        self.plugin_warning.setText(f"⚠ {count} plugin problem{'s' if count > 1 else ''}")
        self.plugin_warning.setToolTip("\n".join(problems) + "\n\n(see also: studio plugins)")
        self.plugin_warning.show()
        self.show_message(f"a plugin could not be loaded: {problems[0]}", 15000)

    def show_message(self, text: str, ms: int = 8000) -> None:
        self.statusBar().showMessage(text, ms)

    def show_error(self, text: str) -> None:
        """Status bar + a non-blocking message box; never raises."""
        self.last_error = str(text)
        self.statusBar().showMessage(self.last_error, 15000)
        if self._error_box is not None:
            self._error_box.close()
        box = QMessageBox(QMessageBox.Icon.Warning, "GAN Studio", self.last_error, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.show()
        self._error_box = box

    def getting_models_text(self) -> str:
        from .help_text import getting_models_text  # says what is installed, then how to get more

        return getting_models_text(len(self.store.entries))

    def refresh_models(self) -> None:
        self.store.refresh()
        self.model_list.populate(self.store)
        for mid, card in self._external.items():
            if mid not in self.store.entries:
                self.model_list.add_external(mid, card)
        self.model_list.select(self._model_id)
        if not self.store.entries and self._model is None:
            self.canvas.set_message(no_models_text())

    def open_model(self, name_or_path: str | Path, state: dict[str, Any] | None = None) -> bool:
        """Load a model (id from the list, or a card/safetensors path) in the render thread."""
        try:
            path = self.store.resolve(str(name_or_path))
        except StudioError as exc:
            self.show_error(str(exc))
            return False
        self._pending_state = state
        self._pending_id = str(name_or_path) if str(name_or_path) in self.store.entries else self._id_for_path(path)
        self._load_stamp = self.engine.load(path)
        self.show_message(f"loading {self._pending_id}…")
        return True

    def _id_for_path(self, path: Path) -> str:
        key = model_key(path)
        for mid, entry in self.store.entries.items():
            if model_key(entry.path) == key:
                return mid
        return str(Path(key))

    def set_device(self, name: str) -> None:
        self.engine.set_device(name)
        self._remember_render_choice(self.device_group, "device", name)

    def _remember_render_choice(self, group: QActionGroup, key: str, value: str) -> None:
        """Tick ``value`` in its menu, remember it, and make the open model again with it (same state)."""
        for act in group.actions():
            act.setChecked(act.data() == value)
        self.settings.set(key, value)
        if self._model_id is not None:
            self.open_model(self._model_id, self.current_state())
        self._update_info()

    def set_render_precision(self, name: str) -> None:
        """Device ▸ Render precision: bf16 (fast on CPUs with native bf16), fp32 (the reference) or auto.
        Remembered; the open model is made again in the new precision, keeping the picture's state."""
        try:
            self.engine.set_precision(name)
        except StudioError as exc:
            self.show_error(str(exc))
            return
        self._remember_render_choice(self.precision_group, "render_precision", name)

    # ------------------------------------------------------------------------------ models
    def _open_first_model(self, model: str | None) -> None:
        if model:
            self.open_model(model)
            return
        if self.gallery.restore_session():  # the last canvas and its undo steps, when its model is here
            return
        last = self.settings.get_str("last_model", "")
        if last and last in self.store.entries:
            self.open_model(last)
        elif DEFAULT_MODEL in self.store.entries:
            self.open_model(DEFAULT_MODEL)
        elif self.store.entries:
            roots = [e.id for e in self.store.entries.values() if e.card.parent not in self.store.entries]
            self.open_model((roots or list(self.store.entries))[0])
        else:
            self.canvas.set_message(no_models_text())

    def _on_model_activated(self, model_id: str) -> None:
        if model_id != self._model_id:
            self.open_model(model_id)

    def _on_model_ready(self, ready: ModelReady) -> None:
        if ready.stamp != self._load_stamp:
            return  # a newer load was asked for since
        model = ready.model
        self._model = model
        assert self._pending_id is not None  # open_model() named the model it asked for with this stamp
        self._model_id = self._pending_id
        self._model_path = Path(ready.model_key)
        if self._pending_state is not None:
            state = fit_state_to_controls(normalise_state(self._pending_state), model.controls())
        else:
            carried = self.history.current.get("seed", 0) if self.history.current else 0
            state = model.default_state(self._model_id, int(carried))  # the seed survives a model switch
        state["model"] = self._model_id
        self._pending_state = None
        if self.history.current is None:
            self.history.reset(state)
        elif self._from_history:
            self.history.replace(state)  # undo / redo went back across a model switch: no new step
        else:
            self.history.edit(state)  # a model switch is one undo step: undo goes back to the last model
        self._from_history = False
        self.panel.build(model.controls(), state)
        if self._model_id not in self.store.entries:
            self._external[self._model_id] = model.card
            self.model_list.add_external(self._model_id, model.card)
        self.model_list.select(self._model_id)
        self.setWindowTitle(f"GAN Studio — {self._model_id}")
        self.settings.set("last_model", self._model_id)
        self._update_info()
        self.show_message(f"{self._model_id} ready on {model.device}", 4000)
        self._update_tool_actions()
        self.modelChanged.emit(self._model_id)
        self._state_changed()

    # ------------------------------------------------------------------------------ state and render
    def _on_panel_edit(self, state: dict[str, Any], live: bool) -> None:
        state["model"] = self._model_id
        self.history.edit(state, live=True)
        if live:
            self._commit_timer.stop()
        else:
            self._commit_timer.start()  # keyboard/wheel steps close to each other are one undo step
        self._state_changed()

    def _commit(self) -> None:
        self._commit_timer.stop()
        self.history.commit()
        self._update_undo_actions()

    def _state_changed(self) -> None:
        self._render()
        self._update_undo_actions()
        self.stateChanged.emit(self.current_state())

    def grid_shape(self) -> tuple[int, int]:
        return (self.rows_box.value(), self.cols_box.value()) if self.act_grid.isChecked() else (1, 1)

    def canvas_states(self, rows: int, cols: int) -> list[dict[str, Any]]:
        """The states of a rows×cols grid around the current state (cell 0 = the state itself)."""
        state = self.current_state()
        if rows * cols == 1 or self._model is None:
            return [state]
        return self._model.variations(state, rows * cols, spread=self.spread_box.value())

    def _render(self) -> None:
        if self._model is None or self._model_path is None:
            return
        rows, cols = self.grid_shape()
        self.engine.request(
            self._model_path, self.canvas_states(rows, cols), "canvas", rows, cols, pad=3, background=CANVAS_GREY
        )

    def _on_frame(self, frame: Frame) -> None:
        if frame.channel != "canvas" or self._model_path is None or frame.model_key != str(self._model_path):
            return
        self._last_frame = frame
        self._frame_time.add(frame)
        self.canvas.set_image(frame.image)
        self._update_info()

    def _on_render_failed(self, failure: RenderFailure) -> None:
        self.show_error(failure.message)

    def _grid_toggled(self) -> None:
        self.settings.set("grid_mode", self.act_grid.isChecked())
        self._render()

    def _grid_changed(self) -> None:
        if self.act_grid.isChecked():
            self._render()

    def _update_info(self) -> None:
        parts = [f"device: {self.engine.device}"]
        if self._model is not None:
            parts.insert(0, f"{self._model_id} · {self._model.image_size}px")
            parts.append(str(getattr(self._model, "render_precision", "fp32")))  # what renders, not what was asked
        steady = self._frame_time.value()
        if steady is not None:
            parts.append(f"frame {steady:.1f} ms")
        z = self.canvas.effective_zoom()
        parts.append(f"zoom {'fit' if self.canvas.zoom == 0 else ''} {z:.2g}×")
        self.info.setText("  ·  ".join(parts))

    # ------------------------------------------------------------------------------ undo
    def _update_undo_actions(self) -> None:
        self.act_undo.setEnabled(self.history.can_undo())
        self.act_redo.setEnabled(self.history.can_redo())

    def _apply_history(self, state: dict[str, Any] | None, back=None) -> None:
        if state is None:
            return
        if state.get("model") and state["model"] != self._model_id:  # a step from before a model switch
            self._from_history = self.open_model(state["model"], state)
            if not self._from_history and back is not None:
                back()  # that model is gone (open_model said why): stay on the step on screen
            self._update_undo_actions()
            return
        self.panel.show_state(state)
        self._state_changed()

    def undo(self) -> None:
        self._commit_timer.stop()
        self._apply_history(self.history.undo(), self.history.redo)

    def redo(self) -> None:
        self._commit_timer.stop()
        self.history.commit()
        self._apply_history(self.history.redo(), self.history.undo)

    def randomize(self) -> None:
        if self._model is not None:
            self.panel.randomize()

    # ------------------------------------------------------------------------------ export / drop
    def _spawn(self, coro) -> None:
        """Run a coroutine on the qasync loop (the GUI's asyncio loop over Qt's)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            coro.close()
            self.show_error("internal: the asyncio loop is not running (start the studio with run_app)")
            return
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def export_dialog(self) -> None:
        if self._model is None:
            self.show_error("Open a model first: there is nothing to export yet.")
            return
        rows, cols = self.grid_shape()
        folder = Path(self.settings.folder("export", str(Path.home())))
        name = f"{Path(str(self._model_id)).stem}-seed{self.current_state().get('seed', 0)}-{rows}x{cols}.png"
        size = max(64, self._model.image_size)
        dialog = ExportDialog(ExportOptions(folder / name, rows, cols, size, 2), self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._spawn(self._export_and_report(dialog.options()))

    async def _export_and_report(self, options: ExportOptions) -> None:
        try:
            path = await self.export_grid(options)
        except StudioError as exc:
            self.show_error(str(exc))
        except OSError as exc:
            self.show_error(f"{options.path}: could not save ({exc.strerror or exc})")
        else:
            self.show_message(f"saved {path}")

    async def export_grid(self, options: ExportOptions) -> Path:
        """Render the grid in the engine and save it as a PNG with the canvas state. Raises StudioError."""
        if self._model is None or self._model_path is None:
            raise StudioError("open a model first: there is nothing to export yet")
        state = self.current_state()
        states = self.canvas_states(options.rows, options.cols)
        frame = await self.engine.render_async(self._model_path, states, 1, 1)
        options.path.parent.mkdir(parents=True, exist_ok=True)
        path = export_grid_png(
            options, frame.cells, state, {"model": str(self._model_id), "spread": self.spread_box.value()}
        )
        self.settings.set_folder("export", str(options.path.parent))
        return path

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            self.show_error("Only files from this computer can be dropped here.")
            return
        event.acceptProposedAction()
        self.drop_file(paths[0])

    def drop_file(self, path: str | Path) -> bool:
        """A dropped exported PNG restores its state; a dropped checkpoint opens. Errors are shown."""
        path = Path(path)
        try:
            if path.suffix.lower() in CHECKPOINT_SUFFIXES:
                return self.open_model(path)
            if self.invert_animate.offer(path):  # a plain picture on a latent model: find it in the latent space
                return True
            # checked at the door (types, NaN, sizes); a state names its model by id, never by a path,
            # unless it is the very model the user opened from a file this session (File ▸ Open)
            state = read_state_file(path)
            opened = [m for m in (self._model_id, *self._external) if m]
            model = state_model_id(state, path, self.store.entries, opened)
            if model == self._model_id:
                self.set_state(state)
                self.show_message(f"restored the canvas from {path.name}")
                return True
            self.show_message(f"{path.name}: opening model {model}…")
            return self.open_model(model, state)
        except StudioError as exc:
            from .result_actions import offer_plain_picture  # a plain picture: offer the tools that take it

            if not offer_plain_picture(self, path, exc):
                self.show_error(str(exc))
        except Exception as exc:  # never let a strange file take the window down
            self.show_error(f"{path.name}: could not use this file ({exc!r})")
        return False

    # ------------------------------------------------------------------------------ dialogs
    def open_checkpoint_dialog(self) -> None:
        start = self.settings.folder("open", str(user_models_dir()))
        path, _ = QFileDialog.getOpenFileName(
            self, "Open checkpoint", start, "GAN Studio checkpoints (*.json *.safetensors)"
        )
        if path:
            self.settings.set_folder("open", str(Path(path).parent))
            self.open_model(path)

    def train_dialog(self, job_name: str = "train") -> None:
        from .train_wizard import make_train_wizard  # the artist's way in; the full form is under Advanced

        dialog = (
            make_train_wizard(self)
            if (job_name or "train") == "train"
            else JobDialog(self.registry, job_name, self.settings, self)
        )
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.job is not None:
            self.start_job(dialog.job)

    def _report_if_hidden(self, result) -> None:
        """A job that ended after the window was closed says how it ended in the terminal."""
        if self.close_mode == CLOSE_IN_BACKGROUND:
            print(f"GAN Studio: {result.message}", file=sys.stderr)
            for key, value in result.outputs.items():
                if key != "traceback":
                    print(f"  {key}: {value}", file=sys.stderr)

    def _on_job_finished(self, result) -> None:
        if self.close_mode is not None:  # the window is closing: no message boxes
            return
        if result.ok:
            self.refresh_models()
            card = result.outputs.get("card")
            self.show_message(f"{result.message}" + (f" — saved {card}" if card else ""))
        elif result.status == "failed":
            self.show_error(result.message)
        else:
            self.refresh_models()
            self.show_message(result.message)

    # ------------------------------------------------------------------------------ tools
    def _add_tool_actions(self) -> None:
        """One Tools menu entry per known tool; :meth:`_update_tool_actions` shows those that serve the model."""
        self.tools_menu.clear()
        for _spec, act in self._tool_actions:
            self.removeAction(act)
        self._tool_actions = []
        for spec in tool_registry.registered_tools(discover=False):
            act = self._action(
                spec.menu_title, lambda _c=False, s=spec: self.open_tool(s), spec.shortcut, tip=spec.help
            )
            act.setObjectName(f"tool-action-{spec.id}")
            self.tools_menu.addAction(act)
            self._tool_actions.append((spec, act))
        self._no_tools_action = self.tools_menu.addAction("(no tools for this model)")
        self._no_tools_action.setEnabled(False)
        self._update_tool_actions()

    def _update_tool_actions(self) -> None:
        """Show the tools that serve the current model (a spec's families / capabilities decide, not the
        window); hide the docks of tools that do not, and bring back those hidden by an earlier switch."""
        model = self._model
        shown = 0
        for spec, act in self._tool_actions:
            ok = spec.serves(model)
            act.setVisible(ok)
            act.setEnabled(ok)  # a hidden entry's shortcut must not open it either
            shown += ok
            dock = self._tool_docks.get(spec.id)
            if dock is None:
                continue
            if not ok and dock.isVisible():
                dock.hide()
                self._docks_hidden_for_model.add(spec.id)
            elif ok and spec.id in self._docks_hidden_for_model:
                self._docks_hidden_for_model.discard(spec.id)
                dock.show()
        self._no_tools_action.setVisible(shown == 0)

    def visible_tools(self) -> list:
        """The ToolSpecs the Tools menu offers for the current model."""
        return [spec for spec, act in self._tool_actions if act.isVisible()]

    def tool_widget(self, tool_id: str) -> QWidget | None:
        """The panel of an open tool dock (inside its scroll area), or None."""
        dock = self._tool_docks.get(tool_id)
        inner = dock.widget() if dock is not None else None
        return inner.widget() if isinstance(inner, QScrollArea) else inner

    def open_tool(self, spec) -> QWidget | None:
        """Show a registered tool (docks are created once, dialogs each time). Errors are shown."""
        try:
            if spec.kind == "dock":
                dock = self._tool_docks.get(spec.id)
                if dock is None:
                    # in a scroll area: a tall tool panel scrolls instead of growing the window past the screen
                    # (vertically only: the dock keeps the panel's own minimum width, as before)
                    panel = spec.factory(self)
                    area = QScrollArea()
                    area.setWidget(panel)
                    area.setWidgetResizable(True)
                    area.setFrameShape(QFrame.Shape.NoFrame)
                    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
                    area.setMinimumWidth(panel.minimumSizeHint().width() + area.verticalScrollBar().sizeHint().width())
                    dock = self._dock(spec.menu_title.rstrip("…. "), area, Qt.DockWidgetArea.RightDockWidgetArea)
                    dock.setObjectName(f"tool-{spec.id}")
                    from .tool_tabs import install_tool_tabs, name_tool_dock  # short names, vertical tabs

                    name_tool_dock(dock, spec.menu_title)
                    install_tool_tabs(self)
                    # a tab beside Controls, so opening a tool never squeezes the sliders away
                    self.tabifyDockWidget(self.controls_dock, dock)
                    self._tool_docks[spec.id] = dock
                dock.show()
                dock.raise_()
                return self.tool_widget(spec.id)
            widget = spec.factory(self)
            if not isinstance(widget, QDialog):
                holder = QDialog(self)
                holder.setWindowTitle(spec.menu_title.rstrip("…. "))
                QVBoxLayout(holder).addWidget(widget)
                widget = holder
            widget.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            widget.show()
            self._tool_windows = [w for w in self._tool_windows if w.isVisible()] + [widget]
            return widget
        except Exception as exc:
            self.show_error(f"the tool '{spec.menu_title}' could not open: {exc!r}")
            print(f"tool {spec.id} failed: {exc!r}", file=sys.stderr)
            return None
