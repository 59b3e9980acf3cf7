"""Shared test setup: Qt runs offscreen, user folders live in a temp dir, and a tiny random model.

``tiny_model`` gives the path of a real checkpoint (safetensors + card) of a 16 px latent family
registered for the test session, so engine/UI tests never need a trained model.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from studio.engine.refguard import install as _install_refguard

_install_refguard()  # PySide6 6.12 on Python 3.11 drops refs to None/True/False (see refguard.py)

from collections.abc import Mapping, Sequence  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from studio.core.checkpoint import ModelCard, TrainingInfo, save_checkpoint  # noqa: E402
from studio.core.family import Control, Family, LatentModel  # noqa: E402


class TinyLoaded(LatentModel):
    """z (8) -> 3x16x16 through one linear layer; a colour label and a brightness scalar."""

    def __init__(self, card, device, tensors):
        super().__init__(card, device)
        self.latent_dim = card.latent_dim
        size = card.image_size
        self.net = torch.nn.Linear(self.latent_dim, 3 * size * size).to(device)
        self.net.load_state_dict({"weight": tensors["net.weight"], "bias": tensors["net.bias"]})
        self.pca_directions = tensors["pca.directions"]
        self.pca_stds = tensors["pca.stds"]
        self.colours = card.labels.get("colour", ["red", "green", "blue"])

    def controls(self) -> list[Control]:
        return super().controls() + [
            Control("choice", "colour", "Colour", options=tuple(self.colours), default=self.colours[0]),
            Control("scalar", "brightness", "Brightness", 0.0, 2.0, 1.0),
        ]

    def render(self, states: Sequence[Mapping[str, Any]]) -> torch.Tensor:
        z = self.latents_for(states).to(self.device)
        size = self.card.image_size
        x = torch.sigmoid(self.net(z) * 3.0).view(-1, 3, size, size)
        for i, s in enumerate(states):
            colour = (s.get("labels") or {}).get("colour", self.colours[0])
            ch = self.colours.index(colour) % 3 if colour in self.colours else 0
            x[i, ch] = x[i, ch] * 0.5 + 0.5
            x[i] = x[i] * float((s.get("scalars") or {}).get("brightness", 1.0))
        return x.clamp(0, 1).cpu()


class TinyFamily(Family):
    name = "tiny-test"
    title = "Tiny test family"

    def load(self, tensors, card, device):
        return TinyLoaded(card, device, tensors)


def make_tiny_checkpoint(stem, latent_dim: int = 8, size: int = 16, seed: int = 0, parent=None):
    gen = torch.Generator().manual_seed(seed)
    tensors = {
        "net.weight": torch.randn(3 * size * size, latent_dim, generator=gen) * 0.5,
        "net.bias": torch.zeros(3 * size * size),
        "pca.directions": torch.linalg.qr(torch.randn(latent_dim, 4, generator=gen))[0].T.contiguous(),
        "pca.stds": torch.ones(4),
    }
    card = ModelCard(
        name=os.path.basename(str(stem)),
        family=TinyFamily.name,
        config={"size": size},
        image_size=size,
        latent_dim=latent_dim,
        labels={"colour": ["red", "green", "blue"]},
        training=TrainingInfo(data="random", licence="CC0", command="tests", steps=0),
        parent=parent,
    )
    return save_checkpoint(stem, tensors, card)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own STUDIO_HOME so user models/settings never leak between tests."""
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "studio-home"))


@pytest.fixture
def tiny_family():
    from studio.core.registry import default_registry

    reg = default_registry()
    if TinyFamily.name not in reg.families:
        reg.add(TinyFamily, "tests/conftest.py")
    return reg.families[TinyFamily.name]


@pytest.fixture
def tiny_models_dir(tmp_path, tiny_family):
    """A model folder with a tiny model 'tiny' and a fine-tuned child 'tiny-child'."""
    folder = tmp_path / "models"
    folder.mkdir()
    make_tiny_checkpoint(folder / "tiny", seed=0)
    make_tiny_checkpoint(folder / "tiny-child", seed=1, parent="tiny")
    return folder


@pytest.fixture
def tiny_model(tiny_models_dir):
    """The card path of the tiny model."""
    return tiny_models_dir / "tiny.json"


@pytest.fixture
def make_tiny(tiny_family):
    """make_tiny(path_stem, seed=0, parent=None) -> card path of a new tiny checkpoint."""
    return make_tiny_checkpoint


def tiny_feature_net():
    """A random 2-layer conv net registered as a feature network (no weights to download)."""
    from torch import nn

    from studio.metrics.features import FeatureNet

    torch.manual_seed(0)
    body = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )
    head = nn.Linear(16, 5)
    return FeatureNet("tiny-random", "random 2-layer conv net (tests only)", body, head, body, input_size=16)


@pytest.fixture
def tiny_features():
    from studio.metrics.features import register_feature_net

    register_feature_net("tiny-random", tiny_feature_net)
    return "tiny-random"
