"""Reading small user files (model cards, states) without letting one file hang or crash the studio.

Every file a user can put in a models folder or hand to ``--state`` goes through here:

- only **regular files** are opened: ``os.stat`` (which never blocks) is checked before ``open``, and the
  open itself uses ``O_NONBLOCK`` and checks ``fstat`` again, so a FIFO, a device (a link to
  ``/dev/zero``), a socket or a folder is refused with a reason instead of blocking or reading forever;
- a **size limit** is checked before reading, and no more than the limit is ever read;
- JSON is parsed with a **nesting-depth limit** checked before the parser runs (Python's parser
  recurses, so ``[`` × 1000 would raise ``RecursionError`` deep inside it).

Errors are :class:`~studio.core.errors.FileProblem` subclasses chosen by the caller, naming the file.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from .errors import FileProblem

MAX_CARD_BYTES = 16 * 1024 * 1024  # bundled cards are < 1 MB (GADN's, with its evaluation, is the largest)
MAX_STATE_BYTES = 4 * 1024 * 1024  # a state is a few KB; a GADN content code a few more
MAX_JSON_DEPTH = 64  # cards nest ~7 levels deep, states ~4

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def regular_file(path: str | Path, error: type[FileProblem] = FileProblem, what: str = "file") -> os.stat_result:
    """``os.stat`` of ``path`` (following links) if it is a regular file; else ``error`` saying what it is."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise error(path, f"the {what} is a link to a missing file") from None
        raise error(path, f"{what} not found") from None
    except OSError as exc:
        raise error(path, f"could not read the {what} ({exc.strerror or exc})") from exc
    kind = _kind(st.st_mode)
    if kind is not None:
        raise error(path, f"the {what} is {kind}, not a regular file; not opened")
    return st


def open_regular(path: str | Path, error: type[FileProblem] = FileProblem, what: str = "file"):
    """A binary file object for a regular file, opened without blocking (a FIFO swapped in after the
    ``stat`` check is still refused, by ``fstat`` on the open descriptor)."""
    path = Path(path)
    regular_file(path, error, what)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise error(path, f"could not open the {what} ({exc.strerror or exc})") from exc
    try:
        kind = _kind(os.fstat(fd).st_mode)
        if kind is not None:
            raise error(path, f"the {what} is {kind}, not a regular file; not opened")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_limited(path: str | Path, limit: int, error: type[FileProblem] = FileProblem, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes."""
    path = Path(path)
    st = regular_file(path, error, what)
    if st.st_size > limit:
        raise error(path, f"the {what} is {_size(st.st_size)}, over the {_size(limit)} limit; not read")
    with open_regular(path, error, what) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:  # it grew since the stat
        raise error(path, f"the {what} is over the {_size(limit)} limit; not read")
    return data


def json_depth(raw: bytes | str) -> int:
    """How deeply arrays and objects nest in a JSON text (strings are skipped), without parsing it."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(0, max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0))


def parse_json(
    raw: bytes | str,
    path: str | Path,
    error: type[FileProblem] = FileProblem,
    what: str = "file",
    max_depth: int = MAX_JSON_DEPTH,
    allow_nan: bool = True,
) -> Any:
    """``json.loads`` with a nesting-depth limit; every failure is ``error`` naming ``path``. ``allow_nan``
    False refuses the NaN / Infinity that Python's parser accepts (they are not JSON)."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise error(path, f"the {what} is not UTF-8 text") from exc
    else:
        text = raw
    if json_depth(raw) > max_depth:
        raise error(path, f"the {what} nests deeper than {max_depth} levels; refused")
    try:
        return json.loads(text, parse_constant=None if allow_nan else _no_constant)
    except RecursionError as exc:  # the depth scan above should have caught it
        raise error(path, f"the {what} nests too deeply; refused") from exc
    except ValueError as exc:
        raise error(path, f"the {what} is not valid JSON ({exc})") from exc


def read_json(
    path: str | Path,
    limit: int,
    error: type[FileProblem] = FileProblem,
    what: str = "file",
    max_depth: int = MAX_JSON_DEPTH,
    allow_nan: bool = True,
) -> Any:
    """Read and parse a small JSON file safely (regular file, size and depth limits)."""
    return parse_json(read_limited(path, limit, error, what), path, error, what, max_depth, allow_nan)


def link_escapes(path: Path, folder: Path) -> Path | None:
    """Where ``path`` really leads, when it is a link (or inside a linked folder) leading outside ``folder``."""
    try:
        target = path.resolve()
        root = folder.resolve()
    except (OSError, RuntimeError):  # a link loop
        return path
    if target == root or root in target.parents:
        return None
    return target


def _no_constant(name: str) -> Any:
    """JSON has no NaN / Infinity; Python's parser accepts them unless told otherwise."""
    raise ValueError(f"{name} is not a JSON value")


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"
