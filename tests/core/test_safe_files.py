"""The models folder no file can break: size and depth limits, regular files only, per-file problems,
nonsense card values refused, ``models validate FILE`` about FILE only, ``models import``."""

from __future__ import annotations

import json
import os
import pickle
import threading

import pytest
import torch

from studio.cli import main
from studio.core.checkpoint import load_checkpoint, read_card
from studio.core.errors import CheckpointError, FileProblem
from studio.core.safeio import json_depth, parse_json, read_json, read_limited
from studio.core.store import ModelStore

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")


def _bounded(fn, seconds=10.0):
    """Run fn() in a thread; fail (instead of hanging the suite) if it does not return in time."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the test
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"{fn} hung for more than {seconds} s"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def test_json_depth_ignores_brackets_in_strings():
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{"}]}') == 3
    assert json_depth("[]") == 1 and json_depth("1") == 0


def test_deeply_nested_json_is_a_clear_error_not_recursion(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 1000)
    with pytest.raises(CheckpointError, match="nests deeper than 64 levels"):
        read_json(deep, 1 << 20, CheckpointError, "model card")
    with pytest.raises(FileProblem, match="nests deeper"):
        parse_json("[" * 100000 + "]" * 100000, "x.json")


def test_size_limit_is_checked_before_reading(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 2048)
    with pytest.raises(FileProblem, match="over the 1 KB limit"):
        read_limited(big, 1024)


def test_nan_is_refused_only_when_asked(tmp_path):
    assert parse_json('{"a": NaN}', "s.json")["a"] != 0
    with pytest.raises(FileProblem, match="not valid JSON"):
        parse_json('{"a": NaN}', "s.json", allow_nan=False)


@needs_fifo
def test_fifo_and_device_cards_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(CheckpointError, match="named pipe"):
        _bounded(lambda: read_card(fifo))
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(CheckpointError, match="a device"):
        _bounded(lambda: read_card(link))


@needs_fifo
def test_fifo_tensors_file_is_refused_without_blocking(tiny_model):
    tensors = tiny_model.with_suffix(".safetensors")
    tensors.unlink()
    os.mkfifo(tensors)
    with pytest.raises(CheckpointError, match="named pipe"):
        _bounded(lambda: load_checkpoint(tiny_model))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"latent_dim": -5}, "latent_dim"),
        ({"latent_dim": "8"}, "latent_dim"),
        ({"latent_dim": True}, "latent_dim"),
        ({"image_size": 0}, "image_size"),
        ({"image_size": 10**9}, "image_size"),
        ({"image_size": 16.0}, "image_size"),
        ({"metrics": "x"}, "metrics"),
        ({"extra": [1]}, "extra"),
        ({"parent": 5}, "parent"),
        ({"name": ""}, "name"),
        ({"labels": {"colour": [1, 2]}}, "labels"),
        ({"training": {"steps": -1}}, "training.steps"),
        ({"training": {"wall_time_s": "long"}}, "training.wall_time_s"),
        ({"training": {"data": 7}}, "training.data"),
        ({"tensors_sha256": "abc"}, "tensors_sha256"),
    ],
)
def test_nonsense_card_values_fail_validation_clearly(tiny_model, change, message):
    card = json.loads(tiny_model.read_text())
    card.update(change)
    tiny_model.write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match=message) as info:
        read_card(tiny_model)
    assert info.value.path.name == "tiny.json"


def _user_models(home_models, tiny_model):
    """The tiny model copied into the user models folder (STUDIO_HOME/models)."""
    home_models.mkdir(parents=True, exist_ok=True)
    for suffix in (".json", ".safetensors"):
        (home_models / f"good{suffix}").write_bytes(tiny_model.with_suffix(suffix).read_bytes())
    return home_models


@pytest.fixture
def user_models(tmp_path, tiny_model):
    return _user_models(tmp_path / "studio-home" / "models", tiny_model)


@needs_fifo
def test_store_lists_the_rest_whatever_one_file_is(user_models, tmp_path):
    (user_models / "deep.json").write_text("[" * 1000)
    os.mkfifo(user_models / "fifo.json")
    (user_models / "zero.json").symlink_to("/dev/zero")
    outside = tmp_path / "elsewhere.json"
    outside.write_text((user_models / "good.json").read_text())
    (user_models / "outside.json").symlink_to(outside)
    (user_models / "pipe-tensors.json").write_text((user_models / "good.json").read_text())
    os.mkfifo(user_models / "pipe-tensors.safetensors")
    (user_models / "bad-values.json").write_text(
        (user_models / "good.json").read_text().replace('"latent_dim": 8', '"latent_dim": -5')
    )
    store = _bounded(ModelStore)
    assert "good" in store.entries
    problems = "\n".join(store.problems)
    for name, reason in [
        ("deep.json", "nests deeper"),
        ("fifo.json", "named pipe"),
        ("zero.json", "link to /dev/zero, outside the models folder"),
        ("outside.json", "outside the models folder"),
        ("pipe-tensors.json", "named pipe"),
        ("bad-values.json", "latent_dim"),
    ]:
        line = next((p for p in store.problems if name in p), "")
        assert reason in line, (name, problems)
    assert not {"deep", "fifo", "zero", "outside", "pipe-tensors", "bad-values"} & set(store.entries)


def test_a_link_inside_the_folder_is_listed(user_models):
    (user_models / "alias.json").symlink_to(user_models / "good.json")
    (user_models / "alias.safetensors").symlink_to(user_models / "good.safetensors")
    assert "alias" in ModelStore().entries


def test_validate_file_reports_on_that_file_only(user_models, capsys):
    (user_models / "broken.json").write_text("[" * 1000)
    assert main(["models", "validate", str(user_models / "good.json")]) == 0
    out = capsys.readouterr().out
    assert "ok " in out and "broken" not in out
    assert main(["models", "validate", "good"]) == 0  # an id works too
    capsys.readouterr()
    assert main(["models", "validate", "--all"]) == 1
    out = capsys.readouterr().out
    assert "broken.json" in out and "nests deeper" in out


def test_validate_a_bad_file_exits_1_with_its_problem(user_models, capsys):
    bad = user_models / "bad.json"
    bad.write_text(
        '{"format": "gan-studio-model", "format_version": 1, "name": "b", "family": "x", '
        '"config": {}, "image_size": 16, "latent_dim": -5}'
    )
    assert main(["models", "validate", str(bad)]) == 1
    assert "latent_dim" in capsys.readouterr().out


def test_pickle_message_names_a_command_that_exists(user_models, capsys):
    (user_models / "good.safetensors").write_bytes(pickle.dumps({"x": 1}))
    assert main(["models", "validate", "good"]) == 1
    out = capsys.readouterr().out
    assert "studio models import good.safetensors --like MODEL" in out
    try:  # ... and that command exists
        code = main(["models", "import", "--help"])
    except SystemExit as exc:
        code = exc.code
    assert code == 0
    assert "weights_only=True" in capsys.readouterr().out


class _Evil:
    def __reduce__(self):
        return (open, (os.environ["STUDIO_HOME"] + "/PWNED", "w"))


def test_models_import_converts_a_state_dict_and_never_unpickles_code(user_models, tmp_path, capsys):
    tensors, _ = load_checkpoint(user_models / "good.json")
    legacy = tmp_path / "old.pt"
    torch.save(dict(tensors), legacy)
    assert main(["models", "import", str(legacy), "--like", "good", "--out", "imported"]) == 0
    loaded, card = load_checkpoint(user_models / "imported.json")
    assert card.family == "tiny-test" and card.name == "imported"
    assert torch.equal(loaded["net.weight"], tensors["net.weight"])
    capsys.readouterr()
    # a state dict that does not fit the architecture is refused, nothing is written
    torch.save({"net.weight": torch.zeros(2, 2)}, tmp_path / "wrong.pt")
    assert main(["models", "import", str(tmp_path / "wrong.pt"), "--like", "good"]) == 1
    assert "do not fit" in capsys.readouterr().err
    assert not (user_models / "wrong.json").exists()
    # a pickle that would run code is refused and runs nothing
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps(_Evil()))
    assert main(["models", "import", str(evil), "--like", "good"]) == 1
    assert "weights-only" in capsys.readouterr().err
    assert not (tmp_path / "studio-home" / "PWNED").exists()


@needs_fifo
def test_images_from_a_fifo_or_a_device_are_refused_without_blocking(tmp_path):
    from studio.core.errors import ImageLoadError
    from studio.core.images import load_image

    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    with pytest.raises(ImageLoadError, match="named pipe"):
        _bounded(lambda: load_image(fifo))
    zero = tmp_path / "zero.jpg"
    zero.symlink_to("/dev/zero")
    with pytest.raises(ImageLoadError, match="a device"):
        _bounded(lambda: load_image(zero))
