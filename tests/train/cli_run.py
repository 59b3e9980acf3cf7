"""A real ``studio train`` in a subprocess, for the stop and kill tests: its stderr lines are timestamped
as they arrive, so a test can wait for a line, signal or SIGKILL the process, and time the answer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def make_stripes(folder: Path, n: int = 12) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        a = np.zeros((24, 24, 3), np.uint8)
        a[:, :: int(rng.integers(2, 6))] = rng.integers(0, 255, 3)
        Image.fromarray(a).save(folder / f"{i}.png")
    return folder


def cppn_train_args(data: Path, out: Path, run_dir: Path, steps: int, *extra: str) -> list[str]:
    """A tiny CPPN training run (the example plugin: ~100 steps/s on one CPU thread)."""
    return [
        "train",
        "cppn",
        "--data",
        str(data),
        "--image-size",
        "16",
        "--hidden",
        "8",
        "--batch",
        "4",
        "--device",
        "cpu",
        "--threads",
        "1",
        "--preview-every",
        "0",
        "--out",
        str(out),
        "--run-dir",
        str(run_dir),
        "--steps",
        str(steps),
        *extra,
    ]


def _sigint_as_from_a_terminal() -> None:
    """In the child before exec: SIGINT at its default, as a command typed at a terminal starts. Tests run
    from a background job of a non-interactive shell (``cmd &`` in a CI script) inherit SIGINT *ignored*,
    and then Python installs no KeyboardInterrupt handler, so a Ctrl+C during start-up would be lost."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class StudioRun:
    """``python -m studio ARGS`` with its stderr read line by line (``\\r`` progress updates included)."""

    def __init__(self, args: list[str], home: Path, env: dict[str, str] | None = None):
        full_env = dict(os.environ, STUDIO_HOME=str(home), OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        full_env.pop("STUDIO_TEST_PAUSE_IN_SAVE", None)
        full_env.update(env or {})
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "studio", *args],
            cwd=REPO,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_sigint_as_from_a_terminal,
        )
        self.lines: list[tuple[float, str]] = []
        self.exit_time: float | None = None
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        pending = b""
        while True:
            chunk = self.proc.stderr.read1(65536)
            if not chunk:
                break
            now = time.monotonic()
            pending += chunk.replace(b"\r", b"\n")
            *done, pending = pending.split(b"\n")
            with self._lock:
                self.lines.extend((now, part.decode("utf-8", "replace")) for part in done if part.strip())
        if pending.strip():
            with self._lock:
                self.lines.append((time.monotonic(), pending.decode("utf-8", "replace")))

    @property
    def text(self) -> str:
        with self._lock:
            return "\n".join(line for _, line in self.lines)

    def seen(self, needle: str, after: float = 0.0, unless: str = "") -> float | None:
        """When a line holding ``needle`` (and not ``unless``) arrived, the first at or after ``after``."""
        with self._lock:
            for t, line in self.lines:
                if t >= after and needle in line and not (unless and unless in line):
                    return t
        return None

    def wait_for(self, needle: str, timeout: float = 60.0, after: float = 0.0, unless: str = "") -> float:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            t = self.seen(needle, after, unless)
            if t is not None:
                return t
            if self.proc.poll() is not None:
                self._reader.join(2)
                t = self.seen(needle, after, unless)
                if t is not None:
                    return t
                raise AssertionError(f"the run ended (rc {self.proc.returncode}) before {needle!r}:\n{self.text}")
            time.sleep(0.01)
        raise AssertionError(f"no {needle!r} within {timeout} s:\n{self.text}")

    def send(self, sig: int = signal.SIGINT) -> float:
        now = time.monotonic()
        self.proc.send_signal(sig)
        return now

    def kill(self) -> None:
        """SIGKILL: nothing of the process runs after it (no handler, no finally, no flush)."""
        self.proc.kill()
        self.wait(30)

    def wait(self, timeout: float = 60.0) -> int:
        try:
            rc = self.proc.wait(timeout)
            if self.exit_time is None:
                self.exit_time = time.monotonic()
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"the run did not end within {timeout} s:\n{self.text}") from None
        self._reader.join(5)
        return rc

    def ended_at(self, timeout: float = 60.0) -> float:
        self.wait(timeout)
        assert self.exit_time is not None
        return self.exit_time
