"""Checkpoints: round trip, validation errors name the file, atomic saves, pickles are refused."""

import json
import pickle

import pytest
import torch

from studio.core.checkpoint import (
    FORMAT_VERSION,
    ModelCard,
    TrainingInfo,
    import_legacy,
    load_checkpoint,
    load_module_tensors,
    module_tensors,
    read_card,
    save_checkpoint,
    update_card,
)
from studio.core.errors import CheckpointError


def _card(**kw):
    base = dict(
        name="m",
        family="cppn",
        config={"a": 1},
        image_size=8,
        latent_dim=4,
        training=TrainingInfo(data="d", licence="MIT", command="c", steps=3, wall_time_s=1.5),
    )
    base.update(kw)
    return ModelCard(**base)


def _save(tmp_path, name="m"):
    tensors = {"g.w": torch.arange(6, dtype=torch.float32).reshape(2, 3)}
    save_checkpoint(tmp_path / name, tensors, _card(name=name))
    return tmp_path / name


def test_round_trip_keeps_tensors_and_card(tmp_path):
    stem = _save(tmp_path)
    tensors, card = load_checkpoint(stem.with_suffix(".json"))
    assert torch.equal(tensors["g.w"], torch.arange(6, dtype=torch.float32).reshape(2, 3))
    assert card.training.steps == 3 and card.format_version == FORMAT_VERSION
    assert card.tensors_sha256 and card.created
    # any of the three spellings finds the same checkpoint
    assert load_checkpoint(stem.with_suffix(".safetensors"))[1].name == "m"


def test_no_temp_files_left(tmp_path):
    _save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]


def test_truncated_tensors_file_is_a_clear_error(tmp_path):
    stem = _save(tmp_path)
    data = stem.with_suffix(".safetensors").read_bytes()
    stem.with_suffix(".safetensors").write_bytes(data[:-5])
    with pytest.raises(CheckpointError, match="m.safetensors.*truncated"):
        load_checkpoint(stem.with_suffix(".json"), verify_hash=False)


def test_changed_tensors_do_not_match_card(tmp_path):
    stem = _save(tmp_path)
    other = tmp_path / "o"
    save_checkpoint(other, {"g.w": torch.zeros(2, 3)}, _card(name="o"))
    stem.with_suffix(".safetensors").write_bytes(other.with_suffix(".safetensors").read_bytes())
    with pytest.raises(CheckpointError, match="do not match"):
        load_checkpoint(stem.with_suffix(".json"))


@pytest.mark.parametrize(
    "payload,pattern",
    [
        (pickle.dumps({"w": [1, 2, 3]}, protocol=4), "pickle"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 20, "not a checkpoint"),
        (b"\x00" * 3, "too short"),
        (b"\xff" * 64, "damaged|truncated"),
    ],
)
def test_foreign_tensor_files_are_refused(tmp_path, payload, pattern):
    stem = _save(tmp_path)
    stem.with_suffix(".safetensors").write_bytes(payload)
    with pytest.raises(CheckpointError, match=pattern):
        load_checkpoint(stem.with_suffix(".json"), verify_hash=False)


def test_torch_zip_pickle_is_refused_without_unpickling(tmp_path):
    stem = _save(tmp_path)
    torch.save({"w": torch.ones(2)}, stem.with_suffix(".safetensors"))
    with pytest.raises(CheckpointError, match="never unpickles"):
        load_checkpoint(stem.with_suffix(".json"), verify_hash=False)


@pytest.mark.parametrize(
    "text,pattern",
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"format": "other"}), "not a GAN Studio model card"),
        (
            json.dumps(
                {
                    "format": "gan-studio-model",
                    "format_version": 99,
                    "name": "x",
                    "family": "f",
                    "config": {},
                    "image_size": 8,
                }
            ),
            "newer than",
        ),
        (
            json.dumps({"format": "gan-studio-model", "format_version": 1, "name": "x", "family": "f", "config": {}}),
            "image_size",
        ),
    ],
)
def test_bad_cards_are_clear_errors(tmp_path, text, pattern):
    (tmp_path / "bad.json").write_text(text)
    with pytest.raises(CheckpointError, match=pattern) as err:
        read_card(tmp_path / "bad.json")
    assert "bad.json" in str(err.value)


def test_missing_tensors_file(tmp_path):
    stem = _save(tmp_path)
    stem.with_suffix(".safetensors").unlink()
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(stem.with_suffix(".json"))


def test_failed_save_leaves_previous_checkpoint_intact(tmp_path, monkeypatch):
    stem = _save(tmp_path)
    before = stem.with_suffix(".safetensors").read_bytes()
    import safetensors.torch

    def boom(tensors, filename, metadata=None):
        with open(filename, "wb") as fh:
            fh.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", boom)
    with pytest.raises(CheckpointError, match="could not save"):
        save_checkpoint(stem, {"g.w": torch.ones(1)}, _card())
    assert stem.with_suffix(".safetensors").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]
    load_checkpoint(stem.with_suffix(".json"))


def test_module_tensors_round_trip_and_mismatch():
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    load_module_tensors("net", b, module_tensors("net", a))
    assert torch.equal(a.weight, b.weight)
    with pytest.raises(CheckpointError, match="do not fit"):
        load_module_tensors("net", torch.nn.Linear(4, 2), module_tensors("net", a))
    with pytest.raises(CheckpointError, match="no 'other' network"):
        load_module_tensors("other", b, module_tensors("net", a))


def test_update_card_changes_only_named_fields(tmp_path):
    stem = _save(tmp_path)
    update_card(stem, metrics={"fid": 1.0})
    tensors, card = load_checkpoint(stem)
    assert card.metrics == {"fid": 1.0} and card.training.steps == 3


def test_import_legacy_reads_tensors_and_refuses_objects(tmp_path):
    good = tmp_path / "good.pt"
    torch.save({"state_dict": {"w": torch.ones(2)}}, good)
    assert torch.equal(import_legacy(good)["w"], torch.ones(2))

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    evil = tmp_path / "evil.pt"
    torch.save({"w": Evil()}, evil)
    with pytest.raises(CheckpointError, match="weights-only"):
        import_legacy(evil)


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, not even except/finally clean-up of the caller's."""


@pytest.mark.parametrize("kill_at, expect", [(1, "old"), (2, "new")])
def test_a_kill_between_the_two_renames_leaves_the_old_or_the_new_pair(tmp_path, monkeypatch, kill_at, expect):
    import os

    import studio.core.atomic as atomic
    import studio.core.checkpoint as checkpoint

    _save(tmp_path)
    real_replace = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        # renames: 1 the pending card file into place, 2 the tensors, 3 the card
        if len(calls) == kill_at + 1:
            raise _Killed()
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    monkeypatch.setattr(checkpoint.os, "replace", replace)
    new = {"g.w": torch.full((2, 3), 7.0)}
    with pytest.raises(_Killed):
        save_checkpoint(tmp_path / "m", new, _card(name="m", metrics={"v": 2}))
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    monkeypatch.setattr(checkpoint.os, "replace", real_replace)
    tensors, card = load_checkpoint(tmp_path / "m.json")
    if expect == "old":
        assert torch.equal(tensors["g.w"], torch.arange(6, dtype=torch.float32).reshape(2, 3)) and not card.metrics
    else:
        assert torch.equal(tensors["g.w"], new["g.w"]) and card.metrics == {"v": 2}
        assert read_card(tmp_path / "m.json").metrics == {"v": 2}  # the save was finished on load
    assert load_checkpoint(tmp_path / "m.json")[1].metrics == card.metrics
