"""Two CPU processes (gloo) started by torchrun train the toy GAN: parameters stay identical across
ranks, only rank 0 writes the run and the model, and the run resumes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core.checkpoint import read_card
from studio.train import RunFolder

WORKER = Path(__file__).with_name("ddp_worker.py")


def _torchrun(folder: Path, steps: int, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", STUDIO_HOME=str(folder / "home"))
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        str(WORKER),
        str(folder),
        str(steps),
        *extra,
    ]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)


def _diagnosis(folder: Path, proc: subprocess.CompletedProcess) -> str:
    """What a failure shows: both streams and which ranks finished (an abort after both wrote their
    files is a teardown problem; one before is a training problem)."""
    written = {r: (folder / f"rank{r}.txt").read_text().strip() for r in (0, 1) if (folder / f"rank{r}.txt").exists()}
    return f"rc {proc.returncode}; rank files {written}\nstdout: {proc.stdout[-1500:]}\nstderr: {proc.stderr[-3000:]}"


def _ranks(folder: Path) -> list[list[str]]:
    return [(folder / f"rank{r}.txt").read_text().split(" ", 5) for r in (0, 1)]


@pytest.mark.slow
def test_two_gloo_processes_train_identically_and_only_rank0_writes(tmp_path):
    proc = _torchrun(tmp_path, 7)
    assert proc.returncode == 0, _diagnosis(tmp_path, proc)
    r0, r1 = _ranks(tmp_path)
    assert r0[0] == r1[0] == "finished" and r0[1] == r1[1] == "7"
    assert r0[2:4] == r1[2:4]  # G and D parameters identical on both ranks
    assert r0[4] == "7" and r1[4] == "0"  # only rank 0 reports progress
    card = read_card(tmp_path / "models" / "toy.json")
    assert card.extra["training_run"]["world_size"] == 2 and "2 processes" in card.training.device
    run_files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert run_files == ["run.safetensors"]  # one writer, no temp files left behind
    tensors, meta = RunFolder(tmp_path / "run").load()
    assert meta["world_size"] == 2 and {"rng.rank0", "rng.rank1"} <= set(tensors)

    proc = _torchrun(tmp_path, 11, "--resume")
    assert proc.returncode == 0, _diagnosis(tmp_path, proc)
    r0, r1 = _ranks(tmp_path)
    assert r0[1] == r1[1] == "11" and r0[2:4] == r1[2:4] and r0[4] == "4"
    assert read_card(tmp_path / "models" / "toy.json").training.steps == 11
