"""Every bundled model loads, renders images in range, and its card tells how it was made and scored."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from studio.core.checkpoint import read_card
from studio.core.paths import bundled_models_dir
from studio.core.store import ModelStore, load_model

CARDS = sorted(bundled_models_dir().glob("*.json"))


def test_the_default_model_is_bundled():
    assert "emoji-dcgan" in {c.stem for c in CARDS}
    assert ModelStore().default_id() == "emoji-dcgan"


@pytest.mark.parametrize("card_path", CARDS, ids=[c.stem for c in CARDS])
def test_bundled_model_renders_and_its_card_is_complete(card_path):
    card = read_card(card_path)
    t = card.training
    assert t.command.startswith("studio ") and t.data and t.licence and t.steps > 0 and t.wall_time_s > 0
    scores = card.metrics.get("evaluation") or card.metrics.get("translation")
    assert scores, "the card carries no scores computed by studio eval / translate_eval"
    model = load_model(card_path, device="cpu")
    states = [model.default_state(card_path.stem, seed) for seed in (0, 1)]
    images = model.render(states)
    assert images.shape == (2, 3, card.image_size, card.image_size)
    assert torch.isfinite(images).all() and images.min() >= 0 and images.max() <= 1
    assert not torch.equal(images[0], images[1]) or card.family in ("cyclegan", "ugatit")


def test_a_wheel_install_finds_the_bundled_models_inside_the_package(tmp_path, monkeypatch):
    """An installed wheel carries the models and the example plugin as studio/_bundled (setup.py copies them
    there; scripts/check_wheel.sh runs a real wheel); they are found through importlib.resources."""
    from studio.core import paths

    bundled = tmp_path / "site-packages" / "studio" / "_bundled"
    (bundled / "resources" / "models").mkdir(parents=True)
    monkeypatch.delenv("STUDIO_RESOURCES", raising=False)
    monkeypatch.setattr(paths.importlib.resources, "files", lambda package: tmp_path / "site-packages" / package)
    assert paths.bundled_models_dir() == bundled / "resources" / "models"
    assert paths.plugin_dirs()[0] == bundled / "plugins"


def test_a_checkout_reads_resources_and_plugins_beside_the_package(monkeypatch):
    from studio.core import paths

    monkeypatch.delenv("STUDIO_RESOURCES", raising=False)
    root = Path(paths.__file__).resolve().parents[2]
    assert paths._package_data_dir() is None  # nothing is copied into the source tree
    assert paths.bundled_models_dir() == root / "resources" / "models"
    assert paths.plugin_dirs()[0] == root / "plugins"


def test_user_folders_are_the_platform_ones_unless_studio_home_is_set(tmp_path, monkeypatch):
    from studio.core import paths

    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    assert paths.user_models_dir() == tmp_path / "home" / "models"
    assert paths.cache_home() == tmp_path / "home" / "cache"
    monkeypatch.delenv("STUDIO_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    if sys.platform.startswith("linux"):  # where existing users' models already are
        assert paths.studio_home() == tmp_path / "data" / "gan-studio"
        assert paths.cache_home() == tmp_path / "cache" / "gan-studio"
    assert paths.studio_home().name == "gan-studio" and paths.cache_home().name == "gan-studio"
