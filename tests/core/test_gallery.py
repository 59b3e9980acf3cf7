"""The gallery keeps states with thumbnails and lineage across instances; a damaged file is never lost."""

from __future__ import annotations

import json

import numpy as np
import pytest

from studio.core.gallery import Gallery, GalleryError, Session, load_session, save_session


def test_entries_thumbnails_and_lineage_survive_a_new_instance(tmp_path):
    g = Gallery(tmp_path)
    a = g.add({"model": "m1", "seed": 1}, thumbnail=np.zeros((16, 16, 3), np.uint8))
    b = g.add({"model": "m1", "seed": 2})
    c = g.add(
        {"model": "m1", "seed": 3}, origin="bred", parents=[{"id": a.id, "weight": 0.4}, {"id": b.id, "weight": 0.6}]
    )
    d = g.add({"model": "m1", "seed": 4}, origin="bred", parents=[{"id": c.id, "weight": 1.0}])
    g.add({"model": "other", "seed": 9}, origin="switched")
    again = Gallery(tmp_path)
    assert [e.id for e in again.entries] == [e.id for e in g.entries] and again.problem == ""
    assert again.get(c.id).parents == [{"id": a.id, "weight": 0.4}, {"id": b.id, "weight": 0.6}]
    assert [e.id for e in again.lineage(d.id)] == [c.id, a.id, b.id]
    assert {e.model for e in again.entries} == {"m1", "other"}
    assert again.thumb_path(a.id).is_file()
    assert again.get(b.id).state["seed"] == 2 and again.get(b.id).origin == "kept"
    assert again.remove([a.id]) == 1 and not again.thumb_path(a.id).exists()


def test_a_state_already_kept_is_not_added_twice(tmp_path):
    g = Gallery(tmp_path)
    first = g.add({"model": "m", "seed": 1})
    g.add({"model": "m", "seed": 2})
    assert g.add({"model": "m", "seed": 1}).id == first.id and len(g.entries) == 2
    assert g.add({"model": "other", "seed": 1}).id != first.id  # the same seed of another model is another state


@pytest.mark.parametrize("content", [b"{not json", b'{"version": 1}', b"[1, 2]", b'{"version": 99, "entries": []}'])
def test_a_damaged_gallery_is_reported_and_kept_aside_not_overwritten(tmp_path, content):
    (tmp_path / "gallery.json").write_bytes(content)
    g = Gallery(tmp_path)
    assert g.entries == [] and "could not be read" in g.problem and "gallery.json" in g.problem
    assert (tmp_path / "gallery.json").read_bytes() == content  # reading never changes it
    g.add({"model": "m", "seed": 5})
    assert (tmp_path / "gallery.damaged-1.json").read_bytes() == content
    assert [e.state["seed"] for e in Gallery(tmp_path).entries] == [5]


def test_hostile_entries_are_skipped_and_the_file_kept(tmp_path):
    good = {"id": "abcdef012345", "model": "m", "state": {"seed": 3}}
    hostile = [
        {"id": "../../etc/passwd", "model": "m", "state": {}},
        {"id": "abcdef0123456", "model": "m", "state": {"seed": "x", "z_edits": {"0": 1e300}}},
        "nonsense",
    ]
    (tmp_path / "gallery.json").write_text(json.dumps({"version": 1, "entries": [good, *hostile]}))
    g = Gallery(tmp_path)
    assert [e.id for e in g.entries] == ["abcdef012345", "abcdef0123456"]
    assert g.entries[1].state["seed"] == 0 and g.entries[1].state["z_edits"] == {"0": 100.0}  # cleaned, clamped
    assert "2 damaged entries" in g.problem
    with pytest.raises(ValueError):
        g.thumb_path("../x")


def test_the_session_round_trips_and_a_damaged_one_is_a_clear_error(tmp_path):
    assert load_session(tmp_path) is None
    save_session(Session("m", {"model": "m", "seed": 4}, [{"model": "m", "seed": 1}], []), tmp_path)
    s = load_session(tmp_path)
    assert s is not None and s.model == "m" and s.state["seed"] == 4 and s.undo[0]["seed"] == 1
    (tmp_path / "session.json").write_text("[]")
    with pytest.raises(GalleryError, match="session.json"):
        load_session(tmp_path)
