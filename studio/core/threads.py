"""The process's threading policy, applied by every entry point *before* torch is imported.

Why: PyTorch's CPU kernels run on an OpenMP pool whose default wait policy keeps idle workers spinning
for a while after each parallel region. The studio renders in bursts (slider drags, grids, scoring)
and shares the CPU with jobs, other programs and its own GUI thread; spinning workers then steal the
cores the next burst needs (measured in issue 18: p95 150-260 ms under load with spinning workers vs
4-16 ms with passive ones). The wait policy is read once, when the OpenMP runtime starts (at
``import torch``), so it must be in the environment before that: ``studio.cli`` (the ``studio``
command, ``python -m studio``, the PyInstaller build, the window) calls :func:`apply_thread_policy`
first thing. This module must not import torch.

The policy (a user's own environment variables always win):
- ``OMP_WAIT_POLICY=PASSIVE``: idle workers sleep instead of spinning.
- intra-op threads: torch's default (the physical cores); ``STUDIO_THREADS=N`` (or ``OMP_NUM_THREADS``)
  sets another count. A training job narrows it for its run with ``--threads`` (the Trainer).
- job threads in the window run at a lower priority (nice +2, ``STUDIO_JOB_NICE``) than its render thread, so a slider's
  frame goes first while a job uses every idle cycle (the CLI runs its job in the main thread as is).
- the render thread sets its own count before each render (OpenMP keeps the count per calling thread):
  one thread for a single frame, the process's count for a grid (``STUDIO_RENDER_THREADS=N`` fixes it).
  A single 64 px frame gains little from a second thread, and under load a parallel region waits for
  its slowest thread: one thread keeps the slider's p95 close to its p50 (bench_render_latency.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from typing import Any

WAIT_POLICY = "PASSIVE"
_applied: dict[str, Any] = {}


def apply_thread_policy(environ: MutableMapping[str, str] | None = None) -> dict[str, Any]:
    """Put the policy into the environment (before torch is imported); returns what was decided.

    Idempotent. If torch is already imported the wait policy can no longer take effect; that is
    recorded (``before_torch: False``) so the read-back shows it.
    """
    env = os.environ if environ is None else environ
    env.setdefault("OMP_WAIT_POLICY", WAIT_POLICY)
    studio_threads = env.get("STUDIO_THREADS", "")
    if studio_threads.isdigit() and int(studio_threads) > 0:
        env.setdefault("OMP_NUM_THREADS", studio_threads)
    decided = {"wait_policy": env["OMP_WAIT_POLICY"], "before_torch": "torch" not in sys.modules}
    if environ is None and not _applied:
        _applied.update(decided)
    return decided


def render_threads(frames: int, default: int) -> int:
    """Intra-op threads for a render of ``frames`` images (see the module docstring)."""
    fixed = os.environ.get("STUDIO_RENDER_THREADS", "").strip()
    if fixed.isdigit() and int(fixed) > 0:
        return int(fixed)
    return 1 if frames <= 1 else max(1, default)


def set_threads_here(n: int) -> None:
    """Set the intra-op thread count of the calling thread only. ``torch.set_num_threads`` would also
    become the count of every thread started later (a job thread after a slider render would get 1);
    OpenMP's own ``omp_set_num_threads`` changes only the caller's. Falls back to torch's call where the
    OpenMP runtime cannot be reached (another parallel backend)."""
    import ctypes

    import torch

    torch.get_num_threads()  # torch's per-thread first-use set-up, which would override the count below
    try:
        ctypes.CDLL(None).omp_set_num_threads(ctypes.c_int(int(n)))
    except (AttributeError, OSError):
        torch.set_num_threads(int(n))


JOB_NICE = 2  # CFS weight 0.64 of a normal thread: renders first, a job still keeps most of its share


def lower_priority_here(nice: int | None = None) -> bool:
    """Lower the calling thread's CPU priority (Linux: a thread's own nice value). The window runs jobs
    (training, scoring) in threads of the same process as its renders; a lower priority for the job
    threads lets a slider's frame through first while the job still gets every idle cycle. True when it
    took effect (elsewhere it is a no-op)."""
    import threading

    if nice is None:
        text = os.environ.get("STUDIO_JOB_NICE", "").strip()
        nice = int(text) if text.isdigit() else JOB_NICE
    if nice <= 0:
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + int(nice))
        return True
    except (AttributeError, OSError):
        return False


def thread_policy() -> dict[str, Any]:
    """The policy in force in this process, read back (for ``studio --version`` and tests)."""
    out: dict[str, Any] = {
        "wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset: spinning)"),
        "applied_before_torch": bool(_applied.get("before_torch", False)),
    }
    if "torch" in sys.modules:
        import torch

        out["intra_op_threads"] = torch.get_num_threads()
    return out


def describe() -> str:
    p = thread_policy()
    parts = [f"OMP_WAIT_POLICY={p['wait_policy']}"]
    if "intra_op_threads" in p:
        parts.append(f"intra-op threads: {p['intra_op_threads']}")
    parts.append("set before torch" if p["applied_before_torch"] else "NOT set before torch")
    return ", ".join(parts)
