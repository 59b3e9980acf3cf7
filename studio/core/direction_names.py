"""The user's names for a model's directions, and the directions they made from two states.

Why a file of its own: a model's card may be bundled (read-only, shared by every user) and must never be
rewritten to hold one user's names. So each model gets a small JSON file in ``STUDIO_HOME/directions/``,
named after the model and the SHA-256 of its tensors (a retrained model of the same name has other
directions, and starts with a fresh file). Saves are atomic. A damaged file is reported with its name and
kept: saving over it is refused until the user sets it aside (:func:`set_aside`), never done silently.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .atomic import atomic_write_text
from .direction_edits import clean_vector, is_two_state_key
from .errors import FileProblem
from .paths import studio_home
from .safeio import read_json

FORMAT = "gan-studio-directions/1"
MAX_BYTES = 8 * 1024 * 1024
MAX_NAME = 60
MAX_DIRECTIONS = 200
_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")


class DirectionFileError(FileProblem):
    """A directions file cannot be read or written."""


@dataclass
class TwoStateDirection:
    key: str  # "ab1"…: the state's directions[key] is its amount
    name: str
    vector: list[float]  # B's code minus A's, in the model's direction space
    made_from: dict[str, Any] = field(default_factory=dict)  # {"a": state, "b": state} (for the record)


@dataclass
class DirectionBook:
    """One model's names (stored direction key -> name) and two-state directions."""

    model: str
    tensors_sha256: str = ""
    names: dict[str, str] = field(default_factory=dict)
    two_state: list[TwoStateDirection] = field(default_factory=list)

    def name_of(self, key: str, default: str) -> str:
        return self.names.get(key) or default

    def rename(self, key: str, name: str) -> None:
        """Name a direction (an empty name goes back to the default label)."""
        name = clean_name(name)
        found = self.find(key)
        if found is not None:
            found.name = name or key
        elif name:
            self.names[key] = name
        else:
            self.names.pop(key, None)

    def find(self, key: str) -> TwoStateDirection | None:
        return next((d for d in self.two_state if d.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "model": self.model,
            "tensors_sha256": self.tensors_sha256,
            "names": {k: clean_name(v) for k, v in self.names.items() if clean_name(v)},
            "two_state": [
                {"key": d.key, "name": d.name, "vector": d.vector, "made_from": d.made_from} for d in self.two_state
            ],
        }


def clean_name(text: Any) -> str:
    """A direction name as shown: one line, no control characters, at most MAX_NAME characters."""
    name = " ".join(str(text or "").split())
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:MAX_NAME].strip()


def _safe_stem(text: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(text).name).strip("._") or "model"
    return stem[:80]


def directions_dir() -> Path:
    return studio_home() / "directions"


def book_path(model: str, tensors_sha256: str = "") -> Path:
    """``STUDIO_HOME/directions/NAME-SHA16.json`` (``NAME.json`` for a card without a tensor hash)."""
    stem = _safe_stem(model)
    return directions_dir() / (f"{stem}-{tensors_sha256[:16]}.json" if tensors_sha256 else f"{stem}.json")


def book_path_for(card: Any) -> Path:
    return book_path(str(getattr(card, "name", "") or "model"), str(getattr(card, "tensors_sha256", "") or ""))


def _parse(data: Any, path: Path) -> DirectionBook:
    def bad(problem: str) -> DirectionFileError:
        return DirectionFileError(
            path, f"the directions file is damaged ({problem}); it was kept as it is: fix it or set it aside"
        )

    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise bad(f"not a '{FORMAT}' file")
    names = data.get("names", {})
    if not isinstance(names, Mapping) or len(names) > MAX_DIRECTIONS:
        raise bad(f"'names' must be an object of at most {MAX_DIRECTIONS} names")
    book = DirectionBook(str(data.get("model") or ""), str(data.get("tensors_sha256") or ""))
    for key, name in names.items():
        if not isinstance(key, str) or not _KEY.match(key) or not isinstance(name, str):
            raise bad(f"the name entry {key!r:.40} is not a direction key and a text")
        if clean_name(name):
            book.names[key] = clean_name(name)
    items = data.get("two_state", [])
    if not isinstance(items, list) or len(items) > MAX_DIRECTIONS:
        raise bad(f"'two_state' must be a list of at most {MAX_DIRECTIONS} directions")
    for item in items:
        if not isinstance(item, Mapping) or not is_two_state_key(item.get("key")):
            raise bad("a two-state direction has no 'key' like 'ab1'")
        vector = clean_vector(item.get("vector"))
        if vector is None:
            raise bad(f"the vector of '{item['key']}' is not a list of finite numbers")
        raw_from = item.get("made_from")
        made_from: dict[str, Any] = dict(raw_from) if isinstance(raw_from, Mapping) else {}
        name = clean_name(item.get("name")) or str(item["key"])
        if book.find(str(item["key"])) is not None:
            raise bad(f"'{item['key']}' appears twice")
        book.two_state.append(TwoStateDirection(str(item["key"]), name, vector, made_from))
    return book


def load_book(model: str, tensors_sha256: str = "") -> DirectionBook:
    """The model's book; an empty one when it has no file yet. A damaged file: DirectionFileError."""
    path = book_path(model, tensors_sha256)
    if not path.exists() and not path.is_symlink():
        return DirectionBook(model, tensors_sha256)
    data = read_json(path, MAX_BYTES, DirectionFileError, "directions file", max_depth=40, allow_nan=False)
    book = _parse(data, path)
    book.model, book.tensors_sha256 = model, tensors_sha256
    return book


def save_book(book: DirectionBook) -> Path:
    """Write the book atomically. A damaged file already there is not replaced (DirectionFileError)."""
    path = book_path(book.model, book.tensors_sha256)
    if path.exists() or path.is_symlink():
        load_book(book.model, book.tensors_sha256)  # raises for a damaged file: never overwritten silently
    try:
        atomic_write_text(path, json.dumps(book.to_dict(), indent=1, allow_nan=False) + "\n")
    except (OSError, ValueError) as exc:
        raise DirectionFileError(path, f"could not save the direction names ({exc})") from exc
    return path


def set_aside(model: str, tensors_sha256: str = "") -> Path | None:
    """Rename a (damaged) directions file to ``NAME.damaged-TIME.json`` so a new one can be started;
    returns where it went (None when there was none)."""
    path = book_path(model, tensors_sha256)
    if not path.exists() and not path.is_symlink():
        return None
    target = path.with_name(f"{path.stem}.damaged-{time.strftime('%Y%m%d-%H%M%S')}.json")
    try:
        path.rename(target)
    except OSError as exc:
        raise DirectionFileError(path, f"could not set the damaged file aside ({exc.strerror or exc})") from exc
    return target
