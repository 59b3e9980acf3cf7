"""The threading policy is in force in a fresh ``studio`` process (read back with --version), set before
torch was imported; a user's own settings win; the policy module itself never imports torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core.threads import apply_thread_policy


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "STUDIO_THREADS")}
    env.update(extra)
    return env


def test_a_fresh_studio_process_runs_with_passive_waits_set_before_torch():
    studio = Path(sys.executable).parent / "studio"
    cmd = [str(studio)] if studio.exists() else [sys.executable, "-m", "studio"]
    out = subprocess.run([*cmd, "--version"], env=_env(), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "OMP_WAIT_POLICY=PASSIVE" in out.stdout
    assert "set before torch" in out.stdout and "NOT" not in out.stdout


def test_the_users_own_settings_win():
    env = {"OMP_WAIT_POLICY": "ACTIVE", "STUDIO_THREADS": "1"}
    decided = apply_thread_policy(env)
    assert decided["wait_policy"] == "ACTIVE" and env["OMP_NUM_THREADS"] == "1"
    fresh: dict[str, str] = {}
    assert apply_thread_policy(fresh)["wait_policy"] == "PASSIVE" and "OMP_NUM_THREADS" not in fresh


def test_the_policy_module_does_not_import_torch():
    code = "import sys, studio.core.threads as t; t.apply_thread_policy(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_render_threads_one_for_a_frame_all_for_a_grid(monkeypatch):
    from studio.core.threads import render_threads

    monkeypatch.delenv("STUDIO_RENDER_THREADS", raising=False)
    assert render_threads(1, 2) == 1 and render_threads(16, 2) == 2
    monkeypatch.setenv("STUDIO_RENDER_THREADS", "3")
    assert render_threads(1, 2) == 3


def test_a_threads_own_count_does_not_leak_to_later_threads():
    import threading

    import torch

    from studio.core.threads import set_threads_here

    default = torch.get_num_threads()
    seen: dict[str, int] = {}

    def render_thread() -> None:
        set_threads_here(1)
        seen["render"] = torch.get_num_threads()

    def job_thread() -> None:
        seen["job"] = torch.get_num_threads()

    for target in (render_thread, job_thread):
        t = threading.Thread(target=target)
        t.start()
        t.join()
    assert seen["render"] == 1
    assert seen["job"] == default == torch.get_num_threads()


def test_a_job_thread_runs_below_the_render_thread():
    import threading

    import pytest

    from studio.core.threads import JOB_NICE, lower_priority_here

    if not hasattr(os, "getpriority"):
        pytest.skip("no per-thread priorities here")
    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: dict[str, int] = {}

    def job() -> None:
        tid = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, tid)
        if lower_priority_here():
            seen["delta"] = os.getpriority(os.PRIO_PROCESS, tid) - before

    t = threading.Thread(target=job)
    t.start()
    t.join()
    assert seen.get("delta") == JOB_NICE
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before  # only that thread


def _drive(tuner, frames, cost, renders):
    """Render ``renders`` times with simulated times ``cost[threads]``; returns the counts used."""
    used = []
    for _ in range(renders):
        n = tuner.choose("model", frames)
        tuner.record("model", frames, n, cost[n])
        used.append(n)
    return used


@pytest.mark.parametrize(
    ("cost", "winner"),
    [({1: 1.0, 2: 1.5}, 1), ({1: 2.0, 2: 1.4}, 2), ({1: 2.0, 2: 1.9}, 1)],  # a frame: 5 % is not enough for 2
)
def test_the_render_thread_tuner_settles_on_the_faster_count(monkeypatch, cost, winner):
    from studio.core.threads import RenderThreadTuner

    monkeypatch.delenv("STUDIO_RENDER_THREADS", raising=False)
    tuner = RenderThreadTuner(2)
    used = _drive(tuner, 1, cost, 200)
    measured = 2 * tuner.samples
    assert sorted(set(used[:measured])) == [1, 2]  # both measured first
    assert tuner.chosen("model", 1) == winner
    later = used[measured:]
    assert later.count(winner) / len(later) > 0.95  # then the faster one, with a little exploring
    assert 0 < len(later) - later.count(winner) <= len(later) // tuner.explore_every + 1


def test_the_render_thread_tuner_keeps_its_guess_unless_the_other_count_is_clearly_faster(monkeypatch):
    from studio.core.threads import RenderThreadTuner

    monkeypatch.delenv("STUDIO_RENDER_THREADS", raising=False)
    tuner = RenderThreadTuner(2)
    _drive(tuner, 16, {1: 3.8, 2: 4.0}, 60)  # a grid: all threads unless one is 10 % faster
    assert tuner.chosen("model", 16) == 2
    _drive(tuner, 16, {1: 3.0, 2: 4.0}, 600)
    assert tuner.chosen("model", 16) == 1


def test_the_render_thread_tuner_follows_a_change_in_load(monkeypatch):
    from studio.core.threads import RenderThreadTuner

    monkeypatch.delenv("STUDIO_RENDER_THREADS", raising=False)
    tuner = RenderThreadTuner(2)
    _drive(tuner, 16, {1: 8.0, 2: 4.0}, 100)  # a quiet machine: the grid is faster on two threads
    assert tuner.chosen("model", 16) == 2
    _drive(tuner, 16, {1: 8.0, 2: 20.0}, 600)  # a busy one: a parallel region waits for its slow thread
    assert tuner.chosen("model", 16) == 1
    assert tuner.chosen("model", 1) is None  # single frames are measured on their own


def test_a_fixed_render_thread_count_is_never_tuned(monkeypatch):
    from studio.core.threads import RenderThreadTuner

    monkeypatch.setenv("STUDIO_RENDER_THREADS", "3")
    tuner = RenderThreadTuner(2)
    assert set(_drive(tuner, 1, {3: 1.0}, 50)) == {3} and tuner.chosen("model", 1) == 3


def test_exploring_backs_off_while_the_other_count_stays_slower_and_comes_back_when_it_is_faster(monkeypatch):
    from studio.core.threads import RenderThreadTuner

    monkeypatch.delenv("STUDIO_RENDER_THREADS", raising=False)
    tuner = RenderThreadTuner(2)
    used = _drive(tuner, 1, {1: 1.0, 2: 3.0}, 2000)  # a busy machine: two threads are 3x slower
    later = used[2 * tuner.samples :]
    explored = later.count(2)
    assert 0 < explored <= 10  # 32, 64, ... then every 512: under 1 % (not one in 32)
    assert later[:200].count(2) >= 2  # early on it still checks often
    used = _drive(tuner, 1, {1: 3.0, 2: 1.0}, 1500)  # the load is gone: two threads are faster now
    assert tuner.chosen("model", 1) == 2
    assert used[-100:].count(2) > 95
