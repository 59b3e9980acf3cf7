"""Family discovery (entry points and plugin files through the same door) and the shared state logic."""

import textwrap
from importlib.metadata import entry_points

import torch

from studio.core.family import LatentModel, normalise_state
from studio.core.jobs import run_job
from studio.core.paths import plugin_dirs
from studio.core.registry import ENTRY_POINT_GROUP, discover
from studio.core.store import ModelStore, load_model


def test_example_plugin_is_discovered_and_works(tmp_path):
    reg = discover()
    assert "cppn" in reg.families and "plugin" in reg.sources["cppn"]
    fam = reg.get("cppn")
    res = run_job(fam.make_job("create", out=tmp_path / "pat", seed=1))
    assert res.ok
    model = load_model(res.outputs["card"], device="cpu", registry=reg)
    assert isinstance(model, LatentModel)
    imgs = model.render([model.default_state("pat", 0), model.default_state("pat", 1)])
    assert imgs.shape == (2, 3, 64, 64) and 0 <= imgs.min() and imgs.max() <= 1
    assert (imgs[0] - imgs[1]).abs().mean() > 0.01


BUILTIN_FAMILIES = {"csgan", "csgan-style", "can", "gadn", "cyclegan", "ugatit", "bayes-cyclegan"}


def test_builtin_families_come_from_entry_points():
    reg = discover(extra_dirs=[])
    assert not reg.errors
    assert BUILTIN_FAMILIES <= set(reg.families)  # every built-in is found...
    for name in BUILTIN_FAMILIES:  # ...through the studio.families entry points, like any installed plugin
        assert reg.sources[name].startswith(f"entry point '{name}' (studio.models."), reg.sources[name]
        assert reg.get(name).name == name
    assert {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)} >= BUILTIN_FAMILIES


def test_broken_plugin_is_reported_not_fatal(tmp_path):
    (tmp_path / "broken.py").write_text("raise RuntimeError('plugin bug')\n")
    (tmp_path / "notafamily.py").write_text("FAMILIES = [int]\n")
    (tmp_path / "dup.py").write_text(
        textwrap.dedent("""
        from studio.core.family import Family
        class Dup(Family):
            name = "cppn"
            title = "dup"
            def load(self, tensors, card, device):
                raise NotImplementedError
        FAMILIES = [Dup]
    """)
    )
    reg = discover(extra_dirs=[tmp_path])
    text = "\n".join(reg.errors)
    assert "broken.py" in text and "plugin bug" in text
    assert "not a Family subclass" in text
    assert "cppn" in reg.families


def test_plugin_path_env(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDIO_PLUGIN_PATH", str(tmp_path))
    assert tmp_path in plugin_dirs()


def test_store_lists_models_children_and_problems(tmp_path):
    reg = discover()
    fam = reg.get("cppn")
    run_job(fam.make_job("create", out=tmp_path / "parent", seed=1))
    run_job(fam.make_job("create", out=tmp_path / "kid", seed=2))
    from studio.core.checkpoint import update_card

    update_card(tmp_path / "kid", parent="parent")
    (tmp_path / "junk.json").write_text("{")
    store = ModelStore([tmp_path], registry=reg)
    assert store.ids() == ["kid", "parent"]
    assert store.children("parent") == ["kid"]
    assert any("junk.json" in p for p in store.problems)


def test_state_normalisation_is_defensive():
    s = normalise_state({"model": "m", "seed": "7", "truncation": "bad", "directions": [1, 2], "custom": {"a": 1}})
    assert s["seed"] == 7 and s["truncation"] == 1.0 and s["directions"] == {} and s["custom"] == {"a": 1}


def test_latent_edits_directions_and_truncation(tmp_path):
    reg = discover()
    res = run_job(reg.get("cppn").make_job("create", out=tmp_path / "p", seed=1))
    model = load_model(res.outputs["card"], device="cpu", registry=reg)
    base = model.default_state("p", 5)
    z0 = model.latent_for(base)
    edited = dict(base, z_edits={"2": 3.0})
    assert model.latent_for(edited)[2] == 3.0
    model.pca_directions = torch.eye(model.latent_dim)[:2]
    model.pca_stds = torch.tensor([2.0, 1.0])
    moved = model.latent_for(dict(base, directions={"pc0": 1.5}))
    assert torch.allclose(moved - z0, torch.eye(model.latent_dim)[0] * 3.0)
    assert torch.allclose(model.latent_for(dict(base, truncation=0.0)), torch.zeros(model.latent_dim))
    assert any(c.kind == "direction" for c in model.controls())
    vars_ = model.variations(base, 4)
    assert vars_[0]["seed"] == 5 and len({str(model.latent_for(v).tolist()) for v in vars_}) == 4
