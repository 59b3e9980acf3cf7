"""Run by ``torchrun`` in test_ddp.py: one rank of a toy training; writes its parameters' checksum."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for tests.train.toy_task

import torch

from studio.core.jobs import run_job
from tests.train.toy_task import toy_job


def main() -> int:
    folder, steps = Path(sys.argv[1]), int(sys.argv[2])
    resume = "--resume" in sys.argv
    torch.set_num_threads(1)
    job = toy_job(folder, steps=steps, checkpoint_every=3, resume=resume, batch=8)
    events = []
    res = run_job(job, events.append)
    rank = int(os.environ["RANK"])
    g = torch.cat([p.detach().flatten() for p in job.task.G.parameters()])
    d = torch.cat([p.detach().flatten() for p in job.task.D.parameters()])
    stepped = [e.step for e in events if e.losses]
    (folder / f"rank{rank}.txt").write_text(
        f"{res.status} {res.outputs.get('step')} {g.double().sum().item()!r} {d.double().sum().item()!r} "
        f"{len(stepped)} {res.message}\n"
    )
    return 0 if res.ok else 1


if __name__ == "__main__":
    from studio.train.distributed import exit_process

    exit_process(main())
