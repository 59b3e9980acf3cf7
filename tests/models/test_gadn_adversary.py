"""GADN stage 1's adversary (paper appendix C.2): E, G and S maximise C1's negative log-likelihood of the
source artist by default; the negative log-unlikelihood form is an option."""

from __future__ import annotations

import pytest
import torch
from test_gadn import _job, artist_folder, batch, tiny_cfg, tiny_train  # noqa: F401 (same folder; a fixture)

from studio.models.gadn.config import TrainConfig
from studio.models.gadn.networks import GADNNets
from studio.models.gadn.train import make_optimisers, stage1_step


def test_the_default_is_the_papers_likelihood_adversary():
    assert TrainConfig().adversary1 == "likelihood"


def test_stage1_likelihood_adversary_pushes_c1s_loss_up():
    """A toy batch with one fixed draw (the restyling artists a' and the code noise come from the same seed
    at every step), C1 held fixed (learning rate 0) and only the adversarial term on: each encoder/generator
    step raises C1's cross-entropy on G(E(x), S(a')), under each of several initialisations.

    ``stage1_step`` reports C1's loss ("c1") as computed before its updates, so the value of step i+1 is C1's
    cross-entropy after i updates of E, G and S."""
    cfg = tiny_cfg()
    tc = tiny_train(adversary1="likelihood", w_rec=0.0, w_kl_content=0.0, w_kl_style=0.0, w_cls1=1.0, lr1=2e-3)
    for seed in range(2):
        torch.manual_seed(seed)
        nets = GADNNets(cfg)
        opts = make_optimisers(nets, "stage1", tc)
        for group in opts["c1"].param_groups:
            group["lr"] = 0.0  # C1 stays the classifier it is: only E, G and S move
        x, a = batch(cfg, 6, seed=seed)
        c1_before = [p.detach().clone() for p in nets.C1.parameters()]
        steps = [stage1_step(nets, opts, x, a, tc, torch.Generator().manual_seed(7)) for _ in range(5)]
        assert all(torch.equal(p, q) for p, q in zip(c1_before, nets.C1.parameters()))
        c1 = [s["c1"] for s in steps]
        assert all(later > earlier for earlier, later in zip(c1, c1[1:])), (seed, c1)
        assert c1[-1] > c1[0] + 5e-3, (seed, c1)
        assert all(s["adv"] == pytest.approx(-s["c1"], abs=1e-5) for s in steps)  # the term is −CE of C1


def test_the_unlikelihood_form_is_still_available_and_differs():
    cfg = tiny_cfg()
    x, a = batch(cfg, 6, seed=0)
    out = {}
    for form in ("likelihood", "unlikelihood"):
        torch.manual_seed(0)
        nets = GADNNets(cfg)
        tc = tiny_train(adversary1=form)
        out[form] = stage1_step(nets, make_optimisers(nets, "stage1", tc), x, a, tc, torch.Generator().manual_seed(0))
    # same nets, same draw: C1's own loss is identical; the adversary terms are −CE vs −log(1 − p)
    assert out["likelihood"]["c1"] == out["unlikelihood"]["c1"]
    assert out["likelihood"]["adv"] < 0 < out["unlikelihood"]["adv"]


def test_a_run_keeps_its_stage1_adversary_on_resume_and_the_card_names_it(artist_folder, tmp_path):  # noqa: F811
    from studio.core.checkpoint import read_card
    from studio.core.jobs import run_job

    short = dict(steps1=2, steps_cls=0, steps2=0, preview_every=100, checkpoint_every=100)
    first = run_job(_job(artist_folder, tmp_path, adversary1="unlikelihood", **short))
    assert first.ok, first.message
    card = read_card(first.outputs["card"])
    assert card.extra["train"]["adversary1"] == "unlikelihood" and "not the paper's stage 1" in card.training.notes
    seen: list = []
    again = run_job(
        _job(artist_folder, tmp_path, resume=True, adversary1="auto", **{**short, "steps1": 3}), seen.append
    )
    assert again.ok, again.message
    assert any("stage-1 adversary unlikelihood" in (p.message or "") for p in seen)
    assert read_card(again.outputs["card"]).extra["train"]["adversary1"] == "unlikelihood"
    fresh = run_job(_job(artist_folder, tmp_path / "new", adversary1=None, **short))
    card = read_card(fresh.outputs["card"])
    assert card.extra["train"]["adversary1"] == "likelihood" and "appendix C.2" in card.training.notes
