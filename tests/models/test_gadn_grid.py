"""GADN with a content map (``content_grid``): the content code keeps where things are in the image, the
flat code every other part of the family uses stays a vector, and a run trains, exports and renders."""

from __future__ import annotations

import pytest
import torch

from studio.core.checkpoint import read_card
from studio.core.jobs import run_job
from studio.models.gadn.config import GADNConfig
from studio.models.gadn.networks import GADNNets
from tests.models.test_gadn import _job, artist_folder  # noqa: F401 (the shared data fixture)


def test_bad_content_grids_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="power of two"):
        GADNConfig(image_size=64, content_dim=96, content_grid=6)
    with pytest.raises(ValueError, match="below image_size"):
        GADNConfig(image_size=16, content_dim=256, content_grid=16)
    with pytest.raises(ValueError, match="multiple of content_grid"):
        GADNConfig(image_size=64, content_dim=100, content_grid=8)
    assert GADNConfig(image_size=64, content_dim=256, content_grid=8).content_channels == 4
    with pytest.raises(ValueError, match="style_film needs a content map"):
        GADNConfig(image_size=64, content_dim=256, style_film=True)


def test_film_starts_as_the_identity_and_then_lets_the_style_reach_every_pixel():
    torch.manual_seed(0)
    kw = dict(
        image_size=32, num_artists=3, content_dim=64, style_dim=8, base_channels=8, fc_features=32, content_grid=8
    )
    plain, film = GADNNets(GADNConfig(**kw)).eval(), GADNNets(GADNConfig(**kw, style_film=True)).eval()
    film.G.load_state_dict(plain.G.state_dict(), strict=False)  # the shared weights; FiLM stays at zero
    c, s = torch.randn(2, 64), torch.randn(2, 8)
    with torch.no_grad():
        assert torch.allclose(film.G(c, s), plain.G(c, s))  # a new FiLM changes nothing at first
        for layer in film.G.films:
            torch.nn.init.normal_(layer.weight, std=0.5)
        other = s + 1.0
        assert not torch.allclose(film.G(c, other), film.G(c, s))
        # the style's scale now acts on the last blocks directly, not only through the 4x4 path
        assert len(film.G.films) == len(film.G.blocks) + 1


def test_the_content_map_is_local_one_cell_changes_only_its_neighbourhood():
    torch.manual_seed(0)
    cfg = GADNConfig(
        image_size=64, num_artists=3, content_dim=256, style_dim=8, base_channels=8, fc_features=32, content_grid=8
    )
    nets = GADNNets(cfg).eval()
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    mean, std = nets.E(x)
    assert mean.shape == std.shape == (2, 256) and bool((std > 0).all())
    style = torch.randn(2, 8)
    with torch.no_grad():
        before = nets.G(mean, style)
        cmap = mean.reshape(2, 4, 8, 8).clone()
        cmap[:, :, 0, 0] += 3.0  # the top-left cell of the map
        after = nets.G(cmap.flatten(1), style)
    change = (after - before).abs()
    assert float(change[..., :8, :8].max()) > 1e-3  # its own 8x8 pixels change
    assert float(change[..., 40:, 40:].max()) == 0.0  # the far corner cannot see it
    # the vector code (the paper's) reaches every pixel through the FC layers
    vec = GADNNets(
        GADNConfig(image_size=64, num_artists=3, content_dim=256, style_dim=8, base_channels=8, fc_features=32)
    ).eval()
    with torch.no_grad():
        c = torch.randn(2, 256)
        moved = c.clone()
        moved[:, 0] += 3.0
        assert float((vec.G(moved, style) - vec.G(c, style))[..., 40:, 40:].abs().max()) > 0


@pytest.mark.parametrize("film", [False, True], ids=["map", "map+film"])
def test_a_grid_model_trains_exports_loads_and_transfers(artist_folder, tmp_path, film):  # noqa: F811
    from studio.core.store import load_model

    res = run_job(_job(artist_folder, tmp_path, content_dim=16, content_grid=4, style_film=film))
    assert res.ok, res.message
    card = read_card(res.outputs["card"])
    assert card.config["content_grid"] == 4 and card.config["content_dim"] == 16
    assert card.config["style_film"] is film
    model = load_model(res.outputs["card"], device="cpu")
    state = model.default_state("tiny-gadn-grid", seed=3)
    img = model.render([state])
    assert img.shape == (1, 3, 16, 16) and torch.equal(model.render([state]), img)
    assert not torch.equal(model.render([dict(state, directions={"pc0": 2.0})]), img)  # content sliders work
    assert model.transfer(artist_folder / "ann" / "shape2.png", "cy").shape == (3, 16, 16)
