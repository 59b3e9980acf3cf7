"""The gallery of canvas states and the last session, kept in ``STUDIO_HOME/gallery`` (no Qt).

Why a gallery beside undo: undo is one line of steps inside one run; the gallery keeps the states an
artist wants to come back to (kept by hand, picked from a grid, bred, left behind by a model switch)
across model switches and restarts, with a thumbnail each and their lineage (the parents a bred state
came from). ``session.json`` holds the last canvas and its undo steps so a restart continues the work.

Files: ``gallery.json`` (``{"version": 1, "entries": [...]}``), ``thumbs/ID.png``, ``session.json``.
Every write is atomic. A gallery file that cannot be read is never overwritten: the gallery starts
empty with :attr:`Gallery.problem` saying why, and the first save moves the damaged file aside
(``gallery.damaged-N.json``) before writing a new one. Entries are untrusted on reading: states are
cleaned (:func:`studio.core.states.clean_state`), ids are checked (a thumbnail name is built from an id,
so an id can never name a path).
"""

from __future__ import annotations

import copy
import json
import os
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write_text, atomic_write_with
from .errors import FileProblem
from .paths import studio_home
from .safeio import parse_json, read_limited
from .states import clean_state

VERSION = 1
GALLERY_FILE = "gallery.json"
SESSION_FILE = "session.json"
MAX_GALLERY_BYTES = 64 * 1024 * 1024
MAX_SESSION_BYTES = 16 * 1024 * 1024
MAX_ENTRIES = 2000  # the oldest entries go first past this
MAX_SESSION_STEPS = 100  # undo (and redo) steps kept in session.json
THUMB_PX = 96
_ID = re.compile(r"^[0-9a-f]{6,32}$")
ORIGINS = ("kept", "picked", "bred", "switched", "session", "tool")


class GalleryError(FileProblem):
    """The gallery or session file could not be read or written."""


def gallery_dir() -> Path:
    return studio_home() / "gallery"


@dataclass
class GalleryEntry:
    """One kept state. ``parents``: ``[{"id": entry id, "weight": w}]`` for a bred state, else empty."""

    id: str
    model: str
    state: dict[str, Any]
    created: float
    origin: str = "kept"
    parents: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "state": self.state,
            "created": self.created,
            "origin": self.origin,
            "parents": self.parents,
            "note": self.note,
        }


def _entry(raw: Any) -> GalleryEntry | None:
    """An entry read from the file, or None when it is not one (untrusted input)."""
    if not isinstance(raw, Mapping):
        return None
    eid, model, state = raw.get("id"), raw.get("model"), raw.get("state")
    if not isinstance(eid, str) or not _ID.match(eid) or not isinstance(model, str) or not model:
        return None
    if len(model) > 4096 or not isinstance(state, Mapping):
        return None
    created = raw.get("created", 0.0)
    origin = raw.get("origin", "kept")
    note = raw.get("note", "")
    parents = []
    for p in raw.get("parents") or []:
        if isinstance(p, Mapping) and isinstance(p.get("id"), str) and len(p["id"]) <= 64:
            w = p.get("weight", 0.0)
            parents.append({"id": p["id"], "weight": float(w) if isinstance(w, (int, float)) else 0.0})
    clean = clean_state(state)
    clean["model"] = model
    return GalleryEntry(
        eid,
        model,
        clean,
        float(created) if isinstance(created, (int, float)) and not isinstance(created, bool) else 0.0,
        origin if isinstance(origin, str) and origin in ORIGINS else "kept",
        parents[:64],
        note[:1000] if isinstance(note, str) else "",
    )


