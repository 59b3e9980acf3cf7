"""CAN's style-ambiguity loss, report eq. 3 (paper 003), against hand computations.

The generator maximises Σ_k (1/K)·log σ(l_k) + (1 − 1/K)·log(1 − σ(l_k)) (eq. 3), so its loss is the
negation. The numbers below are written out by hand from that formula with math.log, not from torch."""

from __future__ import annotations

import math

import pytest
import torch

from studio.core.errors import StudioError
from studio.models.can.config import TrainConfig
from studio.models.can.losses import ambiguity_loss, style_classification_loss


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def by_hand(logits: list[float]) -> float:
    k = len(logits)
    return -sum((1 / k) * math.log(sig(v)) + (1 - 1 / k) * math.log(1 - sig(v)) for v in logits)


CASES = {
    "uniform": lambda k: [0.0] * k,
    "one-hot": lambda k: [6.0] + [-6.0] * (k - 1),
    "all-high": lambda k: [6.0] * k,
}


@pytest.mark.parametrize("k", [2, 7])
@pytest.mark.parametrize("case", sorted(CASES))
def test_eq3_matches_a_hand_computation(k, case):
    values = CASES[case](k)
    got = float(ambiguity_loss(torch.tensor([values], dtype=torch.float64), "sigmoid-eq3"))
    assert got == pytest.approx(by_hand(values), rel=1e-9)


def test_eq3_closed_forms():
    # uniform logits: every σ = 1/2, so the loss is K·log 2 — 1.386 at K = 2 and 4.852 at K = 7 (issue 16)
    for k, expected in ((2, 1.3863), (7, 4.8520)):
        assert float(ambiguity_loss(torch.zeros(1, k), "sigmoid-eq3")) == pytest.approx(expected, abs=1e-4)
        assert float(ambiguity_loss(torch.zeros(1, k), "sigmoid-eq3")) == pytest.approx(k * math.log(2), abs=1e-6)
    # the softmax form at uniform logits is log K: 1.946 at K = 7
    assert float(ambiguity_loss(torch.zeros(1, 7), "softmax-ce")) == pytest.approx(math.log(7), abs=1e-6)
    # eq. 3's minimum: σ(l_k) = 1/K for every k, i.e. l_k = log(1/(K-1)); the loss is then K·H(1/K)
    for k in (2, 7):
        best = torch.full((1, k), math.log(1 / (k - 1)), dtype=torch.float64)
        h = -(1 / k) * math.log(1 / k) - (1 - 1 / k) * math.log(1 - 1 / k)
        assert float(ambiguity_loss(best, "sigmoid-eq3")) == pytest.approx(k * h, rel=1e-9)
        assert float(ambiguity_loss(best + 0.3, "sigmoid-eq3")) > k * h
        assert float(ambiguity_loss(best - 0.3, "sigmoid-eq3")) > k * h


@pytest.mark.parametrize("k", [2, 7])
def test_all_high_logits_are_penalised_by_eq3_but_not_by_softmax(k):
    uniform, high = torch.zeros(1, k), torch.full((1, k), 6.0)
    # softmax-ce cannot see a shift of every logit: all-high scores exactly like uniform (log K)
    assert float(ambiguity_loss(high, "softmax-ce")) == pytest.approx(float(ambiguity_loss(uniform, "softmax-ce")))
    # eq. 3 punishes claiming every style at once: far above its uniform value, and (for K > 2, where the
    # two are no longer mirror images) above a confident one-hot posterior too
    eq_high, eq_uniform = float(ambiguity_loss(high, "sigmoid-eq3")), float(ambiguity_loss(uniform, "sigmoid-eq3"))
    eq_one_hot = float(ambiguity_loss(torch.tensor([CASES["one-hot"](k)]), "sigmoid-eq3"))
    assert eq_high > 3 * eq_uniform
    assert eq_high > eq_one_hot if k > 2 else eq_high == pytest.approx(eq_one_hot)


