"""Atomic saves: the folder is synced after each rename, what a killed save leaves behind is put right by
the next save (and never loaded), and the crash test's pause hook stops exactly where it is told."""

from __future__ import annotations

import os

import pytest
import torch

import studio.core.atomic as atomic
from studio.core.atomic import atomic_write_text, pause_point, remove_temp_files, replace_file
from studio.core.checkpoint import (
    ModelCard,
    finish_interrupted_save,
    load_checkpoint,
    pending_card_path,
    read_card,
    save_checkpoint,
)

OLD = torch.arange(6, dtype=torch.float32).reshape(2, 3)
NEW = torch.full((2, 3), 7.0)


def _card(**kw):
    return ModelCard(name="m", family="cppn", config={}, image_size=8, latent_dim=4, **kw)


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


def _kill_save_at(monkeypatch, stem, point: str):
    """Run a save of NEW over ``stem`` and 'kill' it at ``point`` (NAME:STAGE of the pause hook)."""

    def hook(name, stage):
        if f"{name}:{stage}" == point:
            raise _Killed()

    monkeypatch.setattr(atomic, "pause_point", hook)
    with pytest.raises(_Killed):
        save_checkpoint(stem, {"g.w": NEW}, _card(metrics={"v": 2}))
    monkeypatch.undo()


def test_the_folder_is_synced_after_every_rename(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(atomic, "fsync_dir", lambda folder: synced.append(os.fspath(folder)))
    save_checkpoint(tmp_path / "m", {"g.w": OLD}, _card())
    # three renames: the pending card, the tensors, the pending card over the card
    assert synced == [str(tmp_path)] * 3


def test_fsync_dir_really_syncs_a_folder_and_is_skipped_without_o_directory(tmp_path, monkeypatch):
    calls = []
    real_fsync = os.fsync
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: calls.append(fd) or real_fsync(fd))
    atomic.fsync_dir(tmp_path)
    if hasattr(os, "O_DIRECTORY"):
        assert len(calls) == 1
    calls.clear()
    monkeypatch.delattr(atomic.os, "O_DIRECTORY", raising=False)
    atomic.fsync_dir(tmp_path)  # e.g. Windows: nothing to open, no error
    assert calls == []
    atomic.fsync_dir(tmp_path / "missing")  # never raises


