"""Crossbreeding mixes codes between the parents, labels by weight; picking a grid cell bakes its variation."""

from __future__ import annotations

import pytest
import torch

from studio.core.breed import bake_variation, cell_at, crossbreed, mix_codes
from studio.core.errors import StudioError
from studio.core.family import LatentModel


class Latent(LatentModel):
    def __init__(self, dim: int = 16) -> None:
        self.latent_dim = dim
        gen = torch.Generator().manual_seed(0)
        self.pca_directions = torch.linalg.qr(torch.randn(dim, 3, generator=gen))[0].T.contiguous()
        self.pca_stds = torch.ones(3)

    def render(self, states):  # pragma: no cover - not used here
        raise NotImplementedError


class Content:
    """A GADN-like model: an explicit content code and a blendable pair of labels."""

    label_blend = ("artist", "artist2", "blend")

    def content_for(self, state):
        content = state.get("content")
        if isinstance(content, list):
            return torch.tensor(content)
        return torch.full((4,), float(state["seed"]))


def state(seed: int, **kw):
    base = {"model": "m", "seed": seed, "z_edits": {}, "directions": {}, "truncation": 1.0, "labels": {}, "scalars": {}}
    base.update(kw)
    return base


def test_a_child_lies_between_its_parents_and_keeps_their_norm():
    model = Latent()
    a, b = state(1), state(2, directions={"pc0": 1.5}, truncation=0.8)
    za, zb = model.latent_for(a), model.latent_for(b)
    child = crossbreed(model, [a, b], [0.3, 0.7], parent_ids=["A", "B"])
    z = model.latent_for(child)
    # in the plane of the parents with positive coefficients: between them
    coef = torch.linalg.lstsq(torch.stack([za, zb]).T, z.unsqueeze(1)).solution.flatten()
    assert torch.allclose(torch.stack([za, zb]).T @ coef, z, atol=1e-4)
    assert (coef > 0).all() and coef[1] > coef[0]  # nearer the heavier parent
    assert (z - zb).norm() < (z - za).norm() < (za - zb).norm()
    assert abs(z.norm() - (0.3 * za.norm() + 0.7 * zb.norm())) < 1e-3
    assert child["parents"] == [{"id": "A", "weight": 0.3}, {"id": "B", "weight": 0.7}]
    assert child["directions"] == {} and child["truncation"] == 1.0 and child["seed"] == 2


def test_equal_weights_and_more_than_two_parents():
    model = Latent()
    parents = [state(s) for s in (3, 4, 5)]
    child = crossbreed(model, parents)
    z = model.latent_for(child)
    codes = torch.stack([model.latent_for(p) for p in parents])
    assert torch.allclose(z, mix_codes(codes, [1 / 3] * 3), atol=1e-4)
    assert all(abs(p["weight"] - 1 / 3) < 1e-5 for p in child["parents"])


def test_labels_vote_by_weight_and_scalars_average():
    model = Latent()
    a = state(1, labels={"colour": "red"}, scalars={"brightness": 0.0})
    b = state(2, labels={"colour": "blue"}, scalars={"brightness": 1.0})
    c = state(3, labels={"colour": "blue"}, scalars={"brightness": 1.0})
    child = crossbreed(model, [a, b, c], [0.5, 0.3, 0.2])
    assert child["labels"]["colour"] == "red"  # 0.5 > 0.3 + 0.2? no: equal; the first wins a tie
    child = crossbreed(model, [a, b, c], [0.4, 0.3, 0.3])
    assert child["labels"]["colour"] == "blue"
    assert abs(child["scalars"]["brightness"] - 0.6) < 1e-6


def test_a_content_model_mixes_content_and_blends_two_labels():
    model = Content()
    a = state(0, labels={"artist": "monet"})
    b = state(10, labels={"artist": "vangogh"})
    child = crossbreed(model, [a, b], [0.25, 0.75])
    assert child["content"] == [7.5] * 4
    assert child["labels"] == {"artist": "vangogh", "artist2": "monet"}
    assert child["scalars"]["blend"] == 0.25


@pytest.mark.parametrize("parents, weights", [(1, None), (2, [1.0]), (2, [-1.0, 2.0]), (2, [0.0, 0.0])])
def test_bad_crossbreeds_are_clear_errors(parents, weights):
    with pytest.raises(StudioError):
        crossbreed(Latent(), [state(i) for i in range(parents)], weights)
    with pytest.raises(StudioError, match="no latent or content"):
        crossbreed(object(), [state(1), state(2)])


def test_a_baked_variation_renders_the_same_and_survives_a_new_grid():
    model = Latent()
    centre = state(7, directions={"pc1": 1.0}, truncation=0.7)
    cell = model.variations(centre, 4, spread=0.6)[2]
    baked = bake_variation(model, cell)
    assert "variation" not in baked and baked["directions"] == {"pc1": 1.0} and baked["truncation"] == 0.7
    assert torch.allclose(model.latent_for(baked), model.latent_for(cell), atol=1e-4)
    grid = model.variations(baked, 3, spread=0.6)
    assert torch.allclose(model.latent_for(grid[0]), model.latent_for(cell), atol=1e-4)


def test_cell_at_maps_pixels_to_cells_and_gaps_to_none():
    # 2 rows x 3 cols of 16 px with 3 px gaps: width 3*16 + 4*3 = 60
    assert cell_at(3, 3, 2, 3, 16, 16, 3) == 0
    assert cell_at(18.9, 18.9, 2, 3, 16, 16, 3) == 0
    assert cell_at(20, 10, 2, 3, 16, 16, 3) is None  # the gap between cells 0 and 1
    assert cell_at(25, 25, 2, 3, 16, 16, 3) == 4
    assert cell_at(56, 30, 2, 3, 16, 16, 3) == 5
    assert cell_at(57, 30, 2, 3, 16, 16, 3) is None
    assert cell_at(-1, 5, 2, 3, 16, 16, 3) is None
