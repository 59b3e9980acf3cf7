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
- the render thread sets its own count before each render (OpenMP keeps the count per calling thread),
  chosen by measurement per model and frame count between one thread and the process's count
  (:class:`RenderThreadTuner`; ``STUDIO_RENDER_THREADS=N`` fixes it). Which is faster depends on the
  network and on the load: under load a parallel region waits for its slowest thread, and one thread
  keeps the slider's p95 close to its p50 (bench_render_latency.py).
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
    """Intra-op threads for a render of ``frames`` images before anything is measured (see
    :class:`RenderThreadTuner`, which then picks by measurement)."""
    fixed = fixed_render_threads()
    if fixed:
        return fixed
    return 1 if frames <= 1 else max(1, default)


def fixed_render_threads() -> int:
    """``STUDIO_RENDER_THREADS=N``: the render thread always uses N (0: not fixed)."""
    text = os.environ.get("STUDIO_RENDER_THREADS", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else 0


class RenderThreadTuner:
    """Picks the render thread's intra-op count per (model, frame count) by timing its own renders.

    Why measured, not fixed: on this 2-core CPU a quiet machine renders one 64 px DCGAN frame 1.46x
    faster on two threads, while the CAN and GADN generators are 1.2-1.8x faster on one, and under a
    competing process one thread wins for all (a parallel region waits for its slowest thread;
    bench/bench_render_latency.py; which one wins also changed from one minute to the next on a shared
    VM). The tuner tries each candidate (one thread and the process's count) ``samples`` times, then
    uses the one with the lower median of its recent renders; every ``explore_every``-th render goes
    to the other candidate, so the choice follows changes in load (3 % of frames, under a slider's
    p95). The usual guess (one thread for a frame, all for a grid: :func:`render_threads`) stays unless
    the other count is faster by ``margin`` (its median below ``margin`` times the guess's): when the two
    are within a few per cent, the noise of a shared machine picked the count that then lost (share
    0.68-0.77 of the best plain render in three of ten bench rows).

    Exploring backs off: each exploring render that comes out slower again doubles the interval, up to
    ``max_explore_every``; one that comes out clearly faster brings it back to ``explore_every``. Why:
    under a competing process the other count renders 2-4x slower, and the measuring renders plus one
    in 32 were over 5 % of a 120-step drag, which made them its 95th percentile (p95/p50 3.7-4.0 in
    bench/bench_render_latency.py's load test). A count whose renders slow down is left at once
    without exploring: its own recent renders show it."""

    def __init__(
        self,
        default: int,
        samples: int = 7,
        explore_every: int = 32,
        window: int = 15,
        margin: float = 0.9,
        max_explore_every: int = 512,
    ):
        fixed = fixed_render_threads()
        self.candidates = [fixed] if fixed else sorted({1, max(1, int(default))})
        self.samples, self.explore_every, self.window = samples, explore_every, window
        self.max_explore_every = max(explore_every, max_explore_every)
        self.margin = float(margin)
        self._history: dict[tuple[Any, int], dict[int, list[float]]] = {}  # (model, frames) -> times
        self._since: dict[tuple[Any, int], int] = {}  # renders since the last exploring one
        self._interval: dict[tuple[Any, int], int] = {}  # the current exploring interval
        self._exploring: dict[tuple[Any, int], int] = {}  # the count an exploring render was given

    def _times(self, model: Any, frames: int) -> dict[int, list[float]]:
        """Recent render times per candidate for this model and frame count (grids of one size share)."""
        return self._history.setdefault((model, max(1, frames)), {n: [] for n in self.candidates})

    def _best(self, times: dict[int, list[float]], frames: int) -> int:
        best = render_threads(frames, self.candidates[-1])  # the usual guess: one of the candidates
        for n in self.candidates:  # another count only when clearly faster
            if n != best and _median(times[n]) < self.margin * _median(times[best]):
                best = n
        return best

    def choose(self, model: Any, frames: int) -> int:
        if len(self.candidates) == 1:
            return self.candidates[0]
        times = self._times(model, frames)
        key = (model, max(1, frames))
        short = [n for n in self.candidates if len(times[n]) < self.samples]
        if short:  # still measuring: the candidate with the fewest renders, the usual guess first
            guess = render_threads(frames, self.candidates[-1])
            return min(short, key=lambda n: (len(times[n]), n != guess))
        best = self._best(times, frames)
        since = self._since[key] = self._since.get(key, 0) + 1
        if since >= self._interval.get(key, self.explore_every):
            self._since[key] = 0
            other = self._exploring[key] = next(n for n in self.candidates if n != best)
            return other
        return best

    def record(self, model: Any, frames: int, threads: int, ms: float) -> None:
        if len(self.candidates) == 1:
            return
        times = self._times(model, frames)
        key = (model, max(1, frames))
        if self._exploring.get(key) == threads:
            del self._exploring[key]
            best = self._best(times, frames)
            interval = self._interval.get(key, self.explore_every)
            faster = best != threads and ms < self.margin * _median(times[best])
            self._interval[key] = self.explore_every if faster else min(2 * interval, self.max_explore_every)
        if threads in times:
            times[threads].append(float(ms))
            del times[threads][: -self.window]

    def chosen(self, model: Any, frames: int) -> int | None:
        """The count in use once measured (None while still measuring): for the status bar and tests."""
        if len(self.candidates) == 1:
            return self.candidates[0]
        times = self._times(model, frames)
        if any(len(times[n]) < self.samples for n in self.candidates):
            return None
        return self._best(times, frames)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else float("inf")


def set_threads_here(n: int) -> None:
    """Set the intra-op thread count of the calling thread only. ``torch.set_num_threads`` would also
    become the count of every thread started later (a job thread after a slider render would get 1);
    OpenMP's own ``omp_set_num_threads`` changes only the caller's. Falls back to torch's call where the
    OpenMP runtime cannot be reached (another parallel backend)."""
    import ctypes

    import torch

    torch.get_num_threads()  # torch's per-thread first-use set-up, which would override the count below
    try:
        if "omp" not in _LIBC:
            _LIBC["omp"] = ctypes.CDLL(None).omp_set_num_threads
        _LIBC["omp"](ctypes.c_int(int(n)))
    except (AttributeError, OSError):
        torch.set_num_threads(int(n))


_LIBC: dict[str, Any] = {}  # the process's omp_set_num_threads, looked up once


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
