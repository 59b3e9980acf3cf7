"""The shared Trainer's guarantees, on a toy GAN: exact resume, phases, Cancel within a second, NaN stop,
time limit, refusals, EMA export, atomic one-file run state, precision options."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from studio.core.checkpoint import load_checkpoint, read_card
from studio.core.errors import StudioError
from studio.core.jobs import CancelToken, run_job
from studio.train import RunFolder, TrainerOptions

from .toy_task import toy_job


@pytest.fixture(autouse=True)
def _one_thread(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _losses(events):
    return {e.step: e.losses for e in events if e.losses}


def test_resume_is_exact_mid_run(tmp_path):
    straight = []
    assert run_job(toy_job(tmp_path / "a", steps=12), straight.append).ok
    first, second = [], []
    assert run_job(toy_job(tmp_path / "b", steps=5), first.append).ok
    res = run_job(toy_job(tmp_path / "b", steps=12, resume=True), second.append)
    assert res.ok, res.message
    a, b = _losses(straight), {**_losses(first), **_losses(second)}
    assert sorted(_losses(second)) == list(range(6, 13))
    assert a == b  # bit-identical losses at every step
    ga, _ = load_checkpoint(tmp_path / "a" / "models" / "toy.json")
    gb, card = load_checkpoint(tmp_path / "b" / "models" / "toy.json")
    assert all(torch.equal(ga[k], gb[k]) for k in ga)
    assert card.extra["counter"] == 12 and card.training.steps == 12
    assert len(card.extra["training_run"]["commands"]) <= 2


def test_resume_is_exact_across_phases_and_from_mid_phase_checkpoints(tmp_path):
    straight = []
    assert run_job(toy_job(tmp_path / "a", phases=(4, 3, 5)), straight.append).ok
    token = CancelToken()
    first = []

    def stop_at_9(p):
        first.append(p)
        if p.step == 9:
            token.cancel()

    res = run_job(toy_job(tmp_path / "b", phases=(4, 3, 5)), stop_at_9, token)
    assert res.status == "cancelled" and res.outputs["step"] == 9
    meta = RunFolder(tmp_path / "b" / "run").load()[1]
    assert (meta["phase"], meta["phase_step"], meta["step"]) == ("p2", 2, 9)
    rest = []
    assert run_job(toy_job(tmp_path / "b", phases=(4, 3, 5), resume=True), rest.append).ok
    assert _losses(straight) == {**_losses(first), **_losses(rest)}
    assert [e.message for e in straight if e.losses][:5] == ["phase 0"] * 4 + ["phase 1"]


def test_cancel_stops_within_a_second_and_leaves_a_resumable_run(tmp_path):
    token = CancelToken()
    job = toy_job(tmp_path, steps=100000, sleep_s=0.02)
    result = []
    worker = threading.Thread(target=lambda: result.append(run_job(job, None, token)))
    worker.start()
    time.sleep(1.0)
    t0 = time.perf_counter()
    token.cancel()
    worker.join(10)
    assert result and time.perf_counter() - t0 < 1.0
    res = result[0]
    assert res.status == "cancelled" and res.outputs["status"] == "cancelled"
    step = res.outputs["step"]
    assert step > 5 and read_card(res.outputs["card"]).training.steps == step
    events = []
    assert run_job(toy_job(tmp_path, steps=step + 2, resume=True), events.append).ok
    assert sorted(_losses(events)) == [step + 1, step + 2]


def test_nan_stops_with_a_clear_message_and_keeps_the_last_checkpoint(tmp_path):
    res = run_job(toy_job(tmp_path, steps=20, checkpoint_every=4, nan_at=7))
    assert res.status == "failed"
    assert "diverged at step 7" in res.message and "'g'" in res.message and "step 4" in res.message
    meta = RunFolder(tmp_path / "run").load()[1]
    assert meta["step"] == 4
    assert run_job(toy_job(tmp_path, steps=6, resume=True)).ok  # resumable from step 4


def test_progress_tells_the_time_left_under_a_time_limit_and_nothing_without_one(tmp_path):
    limited, free = [], []
    assert run_job(toy_job(tmp_path / "a", steps=20, time_limit=10.0), limited.append).ok
    assert run_job(toy_job(tmp_path / "b", steps=5), free.append).ok
    left = [e.time_left_s for e in limited if e.losses]  # the training steps (not the save messages)
    assert left and all(x is not None and 0 < x <= 600.0 for x in left)
    assert left == sorted(left, reverse=True)
    assert all(e.time_left_s is None for e in free)


def test_time_limit_saves_exports_and_resumes(tmp_path):
    res = run_job(toy_job(tmp_path, steps=100000, sleep_s=0.01, time_limit=0.005))  # 0.3 s
    assert res.ok and res.outputs["status"] == "time_limit"
    step = res.outputs["step"]
    assert 3 < step < 100000
    assert read_card(res.outputs["card"]).extra["training_run"]["status"] == "time_limit"
    assert RunFolder(tmp_path / "run").load()[1]["step"] == step


def test_refuses_to_overwrite_a_run_or_a_model(tmp_path):
    assert run_job(toy_job(tmp_path, steps=2)).ok
    again = run_job(toy_job(tmp_path, steps=2))
    assert again.status == "failed" and "already holds a run" in again.message
    other_run = run_job(toy_job(tmp_path, steps=2, run_dir=None))  # the toy's run dir is fixed: same refusal
    assert other_run.status == "failed"
    (tmp_path / "run" / "run.safetensors").unlink()
    refused = run_job(toy_job(tmp_path, steps=2))
    assert refused.status == "failed" and "already exists" in refused.message and "--force" in refused.message
    assert run_job(toy_job(tmp_path, steps=2, force=True)).ok


def test_a_run_of_the_old_loops_is_refused_with_directions(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "checkpoint.json").write_text("{}")
    res = run_job(toy_job(tmp_path, steps=2, resume=True))
    assert res.status == "failed" and "older GAN Studio" in res.message and "--run-dir" in res.message


def test_ema_is_what_is_exported(tmp_path):
    res = run_job(toy_job(tmp_path, steps=30, ema=0.9))
    assert res.ok, res.message
    exported, card = load_checkpoint(res.outputs["card"])
    state, meta = RunFolder(tmp_path / "run").load()
    assert meta["ema"] == 0.9 and card.extra["training_run"]["ema"]["decay"] == 0.9
    assert "EMA" in card.training.notes
    for key, value in exported.items():
        name = key.split(".", 1)[1]
        assert torch.equal(value, state[f"ema.G.{name}"])
    assert any(
        not torch.equal(state[f"ema.G.{k.split('.', 1)[1]}"], state[f"net.G.{k.split('.', 1)[1]}"])
        for k in exported
        if k.endswith("weight")
    )
    # and resuming keeps the average exact
    straight = run_job(toy_job(tmp_path / "s", steps=30, ema=0.9))
    run_job(toy_job(tmp_path / "r", steps=12, ema=0.9))
    resumed = run_job(toy_job(tmp_path / "r", steps=30, ema=0.9, resume=True))
    a, _ = load_checkpoint(straight.outputs["card"])
    b, _ = load_checkpoint(resumed.outputs["card"])
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_failed_save_leaves_the_previous_state_whole(tmp_path, monkeypatch):
    assert run_job(toy_job(tmp_path, steps=4)).ok
    before = (tmp_path / "run" / "run.safetensors").read_bytes()
    import safetensors.torch as st

    real_save = st.save_file

    def half_write(tensors, path, metadata=None):
        real_save(tensors, path, metadata=metadata)
        with open(path, "r+b") as fh:  # a kill in the middle of writing: half the bytes
            fh.truncate(len(before) // 2)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(st, "save_file", half_write)
    res = run_job(toy_job(tmp_path, steps=8, checkpoint_every=2, resume=True))
    assert res.status == "failed" and "could not save the run state" in res.message
    monkeypatch.setattr(st, "save_file", real_save)
    assert (tmp_path / "run" / "run.safetensors").read_bytes() == before
    assert not list((tmp_path / "run").glob(".*.tmp"))
    assert RunFolder(tmp_path / "run").load()[1]["step"] == 4


def test_temp_files_of_a_killed_save_are_cleaned_and_never_loaded(tmp_path):
    assert run_job(toy_job(tmp_path, steps=3)).ok
    stale = tmp_path / "run" / ".run.safetensors.abc123.tmp"
    stale.write_bytes(b"half a file")
    assert run_job(toy_job(tmp_path, steps=5, resume=True)).ok
    assert not stale.exists()


def test_damaged_run_state_is_a_clear_error(tmp_path):
    assert run_job(toy_job(tmp_path, steps=2)).ok
    path = tmp_path / "run" / "run.safetensors"
    path.write_bytes(path.read_bytes()[:100])
    res = run_job(toy_job(tmp_path, steps=4, resume=True))
    assert res.status == "failed" and "run.safetensors" in res.message


def test_bf16_trains_and_fp16_on_the_cpu_is_refused(tmp_path):
    res = run_job(toy_job(tmp_path / "bf", steps=4, precision="bf16"))
    assert res.ok, res.message
    assert read_card(res.outputs["card"]).extra["training_run"]["precision"] == "bf16"
    res = run_job(toy_job(tmp_path / "fp", steps=4, precision="fp16"))
    assert res.status == "failed" and "fp16 needs a GPU" in res.message


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_cuda_training_in_every_precision(tmp_path, precision):
    res = run_job(toy_job(tmp_path, steps=20, device="cuda", precision=precision))
    assert res.ok, res.message


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"steps": 0}, "--steps"),
        ({"ema": 1.5}, "--ema"),
        ({"precision": "fp8"}, "--precision"),
        ({"time_limit": -1}, "--time-limit"),
        ({"checkpoint_every": -2}, "--checkpoint-every"),
    ],
)
def test_bad_options_are_clear_errors(bad, words):
    with pytest.raises(StudioError, match=words):
        TrainerOptions.from_mapping(bad)


def test_save_every_is_an_alias_of_checkpoint_every():
    assert TrainerOptions.from_mapping({"save_every": 7}).checkpoint_every == 7
    assert TrainerOptions.from_mapping({"save_every": 7, "checkpoint_every": 3}).checkpoint_every == 3


def test_a_new_run_cancelled_before_its_first_step_saves_nothing(tmp_path):
    token = CancelToken()
    token.cancel()
    res = run_job(toy_job(tmp_path, steps=5), None, token)
    assert res.status == "cancelled" and not res.outputs
    assert not (tmp_path / "run" / "run.safetensors").exists() and not (tmp_path / "models").exists()


def test_force_starts_a_saved_run_over(tmp_path):
    assert run_job(toy_job(tmp_path, steps=6)).ok
    events = []
    res = run_job(toy_job(tmp_path, steps=3, force=True), events.append)
    assert res.ok, res.message
    assert sorted(_losses(events)) == [1, 2, 3] and RunFolder(tmp_path / "run").load()[1]["step"] == 3
