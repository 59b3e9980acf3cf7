"""studio.cli.progress.StopSignals: the first signal cancels and says so at once, the second ends the
process at once and says which checkpoint is the last complete one."""

from __future__ import annotations

import io
import signal

import pytest

from studio.cli import progress
from studio.core.jobs import CancelToken, Progress


class _Exited(Exception):
    pass


@pytest.fixture
def exits(monkeypatch):
    codes = []

    def fake_exit(code):
        codes.append(code)
        raise _Exited()

    monkeypatch.setattr(progress, "_exit_now", fake_exit)
    return codes


class Job:
    title = "job"


@pytest.mark.parametrize(
    "checkpoint, expected",
    [
        ((40, "/runs/x/run.safetensors"), "the last complete checkpoint is step 40 (/runs/x/run.safetensors)"),
        (None, "this run has no complete checkpoint yet"),
        (False, "a file that was being written is left as it was before"),
    ],
)
def test_first_signal_cancels_second_stops_at_once(exits, checkpoint, expected):
    job = Job()
    if checkpoint is not False:
        job.last_checkpoint = checkpoint  # type: ignore[attr-defined]
    cancel, out, bar = CancelToken(), io.StringIO(), progress.TextProgress(io.StringIO())
    bar(Progress(step=42, total=100, losses={"g": 1.0}))
    stop = progress.StopSignals(job, cancel, bar, stream=out)
    stop(signal.SIGINT, None)
    assert cancel.cancelled and exits == []
    assert "stopping: saving step 42…" in out.getvalue() and "press Ctrl+C again" in out.getvalue()
    with pytest.raises(_Exited):
        stop(signal.SIGINT, None)
    assert exits == [130]
    assert expected in out.getvalue()


def test_sigterm_says_terminated_and_handlers_are_put_back(exits):
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    out = io.StringIO()
    stop = progress.StopSignals(Job(), CancelToken(), None, stream=out)
    assert stop.install()
    assert signal.getsignal(signal.SIGTERM) is stop
    stop(signal.SIGTERM, None)
    assert out.getvalue().strip().startswith("terminated: stopping: saving the work so far…")
    stop.restore()
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
