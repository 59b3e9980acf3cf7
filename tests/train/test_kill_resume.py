"""The crash test: SIGKILL a real ``studio train`` (the tiny CPPN plugin family) at many points, aimed
inside each save (``STUDIO_TEST_PAUSE_IN_SAVE`` pauses a save at a named rename) and at random, and
after every kill: the run resumes (``--resume`` reaches its next step) and the model exported by an
earlier run stays loadable, as the old model or the new one, never a mix. At the end the run finishes
and no temp or pending file is left."""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

import pytest
import torch

from studio.core.checkpoint import load_checkpoint
from studio.train import RunFolder

from .cli_run import StudioRun, cppn_train_args, make_stripes

# (pause point, which export survives the kill: "old" = the one before this run, "new" = this run's)
AIMED = [
    ("run.safetensors:before_rename@1", "old"),  # the first periodic save of the run state
    ("run.safetensors:after_rename@2", "old"),
    (".cppn.json.pending:before_rename", "old"),  # the export: its new card is not in place yet
    ("cppn.safetensors:before_rename", "old"),  # pending card in place, tensors not renamed
    # between the two renames: a load finishes the save, and so does the next save before its own
    ("cppn.safetensors:after_rename", "new"),
]
# also aimed in the slow variant: both renamed, the folder not yet synced (the roll-forward a save does
# first passes this point too, so it goes before a kill that leaves one to do)
AIMED_MORE = [("cppn.json:after_rename", "new")]


def _export_state(out: Path, scratch: Path) -> tuple[int, torch.Tensor]:
    """Load the exported model from a copy of its folder (loading may finish an interrupted save; the
    copy keeps the files exactly as the kill left them for the next run to deal with)."""
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(out.parent, scratch)
    tensors, card = load_checkpoint(scratch / out.name)
    return card.training.steps, torch.cat([t.flatten() for _, t in sorted(tensors.items())])


def _check_run_state(run_dir: Path) -> int:
    return int(RunFolder(run_dir).load()[1]["step"])


def _crash_test(tmp_path: Path, aimed: list[tuple[str, str]], random_kills: int, seed: int) -> None:
    data = make_stripes(tmp_path / "stripes")
    out, run_dir, home = tmp_path / "models" / "cppn", tmp_path / "run", tmp_path / "home"
    scratch = tmp_path / "scratch"
    extra = ("--checkpoint-every", "5")

    first = StudioRun(cppn_train_args(data, out, run_dir, 10, *extra), home)
    assert first.wait(120) == 0, first.text
    exported = _export_state(out, scratch)
    assert exported[0] == 10
    steps, resumed = 10, 0
    rng = random.Random(seed)
    plan: list[tuple[str, str]] = list(aimed) + [("random", "")] * random_kills
    for point, survivor in plan:
        before_step = _check_run_state(run_dir)
        if point == "random":  # a longer run, killed at a random instant of its training and saves
            steps += 100
            run = StudioRun(cppn_train_args(data, out, run_dir, steps, "--resume", *extra), home)
            run.wait_for("it/s", timeout=120)
            time.sleep(rng.uniform(0.0, 1.2))
            run.kill()
        else:
            steps += 10
            run = StudioRun(
                cppn_train_args(data, out, run_dir, steps, "--resume", *extra),
                home,
                env={"STUDIO_TEST_PAUSE_IN_SAVE": point, "STUDIO_TEST_PAUSE_SECONDS": "60"},
            )
            run.wait_for(f"STUDIO_TEST_PAUSED {point.split('@')[0]}", timeout=120)
            run.kill()
        # the process resumed from the saved state (it got past loading to its next steps)
        assert run.seen(f"resuming at step {before_step}") is not None, (point, run.text)
        resumed += 1
        # the run state is one complete file: old or new, never half
        after_step = _check_run_state(run_dir)
        assert before_step <= after_step <= steps, (point, before_step, after_step)
        # the model exported earlier is still loadable: the old one or this run's, never a mix
        now = _export_state(out, scratch)
        if survivor == "old":
            assert now[0] == exported[0] and torch.equal(now[1], exported[1]), point
        elif survivor == "new":
            assert now[0] == steps and not torch.equal(now[1], exported[1]), point
        exported = now
    final = StudioRun(cppn_train_args(data, out, run_dir, steps + 10, "--resume", *extra), home)
    assert final.wait(120) == 0, final.text
    assert final.seen("resuming at step") is not None
    assert _check_run_state(run_dir) == steps + 10
    assert _export_state(out, scratch)[0] == steps + 10
    assert resumed == len(plan)
    leftovers = [p.name for folder in (out.parent, run_dir) for p in folder.iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers  # the temp files and pending cards of the killed saves were cleaned


def test_sigkill_at_aimed_and_random_points_always_resumes_and_keeps_the_export(tmp_path):
    _crash_test(tmp_path, AIMED, random_kills=2, seed=15)


@pytest.mark.slow
def test_sigkill_many_random_points(tmp_path):
    _crash_test(tmp_path, AIMED_MORE, random_kills=9, seed=1515)