@pytest.mark.parametrize(
    "point, survivor",
    [
        (".m.json.pending:before_rename", "old"),
        (".m.json.pending:after_rename", "old"),  # pending card in place, tensors not
        ("m.safetensors:before_rename", "old"),
        ("m.safetensors:after_rename", "new"),  # between the renames: the load finishes the save
        ("m.json:before_rename", "new"),
        ("m.json:after_rename", "new"),
    ],
)
def test_a_kill_anywhere_in_a_save_leaves_a_loadable_pair_and_the_next_save_cleans_up(
    tmp_path, monkeypatch, point, survivor
):
    stem = tmp_path / "m"
    save_checkpoint(stem, {"g.w": OLD}, _card())
    _kill_save_at(monkeypatch, stem, point)
    (tmp_path / ".m.safetensors.k1l2m3.tmp").write_bytes(b"half")  # a real SIGKILL leaves its temp file
    tensors, card = load_checkpoint(stem)
    assert torch.equal(tensors["g.w"], OLD if survivor == "old" else NEW)
    assert card.metrics == ({} if survivor == "old" else {"v": 2})
    # the next save of the model finishes or drops what the killed one left, then saves cleanly
    save_checkpoint(stem, {"g.w": OLD + 1}, _card(metrics={"v": 3}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]
    tensors, card = load_checkpoint(stem)
    assert torch.equal(tensors["g.w"], OLD + 1) and card.metrics == {"v": 3}


def test_a_second_save_killed_after_an_unfinished_one_never_mixes_the_pair(tmp_path, monkeypatch):
    """Kill 1 lands the tensors but not the card; kill 2 (the next save) dies with its pending card in
    place. Without finishing save 1 first, save 2's pending card would have replaced the only card that
    matched the tensors on disk."""
    stem = tmp_path / "m"
    save_checkpoint(stem, {"g.w": OLD}, _card())
    _kill_save_at(monkeypatch, stem, "m.safetensors:after_rename")  # tensors NEW, card OLD, pending NEW

    def hook(name, stage):
        if (name, stage) == ("m.safetensors", "before_rename"):
            raise _Killed()

    monkeypatch.setattr(atomic, "pause_point", hook)
    with pytest.raises(_Killed):
        save_checkpoint(stem, {"g.w": OLD + 5}, _card(metrics={"v": 9}))
    monkeypatch.undo()
    tensors, card = load_checkpoint(stem)
    assert torch.equal(tensors["g.w"], NEW) and card.metrics == {"v": 2}


def test_a_first_save_killed_between_its_renames_is_finished_by_the_load(tmp_path, monkeypatch):
    stem = tmp_path / "m"
    _kill_save_at(monkeypatch, stem, "m.safetensors:after_rename")
    assert not (tmp_path / "m.json").exists() and pending_card_path(stem).exists()
    tensors, card = load_checkpoint(tmp_path / "m.json")
    assert torch.equal(tensors["g.w"], NEW) and read_card(stem).metrics == {"v": 2}
    assert not pending_card_path(stem).exists()


def test_an_orphaned_pending_card_and_temp_files_are_dropped_never_used(tmp_path, monkeypatch):
    stem = tmp_path / "m"
    save_checkpoint(stem, {"g.w": OLD}, _card())
    _kill_save_at(monkeypatch, stem, "m.safetensors:before_rename")  # pending NEW, tensors OLD
    # what a real SIGKILL also leaves (the simulated kill above ran the temp files' clean-up)
    temps = [".m.safetensors.k1l2m3.tmp", "..m.json.pending.a1b2c3.tmp", ".m.json.x9y8z7.tmp"]
    for name in temps:
        (tmp_path / name).write_bytes(b"half a file")
    assert load_checkpoint(stem)[1].metrics == {}  # the old pair; nothing left over is read
    assert finish_interrupted_save(stem) == "discarded"
    assert not pending_card_path(stem).exists()
    assert remove_temp_files(tmp_path / "m.safetensors") == 1
    save_checkpoint(stem, {"g.w": NEW}, _card(metrics={"v": 4}))  # the next save removes the rest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]
    assert load_checkpoint(stem)[1].metrics == {"v": 4}


def test_pause_hook_stops_at_the_named_point_and_pass(tmp_path, monkeypatch, capsys):
    slept = []
    monkeypatch.setattr(atomic.time, "sleep", slept.append)
    monkeypatch.setattr(atomic, "_pause_hits", {})
    monkeypatch.setenv(atomic.PAUSE_ENV, "x.txt:after_rename@2")
    monkeypatch.setenv(atomic.PAUSE_SECONDS_ENV, "3")
    atomic_write_text(tmp_path / "x.txt", "1")
    atomic_write_text(tmp_path / "y.txt", "1")
    assert slept == [] and "STUDIO_TEST_PAUSED" not in capsys.readouterr().err
    atomic_write_text(tmp_path / "x.txt", "2")  # the second pass through x.txt:after_rename
    assert slept == [3.0]
    assert "STUDIO_TEST_PAUSED x.txt:after_rename" in capsys.readouterr().err
    assert (tmp_path / "x.txt").read_text() == "2"  # it paused after the rename, as named
    monkeypatch.delenv(atomic.PAUSE_ENV)
    pause_point("x.txt", "after_rename")
    assert slept == [3.0]


def test_replace_file_passes_both_points_around_the_rename(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(atomic, "pause_point", lambda name, stage: seen.append((stage, (tmp_path / "b").exists())))
    (tmp_path / "a").write_text("a")
    replace_file(tmp_path / "a", tmp_path / "b")
    assert seen == [("before_rename", False), ("after_rename", True)]
