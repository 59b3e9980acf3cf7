"""The one rule for where a job exports a model (studio.core.paths.model_out_stem), and the jobs that use it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from studio.core.errors import StudioError
from studio.core.paths import model_out_stem, user_models_dir

ROOT = Path(__file__).resolve().parents[2]


def test_no_out_is_the_default_name_in_the_user_models_folder():
    assert model_out_stem(None, "csgan-x") == user_models_dir() / "csgan-x"
    assert model_out_stem("", "csgan-x") == user_models_dir() / "csgan-x"


@pytest.mark.parametrize("name", ["mine", "mine.json", "mine.safetensors", "my model 2"])
def test_a_bare_name_stays_in_the_models_folder(name):
    stem = model_out_stem(name, "default")
    assert stem.parent == user_models_dir()
    assert stem.name == name.replace(".safetensors", "").replace(".json", "")


@pytest.mark.parametrize("bad", ["..", ".", ".hidden", "a\x00b", "x" * 500, "a\\..\\..\\b"])
def test_a_name_that_could_escape_or_hide_is_refused(bad):
    with pytest.raises(StudioError, match="--out"):
        model_out_stem(bad, "default")


def test_a_path_with_a_slash_is_taken_as_typed_relative_to_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert model_out_stem("../../x", "d") == Path("../../x")  # where the user pointed, not models/../../x
    assert model_out_stem("./x.json", "d") == Path("x")
    assert model_out_stem(str(tmp_path / "abs"), "d") == tmp_path / "abs"
    (tmp_path / "folder").mkdir()
    assert model_out_stem("folder/", "d") == Path("folder/d")  # an existing folder: the default name inside
    assert model_out_stem("./folder", "d") == Path("folder/d")
    with pytest.raises(StudioError):
        model_out_stem("x/..", "d")


def test_a_bundled_models_name_is_refused_in_the_user_folder(tmp_path):
    with pytest.raises(StudioError, match="bundled model has this name"):
        model_out_stem("emoji-dcgan", "d")
    with pytest.raises(StudioError, match="bundled model has this name"):
        model_out_stem(None, "emoji-dcgan")
    with pytest.raises(StudioError, match="bundled"):
        model_out_stem(str(user_models_dir() / "emoji-dcgan"), "d")
    # elsewhere, by a path the user typed, the name hides nothing
    assert model_out_stem(str(tmp_path / "emoji-dcgan"), "d") == tmp_path / "emoji-dcgan"


def test_a_default_name_must_be_a_name():
    with pytest.raises(StudioError, match="cannot be a model name"):
        model_out_stem(None, "../evil")


def _out_paths_of(task_file: Path) -> list[ast.FunctionDef]:
    tree = ast.parse(task_file.read_text())
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name in ("out_path", "out_stem")]


@pytest.mark.parametrize(
    "rel",
    [
        "studio/models/csgan/train.py",
        "studio/models/can/train.py",
        "studio/models/gadn/train.py",
        "studio/models/translate/train.py",
        "studio/models/csgan/finetune.py",
        "plugins/cppn_patterns.py",
    ],
)
def test_every_job_that_exports_a_model_uses_the_one_rule(rel):
    source = (ROOT / rel).read_text()
    assert "model_out_stem(" in source, rel
    assert "user_models_dir() /" not in source, f"{rel} builds a model path by hand"


def test_csgan_can_gadn_translator_cppn_tasks_put_a_bare_name_in_the_models_folder(tmp_path):
    from studio.models.can.train import CANOptions
    from studio.models.csgan.train import CSGANOptions
    from studio.models.gadn.train import GADNOptions

    home = user_models_dir()
    assert CSGANOptions.from_options({"data": "d", "out": "a"}).out_stem() == home / "a"
    assert CANOptions.from_options({"data": "d", "out": "b"}).out_stem() == home / "b"
    assert GADNOptions.from_options({"data": "d", "out": "c"}).out_stem() == home / "c"
    with pytest.raises(StudioError, match="bundled"):
        CSGANOptions.from_options({"data": "d", "out": "emoji-dcgan"}).out_stem()
    with pytest.raises(StudioError):
        GADNOptions.from_options({"data": "d", "out": ".."}).out_stem()
    from studio.core.registry import default_registry

    cppn = default_registry().get("cppn")
    job = cppn.make_job("train", data=str(tmp_path), out="pat", steps=1)
    assert job.task.out_path() == home / "pat"
    create = cppn.make_job("create", out="../../x", seed=1)
    assert create.out == Path("../../x")  # a path the user typed


def test_finetune_out_name_cannot_escape_the_models_folder(tmp_path, tiny_model):
    from studio.models.csgan.finetune import FinetuneConfig, FinetuneTask
    from studio.train import TrainerOptions

    folder = tmp_path / "models-home"
    job = FinetuneTask(
        tiny_model, tmp_path / "p.png", FinetuneConfig(), TrainerOptions(), out="child", models_dir=folder
    )
    assert job.out_path() == folder / "child"
    for bad in ("..", ".sneaky"):
        job = FinetuneTask(
            tiny_model, tmp_path / "p.png", FinetuneConfig(), TrainerOptions(), out=bad, models_dir=folder
        )
        with pytest.raises(StudioError):
            job.out_path()
    job = FinetuneTask(tiny_model, tmp_path / "p.png", FinetuneConfig(), TrainerOptions(), out="emoji-dcgan")
    with pytest.raises(StudioError, match="bundled"):
        job.out_path()