class Gallery:
    """The entries of ``folder`` (default ``STUDIO_HOME/gallery``), oldest first."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else gallery_dir()
        self.entries: list[GalleryEntry] = []
        self.problem = ""  # why the file could not be read ('' when it was fine or absent)
        self._set_aside = False  # the file on disk is damaged: move it aside before the first save
        self.load()

    @property
    def path(self) -> Path:
        return self.folder / GALLERY_FILE

    def load(self) -> None:
        self.entries, self.problem, self._set_aside = [], "", False
        if not os.path.lexists(self.path):
            return
        try:
            data = parse_json(
                read_limited(self.path, MAX_GALLERY_BYTES, GalleryError, "gallery file"),
                self.path,
                GalleryError,
                "gallery file",
                allow_nan=False,
            )
            if not isinstance(data, Mapping) or not isinstance(data.get("entries"), list):
                raise GalleryError(self.path, "the gallery file holds no list of entries")
            if not isinstance(data.get("version"), int) or data["version"] > VERSION:
                raise GalleryError(
                    self.path, f"the gallery file is of an unknown version ({data.get('version')!r:.20})"
                )
        except GalleryError as exc:
            self._damaged(str(exc))
            return
        seen: set[str] = set()
        bad = 0
        for raw in data["entries"]:
            entry = _entry(raw)
            if entry is None or entry.id in seen:
                bad += 1
                continue
            seen.add(entry.id)
            self.entries.append(entry)
        if bad:
            self._damaged(f"{self.path.name}: {bad} damaged entr{'y was' if bad == 1 else 'ies were'} skipped")

    def _damaged(self, why: str) -> None:
        self._set_aside = True
        self.problem = (
            f"The gallery could not be read fully ({why}). It is kept as it is; the next save of the gallery "
            f"keeps it beside the new one as {self.folder / 'gallery.damaged-N.json'}."
        )

    def _move_damaged_aside(self) -> None:
        if not self._set_aside or not os.path.lexists(self.path):
            self._set_aside = False
            return
        n = 1
        while os.path.lexists(self.folder / f"gallery.damaged-{n}.json"):
            n += 1
        os.replace(self.path, self.folder / f"gallery.damaged-{n}.json")  # a rename: never a copy that could fail
        self._set_aside = False

    def save(self) -> None:
        """Write gallery.json atomically (moving a damaged one aside first). Raises OSError."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._move_damaged_aside()
        data = {"version": VERSION, "entries": [e.to_dict() for e in self.entries]}
        atomic_write_text(self.path, json.dumps(data, separators=(",", ":"), allow_nan=False))

    # ---- entries --------------------------------------------------------------------------------
    def get(self, entry_id: str) -> GalleryEntry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def add(
        self,
        state: Mapping[str, Any],
        origin: str = "kept",
        parents: Sequence[Mapping[str, Any]] = (),
        thumbnail: np.ndarray | None = None,
        save: bool = True,
    ) -> GalleryEntry:
        """Keep ``state`` (its ``model`` key names the model); a state the gallery already holds (same model,
        same state, no parents given) is not added twice: its entry is returned."""
        clean = clean_state(state)
        model = clean.get("model") or "?"
        same = None if parents else next((e for e in self.entries if e.model == model and e.state == clean), None)
        if same is not None:
            entry = same
        else:
            entry = GalleryEntry(
                uuid.uuid4().hex[:16],
                model,
                clean,
                time.time(),
                origin if origin in ORIGINS else "kept",
                [{"id": str(p.get("id", "")), "weight": float(p.get("weight", 0.0))} for p in parents],
            )
            self.entries.append(entry)
            for old in self.entries[: max(0, len(self.entries) - MAX_ENTRIES)]:
                self._remove_thumb(old.id)
            del self.entries[: max(0, len(self.entries) - MAX_ENTRIES)]
        if thumbnail is not None:
            self.set_thumbnail(entry.id, thumbnail)
        if save:
            self.save()
        return entry

    def remove(self, ids: Iterable[str], save: bool = True) -> int:
        gone = set(ids)
        before = len(self.entries)
        self.entries = [e for e in self.entries if e.id not in gone]
        for eid in gone:
            self._remove_thumb(eid)
        if save:
            self.save()
        return before - len(self.entries)

    def parents_of(self, entry_id: str) -> list[GalleryEntry]:
        entry = self.get(entry_id)
        if entry is None:
            return []
        return [p for p in (self.get(str(ref.get("id", ""))) for ref in entry.parents) if p is not None]

    def lineage(self, entry_id: str, depth: int = 16) -> list[GalleryEntry]:
        """Every ancestor of an entry still in the gallery (parents first, then theirs), without repeats."""
        out: list[GalleryEntry] = []
        seen = {entry_id}
        frontier = [entry_id]
        for _ in range(depth):
            nxt = []
            for eid in frontier:
                for p in self.parents_of(eid):
                    if p.id not in seen:
                        seen.add(p.id)
                        out.append(p)
                        nxt.append(p.id)
            frontier = nxt
        return out

    # ---- thumbnails -----------------------------------------------------------------------------
    def thumb_path(self, entry_id: str) -> Path:
        if not _ID.match(entry_id):
            raise ValueError(f"not a gallery id: {entry_id!r:.40}")
        return self.folder / "thumbs" / f"{entry_id}.png"

    def set_thumbnail(self, entry_id: str, pixels: np.ndarray) -> Path:
        """Save an HxWx3 uint8 image (scaled to at most THUMB_PX) as the entry's thumbnail."""
        from PIL import Image

        img = Image.fromarray(np.ascontiguousarray(pixels[..., :3]).astype(np.uint8), "RGB")
        if max(img.size) > THUMB_PX:
            img.thumbnail((THUMB_PX, THUMB_PX), Image.Resampling.LANCZOS)
        elif max(img.size) < THUMB_PX // 2:  # tiny models: crisp, larger thumbnails
            k = max(1, THUMB_PX // max(img.size))
            img = img.resize((img.width * k, img.height * k), Image.Resampling.NEAREST)
        path = self.thumb_path(entry_id)
        atomic_write_with(path, lambda tmp: img.save(tmp, "PNG"))
        return path

    def _remove_thumb(self, entry_id: str) -> None:
        try:
            self.thumb_path(entry_id).unlink()
        except (OSError, ValueError):
            pass


# ---- the last session --------------------------------------------------------------------------
@dataclass
class Session:
    """The canvas at the last save: its model, state and undo / redo steps (states, oldest first)."""

    model: str
    state: dict[str, Any]
    undo: list[dict[str, Any]] = field(default_factory=list)
    redo: list[dict[str, Any]] = field(default_factory=list)


def save_session(session: Session, folder: str | Path | None = None) -> Path:
    path = Path(folder if folder is not None else gallery_dir()) / SESSION_FILE
    data = {
        "version": VERSION,
        "model": session.model,
        "state": session.state,
        "undo": session.undo[-MAX_SESSION_STEPS:],
        "redo": session.redo[-MAX_SESSION_STEPS:],
    }
    atomic_write_text(path, json.dumps(data, separators=(",", ":"), allow_nan=False))
    return path


def load_session(folder: str | Path | None = None) -> Session | None:
    """The last session, or None when there is none. Raises GalleryError for a damaged file."""
    path = Path(folder if folder is not None else gallery_dir()) / SESSION_FILE
    if not os.path.lexists(path):
        return None
    data = parse_json(
        read_limited(path, MAX_SESSION_BYTES, GalleryError, "session file"),
        path,
        GalleryError,
        "session file",
        allow_nan=False,
    )
    if (
        not isinstance(data, Mapping)
        or not isinstance(data.get("model"), str)
        or not isinstance(data.get("state"), Mapping)
    ):
        raise GalleryError(path, "the session file names no model and state")

    def states(key: str) -> list[dict[str, Any]]:
        raw = data.get(key)
        return (
            [clean_state(s) for s in raw[-MAX_SESSION_STEPS:] if isinstance(s, Mapping)]
            if isinstance(raw, list)
            else []
        )

    state = clean_state(data["state"])
    return Session(str(data["model"]), copy.deepcopy(state), states("undo"), states("redo"))
