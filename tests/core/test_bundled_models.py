"""Every bundled model loads, renders images in range, and its card tells how it was made and scored."""

from __future__ import annotations

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


def test_a_wheel_install_finds_the_bundled_models_in_its_data_folder(tmp_path, monkeypatch):
    """Without a checkout next to the package, the models come from <prefix>/share/gan-studio (the wheel's
    data files, see pyproject.toml), and the example plugin from the plugins folder beside them."""
    from studio.core import paths

    share = tmp_path / "prefix" / "share" / "gan-studio"
    (share / "resources" / "models").mkdir(parents=True)
    monkeypatch.delenv("STUDIO_RESOURCES", raising=False)
    monkeypatch.setattr(paths, "_checkout_dir", lambda: tmp_path / "site-packages")  # no resources/ there
    monkeypatch.setattr(paths, "_installed_data_dirs", lambda: [tmp_path / "elsewhere", share])
    assert paths.bundled_models_dir() == share / "resources" / "models"
    assert paths.plugin_dirs()[0] == share / "plugins"
