"""The `studio` command: generate, models, run — through main() in-process, with a private STUDIO_HOME."""

import json
import pickle

import numpy as np
import pytest
from PIL import Image

from studio.cli import main
from studio.cli.generate_cmd import parse_seeds
from studio.core.export import read_state


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def pattern_model(home):
    assert main(["run", "cppn", "create", "--seed", "2", "--out", str(home / "models" / "pat")]) == 0
    return home / "models" / "pat.json"


def test_parse_seeds():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("5,1, 9") == [5, 1, 9]
    assert parse_seeds("3-1") == [3, 2, 1]


def test_generate_writes_grid_with_state(pattern_model, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["generate", "pat", "--seeds", "0-5", "--cols", "3", "--cell", "32", "-o", str(out)]) == 0
    img = np.asarray(Image.open(out))
    assert img.shape == (2 * 32 + 3 * 2, 3 * 32 + 4 * 2, 3)
    state = read_state(out)
    assert state["seed"] == 0 and state["grid"]["seeds"] == [0, 1, 2, 3, 4, 5]
    # the stored state regenerates the same first cell
    out2 = tmp_path / "again.png"
    assert main(["generate", "pat", "--state", str(out), "--seeds", "0", "--cell", "32", "-o", str(out2)]) == 0
    again = np.asarray(Image.open(out2))
    assert np.array_equal(again[2:34, 2:34], img[2:34, 2:34])


def test_models_list_inspect_validate(pattern_model, capsys):
    assert main(["models", "list"]) == 0
    assert "pat" in capsys.readouterr().out
    assert main(["models", "inspect", "pat"]) == 0
    assert json.loads(capsys.readouterr().out)["family"] == "cppn"
    assert main(["models", "validate", str(pattern_model)]) == 0


def test_validate_reports_pickle_and_truncated_files(pattern_model, home, capsys):
    bad = home / "models"
    (bad / "evil.json").write_text(pattern_model.read_text().replace('"pat"', '"evil"'))
    (bad / "evil.safetensors").write_bytes(pickle.dumps({"x": 1}))
    st = pattern_model.with_suffix(".safetensors").read_bytes()
    (bad / "cut.json").write_text(pattern_model.read_text())
    (bad / "cut.safetensors").write_bytes(st[: len(st) // 2])
    (bad / "foreign.json").write_text('{"hello": 1}')
    assert main(["models", "validate"]) == 1
    out = capsys.readouterr().out
    assert "evil.safetensors: this is a Python pickle" in out
    assert "cut.safetensors" in out
    assert "foreign.json: not a GAN Studio model card" in out
    assert "ok " in out  # the good model still validates


def test_unknown_model_is_a_clear_error(home, capsys):
    assert main(["generate", "no-such-model", "-o", "x.png"]) == 1
    assert "neither a known model id nor a checkpoint file" in capsys.readouterr().err


def test_bad_device_is_a_clear_error(pattern_model, tmp_path, capsys):
    assert main(["generate", "pat", "--device", "tpu", "-o", str(tmp_path / "x.png")]) == 1
    assert "unknown device 'tpu'" in capsys.readouterr().err


def test_ctrl_c_cancels_the_job_and_waits_for_its_result(monkeypatch):
    """Ctrl+C during a CLI job sets the cancel token and still returns the job's own result."""
    import threading
    import time as _time

    from studio.cli import progress
    from studio.core.errors import JobCancelled
    from studio.core.jobs import cancelled_with

    class Slow:
        title = "slow"

        def run(self, reporter):
            try:
                for i in range(10_000):
                    _time.sleep(0.01)
                    reporter.report(i, 10_000)
            except JobCancelled as exc:
                _time.sleep(0.3)  # saving takes a while
                raise cancelled_with({"card": "saved.json"}) from exc

    real_sleep = _time.sleep
    calls = {"n": 0}

    def sleep_then_interrupt(seconds):
        if threading.current_thread() is threading.main_thread():
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
        real_sleep(seconds)

    monkeypatch.setattr(progress.time, "sleep", sleep_then_interrupt)
    res = progress.run_with_progress(Slow())
    assert res.status == "cancelled" and res.outputs == {"card": "saved.json"}


def test_sigterm_cancels_the_job_so_it_saves_its_work():
    """``kill PID`` on a CLI training reaches the job as a cancel (background jobs ignore Ctrl+C)."""
    import os
    import signal
    import threading
    import time as _time

    from studio.cli import progress
    from studio.core.errors import JobCancelled
    from studio.core.jobs import cancelled_with

    before = signal.getsignal(signal.SIGTERM)

    class Slow:
        title = "slow"

        def run(self, reporter):
            threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
            try:
                for i in range(2_000):
                    _time.sleep(0.01)
                    reporter.report(i, 2_000)
            except JobCancelled as exc:
                raise cancelled_with({"card": "saved.json"}) from exc
            return {}

    start = _time.monotonic()
    res = progress.run_with_progress(Slow())
    assert res.status == "cancelled" and res.outputs == {"card": "saved.json"}
    assert _time.monotonic() - start < 10  # well before the 20 s the job would take
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is put back afterwards


@pytest.mark.parametrize(
    "argv, expected",
    [
        (
            ["finetune", "parent", "painting.png", "--nproc", "2", "--steps", "3"],
            ["finetune", "parent", "painting.png", "--steps", "3"],
        ),
        (["train", "csgan", "--data", "photos", "--nproc=2"], ["train", "csgan", "--data", "photos"]),
    ],
)
def test_nproc_runs_the_same_command_under_torchrun(monkeypatch, argv, expected):
    import subprocess

    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    calls = []
    monkeypatch.setattr(subprocess, "call", lambda cmd: calls.append(cmd) or 0)
    assert main(argv) == 0
    assert len(calls) == 1
    assert calls[0][1:] == [
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node=2",
        "-m",
        "studio",
        *expected,
    ]
