"""JobSlot: a tool's one running job; reports of a job it replaced must not reach the tool."""

from __future__ import annotations

from studio.ui.widgets import JobSlot, window_device


class _Signal:
    def __init__(self):
        self.slots = []

    def connect(self, slot):
        self.slots.append(slot)

    def emit(self, value):
        for slot in self.slots:
            slot(value)


class _Handle:
    def __init__(self):
        self.progress, self.finished = _Signal(), _Signal()
        self.running, self.cancelled = True, False

    def cancel(self):
        self.cancelled = True


class _Window:
    def __init__(self):
        self.handles = []

    def start_job(self, job):
        self.handles.append(_Handle())
        return self.handles[-1]


def test_only_the_current_job_reports():
    progress, finished = [], []
    window = _Window()
    slot = JobSlot(window, progress.append, finished.append)
    assert not slot.running
    first = slot.start("job 1")
    second = slot.start("job 2")
    assert slot.running and slot.handle is second
    first.progress.emit("old progress")
    first.finished.emit("old result")
    second.progress.emit("new progress")
    second.finished.emit("new result")
    assert progress == ["new progress"] and finished == ["new result"]
    slot.cancel()
    assert second.cancelled and not first.cancelled


def test_window_device_defaults_to_auto():
    assert window_device(object()) == "auto"
    window = _Window()
    window.device_name = lambda: "cpu"
    assert window_device(window) == "cpu"


def test_job_panel_eta_says_when_the_time_limit_ends_the_run():
    from studio.core.jobs import Progress
    from studio.ui.job_panel import _eta

    # 1 step a second with 199,990 steps left, but the time limit stops it in 5 minutes
    assert _eta(Progress(step=10, total=200_000, elapsed_s=10.0, time_left_s=300.0)) == " · 5 min left (time limit)"
    assert _eta(Progress(step=10, total=40, elapsed_s=10.0, time_left_s=300.0)) == " · 30 s left"
    assert _eta(Progress(step=10, total=40, elapsed_s=10.0)) == " · 30 s left"