def test_d_style_loss_is_one_vs_all_bce_under_eq3():
    logits = torch.tensor([[2.0, -1.0, 0.5]], dtype=torch.float64)
    expected = -(math.log(sig(2.0)) + math.log(1 - sig(-1.0)) + math.log(1 - sig(0.5)))
    assert float(style_classification_loss(logits, torch.tensor([0]), "sigmoid-eq3")) == pytest.approx(expected)
    # all-high logits would satisfy a true-class-only term; one-vs-all BCE does not reward them
    high = torch.full((1, 3), 8.0)
    right = torch.tensor([[8.0, -8.0, -8.0]])
    label = torch.tensor([0])
    assert float(style_classification_loss(high, label)) > 10 * float(style_classification_loss(right, label))


def test_unknown_form_is_a_clear_error():
    with pytest.raises(StudioError, match="sigmoid-eq3 or softmax-ce"):
        ambiguity_loss(torch.zeros(1, 3), "entropy")
    with pytest.raises(StudioError, match="ambiguity"):
        TrainConfig(ambiguity="nope")
    assert TrainConfig().ambiguity == "sigmoid-eq3"


def test_a_run_keeps_its_ambiguity_loss_and_the_card_names_it(tmp_path):
    """Trained with softmax-ce: resuming without --ambiguity keeps softmax-ce (the message says so), asking
    for sigmoid-eq3 on that run is refused, and the card records the form used."""
    from test_can_train import TINY, make_styles  # same folder (pytest prepends it to sys.path)

    from studio.core.checkpoint import read_card
    from studio.core.jobs import run_job
    from studio.models.can.family import CANFamily

    data = make_styles(tmp_path / "styles", per_style=4)
    opts = dict(data=str(data), name="a", out=str(tmp_path / "a"), run_dir=str(tmp_path / "run"), **TINY)
    opts.update(eval_samples=8, index_size=3, preview_every=100)
    first = run_job(CANFamily().make_job("train", steps=2, ambiguity="softmax-ce", **opts))
    assert first.ok, first.message
    card = read_card(first.outputs["card"])
    assert card.extra["train"]["ambiguity"] == "softmax-ce" and "softmax-ce" in card.training.notes
    refused = run_job(CANFamily().make_job("train", steps=3, resume=True, ambiguity="sigmoid-eq3", **opts))
    assert refused.status == "failed" and "--ambiguity softmax-ce" in refused.message
    seen: list = []
    second = run_job(CANFamily().make_job("train", steps=3, resume=True, ambiguity="auto", **opts), seen.append)
    assert second.ok, second.message
    assert any("ambiguity loss softmax-ce" in (p.message or "") for p in seen)
    assert read_card(second.outputs["card"]).extra["train"]["ambiguity"] == "softmax-ce"
    opts.update(run_dir=str(tmp_path / "r2"), out=str(tmp_path / "b"))
    fresh = run_job(CANFamily().make_job("train", steps=1, **opts))
    assert fresh.ok, fresh.message
    card = read_card(fresh.outputs["card"])
    assert card.extra["train"]["ambiguity"] == "sigmoid-eq3" and "report eq. 3" in card.training.notes


def test_the_cli_default_is_auto_and_a_new_run_gets_eq3():
    import argparse

    from studio.models.can.family import CANFamily
    from studio.models.can.train import CANOptions

    p = argparse.ArgumentParser()
    CANFamily().add_job_arguments("train", p)
    args = vars(p.parse_args(["--data", "d"]))
    assert args["ambiguity"] == "auto"
    opts = CANOptions.from_options(args)
    assert opts.recipe.ambiguity == "sigmoid-eq3" and not opts.ambiguity_given
    opts = CANOptions.from_options(vars(p.parse_args(["--data", "d", "--ambiguity", "softmax-ce"])))
    assert opts.recipe.ambiguity == "softmax-ce" and opts.ambiguity_given
