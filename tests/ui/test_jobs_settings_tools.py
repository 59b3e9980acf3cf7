"""Job panel Cancel, settings across window instances, the empty-studio message, the tools hook."""

from __future__ import annotations

import time

import numpy as np

from studio.core.family import Family
from studio.ui import tools
from studio.ui.job_dialog import JobDialog


class LoopJob:
    title = "loop job"

    def __init__(self, steps=1_000_000, **_):
        self.steps = steps
        self.step = 0

    def run(self, reporter):
        for step in range(1, self.steps + 1):
            self.step = step  # read by the test while the job runs
            time.sleep(0.002)
            preview = np.full((8, 8, 3), 128, np.uint8) if self.step % 20 == 0 else None
            reporter.report(self.step, self.steps, losses={"d": 1 / self.step, "g": 2 / self.step}, preview=preview)
        return {"card": "x.json"}


def test_cancel_in_the_job_panel_stops_the_job_within_a_second(window, qtbot):
    job = LoopJob()
    handle = window.start_job(job)
    qtbot.waitUntil(
        lambda: (
            job.step > 30 and bool(window.job_panel.curve.series) and not window.job_panel.preview.pixmap().isNull()
        ),
        timeout=5000,
    )  # live preview shown
    assert "/ 1000000" in window.job_panel.bar.format()  # step / total on the bar
    t0 = time.perf_counter()
    window.job_panel.cancel_button.click()
    qtbot.waitUntil(lambda: handle.result is not None, timeout=1000)
    assert time.perf_counter() - t0 < 1.0
    assert handle.result.status == "cancelled"
    stopped = job.step
    qtbot.wait(50)
    assert job.step == stopped
    assert "cancelled" in window.job_panel.status.text()
    assert set(window.job_panel.curve.series) == {"d", "g"}


class ScoredJob:
    """Reports losses every step and a KID every 5 steps (as trainers with --kid-every do)."""

    title = "scored job"

    def run(self, reporter):
        for step in range(1, 21):
            scores = {"kid@mobilenet_v2": 1.0 / step} if step % 5 == 0 else {}
            reporter.report(step, 20, losses={"g": 1.0}, metrics={"lr": 0.1, **scores})
        return {}


def test_in_training_kid_gets_its_own_curve_in_the_job_panel(window, qtbot):
    panel = window.job_panel
    assert not panel.score_curve.isVisibleTo(panel)  # hidden until a job measures a score
    handle = window.start_job(ScoredJob())
    qtbot.waitUntil(lambda: handle.result is not None, timeout=5000)
    qtbot.wait(50)
    assert [s for s, _ in handle.score_history] == [5, 10, 15, 20]
    assert panel.score_curve.isVisibleTo(panel)
    assert [p[0] for p in panel.score_curve.series["kid@mobilenet_v2"]] == [5, 10, 15, 20]
    assert set(panel.curve.series) == {"g"}  # scores are not mixed into the loss axis


class BurstThenBusyJob:
    """Reports 200 steps as fast as it can, then works a while without reporting (like a KID pass)."""

    title = "burst job"

    def __init__(self):
        import threading

        self.release = threading.Event()

    def run(self, reporter):
        for step in range(1, 201):
            reporter.report(step, 400, losses={"g": 1.0})
        self.release.wait(5)
        return {}


def test_the_last_event_of_a_burst_is_shown_while_the_job_is_busy(window, qtbot):
    job = BurstThenBusyJob()
    handle = window.start_job(job)
    try:
        qtbot.waitUntil(lambda: window.job_panel.bar.format().startswith("200 / 400"), timeout=2000)
        assert handle.result is None  # shown while the job is still running
    finally:
        job.release.set()
        qtbot.waitUntil(lambda: handle.result is not None, timeout=5000)


def test_settings_persist_across_two_windows(make_window, qtbot):
    w1 = make_window()
    w1.rows_box.setValue(5)
    w1.cols_box.setValue(6)
    w1.act_grid.setChecked(True)
    w1.set_device("cpu")
    w1.resize(700, 500)  # inside the offscreen screen (800x600)
    with qtbot.waitSignal(w1.modelChanged, timeout=10000):
        w1.open_model("tiny-child")
    w1.close()
    w2 = make_window()
    assert (w2.rows_box.value(), w2.cols_box.value()) == (5, 6)
    assert w2.act_grid.isChecked()
    assert w2.device_name() == "cpu"
    assert w2.current_model_id() == "tiny-child"
    assert abs(w2.width() - 700) <= 8 and abs(w2.height() - 500) <= 8  # geometry restored


