"""Write files so that a crash never leaves a half-written user file behind (temp file + rename).

A write goes to a temp file ``.NAME.XXXX.tmp`` beside the target, is flushed to disk (fsync), renamed
over the target (``os.replace``, atomic on POSIX and Windows), and then the folder itself is fsynced
so the rename survives a power cut, not only a killed process (POSIX; skipped where a folder cannot be
opened, e.g. on Windows). A kill at any instant leaves the old file or the new one; the temp file of a
killed write is left behind and cleaned by whoever owns the file (see :func:`remove_temp_files`).

Test hook: ``STUDIO_TEST_PAUSE_IN_SAVE=NAME:STAGE[@N]`` makes the N-th (default first) pass of this
process through that point of a save print ``STUDIO_TEST_PAUSED NAME:STAGE`` to stderr and sleep (for
``STUDIO_TEST_PAUSE_SECONDS``, default 120), so the crash test can SIGKILL a real training exactly
there. ``NAME`` is the target's file name; the stages are ``before_rename`` (the temp file is complete
and synced) and ``after_rename`` (the target is replaced; the folder is not synced yet). The
checkpoint save (``studio.core.checkpoint``) passes through the same points for each of its renames.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

PAUSE_ENV = "STUDIO_TEST_PAUSE_IN_SAVE"
PAUSE_SECONDS_ENV = "STUDIO_TEST_PAUSE_SECONDS"
PAUSED_MARK = "STUDIO_TEST_PAUSED"
_pause_hits: dict[str, int] = {}


def pause_point(name: str, stage: str) -> None:
    """The crash test's hook (see the module docstring); does nothing unless the variable names this point."""
    spec = os.environ.get(PAUSE_ENV)
    if not spec:
        return
    point = f"{name}:{stage}"
    wanted, _, nth = spec.partition("@")
    if wanted != point:
        return
    _pause_hits[point] = _pause_hits.get(point, 0) + 1
    if _pause_hits[point] != (int(nth) if nth.isdigit() else 1):
        return
    sys.stderr.write(f"\n{PAUSED_MARK} {point}\n")
    sys.stderr.flush()
    time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV) or 120))


def fsync_dir(folder: str | Path) -> None:
    """Flush a folder's entries (a rename in it) to disk. POSIX only; a no-op where folders cannot be opened."""
    flag = getattr(os, "O_DIRECTORY", None)
    if flag is None:  # Windows: no directory handles through os.open, and NTFS journals the rename
        return
    try:
        fd = os.open(folder, os.O_RDONLY | flag)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems (network, FUSE) refuse fsync on a folder: nothing more to do
        pass
    finally:
        os.close(fd)


def replace_file(src: str | Path, target: str | Path) -> None:
    """``os.replace`` with the crash test's pause points around it and the folder synced after it."""
    target = Path(target)
    pause_point(target.name, "before_rename")
    os.replace(src, target)
    pause_point(target.name, "after_rename")
    fsync_dir(target.parent)


def temp_files(target: str | Path) -> list[Path]:
    """Temp files that :func:`atomic_path` writes for ``target`` (those a killed write left behind)."""
    target = Path(target)
    if not target.parent.is_dir():
        return []
    return [p for p in target.parent.glob(f".{target.name}.*.tmp") if p.is_file() and not p.is_symlink()]


def remove_temp_files(target: str | Path) -> int:
    """Remove the temp files of ``target``'s killed writes (they never hold a valid file); returns how many.

    Only call it where no other process is writing ``target`` at the same time.
    """
    removed = 0
    for tmp in temp_files(target):
        try:
            tmp.unlink()
            removed += 1
        except OSError:
            pass
    return removed


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success it replaces ``target`` atomically.

    On any exception the temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600; give the file the permissions a plain open() would (0666 minus umask)
    umask = os.umask(0)
    os.umask(umask)
    mode = 0o666 & ~umask
    os.chmod(tmp, mode)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)  # again: some writers (safetensors' save_file) replace the file with a 0600 one
        replace_file(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(target: str | Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def atomic_write_with(target: str | Path, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and move the result over ``target`` only if it succeeded."""
    with atomic_path(target) as tmp:
        writer(tmp)