def test_window_without_models_says_how_to_get_one(make_window, tmp_path):
    w = make_window(folders=[tmp_path / "empty"], wait=False)
    assert "No models installed" in w.canvas.message()
    assert "studio train" in w.canvas.message()
    w.export_dialog()  # nothing to export: a clear message, no crash
    assert "Open a model first" in w.last_error


def test_registered_tool_opens_and_a_broken_one_does_not_break_the_window(make_window, qtbot):
    from PySide6.QtWidgets import QLabel

    seen = {}

    def factory(window):
        seen["model"] = window.current_model_id()
        return QLabel("hello tool")

    def broken(window):
        raise RuntimeError("boom")

    tools.register_tool(tools.ToolSpec("t-ok", "Test tool…", None, factory))
    tools.register_tool(tools.ToolSpec("t-bad", "Broken tool…", None, broken, kind="dialog"))
    try:
        assert tools.load_tool_modules(["studio.ui.no_such_tool"])  # reported, not raised
        w = make_window()
        titles = [a.text() for a in w.tools_menu.actions()]
        assert "Test tool…" in titles and "Broken tool…" in titles
        widget = w.open_tool(next(t for t in tools.registered_tools() if t.id == "t-ok"))
        assert isinstance(widget, QLabel) and seen["model"] == "tiny"
        assert w.open_tool(next(t for t in tools.registered_tools() if t.id == "t-bad")) is None
        assert "boom" in w.last_error
    finally:
        tools.unregister_tool("t-ok")
        tools.unregister_tool("t-bad")


class TrainableFamily(Family):
    name = "trainable-test"
    title = "Trainable test family"

    def load(self, tensors, card, device):
        raise NotImplementedError

    def jobs(self):
        return {"train": "train a loop"}

    def add_job_arguments(self, name, parser):
        parser.add_argument("--data", required=True, help="folder of images")
        parser.add_argument("--steps", type=int, default=100)
        parser.add_argument("--lr", type=float, default=2e-4)
        parser.add_argument("--size", type=int, choices=[64, 112], default=64)
        parser.add_argument("--resume", action="store_true")

    def make_job(self, name, **options):
        job = LoopJob(**options)
        job.options = options
        return job


def test_train_dialog_builds_a_form_from_the_job_options(window, tmp_path):
    if TrainableFamily.name not in window.registry.families:
        window.registry.add(TrainableFamily, "tests")
    dialog = JobDialog(window.registry, "train", window.settings, window, family_name=TrainableFamily.name)
    assert dialog.selected() == (TrainableFamily.name, "train")
    dialog._try_accept()  # data missing: a clear message, dialog stays open
    assert "data" in dialog.error.text() and dialog.job is None
    dialog.field("data").setText(str(tmp_path))
    dialog.field("steps").setText("abc")
    dialog._try_accept()
    assert "steps" in dialog.error.text()
    dialog.field("steps").setText("7")
    dialog.field("size").setCurrentText("112")
    dialog.field("resume").setChecked(True)
    dialog._try_accept()
    opts = dialog.job.options
    assert opts["steps"] == 7 and opts["size"] == 112 and opts["resume"] is True and opts["lr"] == 2e-4
    assert opts["command"] == f"studio train {TrainableFamily.name} --data {tmp_path} --steps 7 --size 112 --resume"


def test_an_unavailable_device_is_reported_and_auto_is_used(make_window):
    # no machine has a hundredth GPU: without CUDA the device is missing, with CUDA its index is out of range
    w = make_window(device="cuda:99")
    assert w.device_name() == "auto" and "cuda:99" in w.last_error and "using 'auto' instead" in w.last_error


def test_the_train_form_offers_the_shared_training_flags_but_not_nproc(window):
    from studio.ui.job_dialog import job_options

    dests = {a.dest for a in job_options(window.registry.get("csgan"), "train")}
    assert {"steps", "batch", "checkpoint_every", "time_limit", "precision", "ema", "resume"} <= dests
    assert "nproc" not in dests  # several processes are started by torchrun from the CLI only


class ImageResultJob:
    """Finishes with an image in its outputs, as the translate and encode jobs do for their tools."""

    title = "image job"

    def run(self, reporter):
        import numpy as np

        reporter.report(1, 1, losses={"g": 1.0})
        return {"image": np.zeros((400, 600, 3), np.uint8), "card": "/models/x.json", "step": 1, "kid": 0.123456}


def test_a_finished_job_shows_its_short_outputs_not_arrays_and_the_window_keeps_its_width(window, qtbot):
    width = window.width()
    handle = window.start_job(ImageResultJob())
    qtbot.waitUntil(lambda: handle.result is not None, timeout=5000)
    qtbot.wait(50)
    text = window.job_panel.status.text()
    assert "card: /models/x.json" in text and "kid: 0.1235" in text and "step: 1" in text
    assert "image:" not in text and "[[" not in text
    assert window.width() == width
