"""The CSGAN fine-tune through the paper's SqueezeNet configuration (user-supplied weights): it runs, lowers
the style loss, records the network in the card and keeps it on resume; without weights, one clear error."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file
from test_finetune import families, painting, parent  # noqa: F401  (same folder; shared fixtures)

from studio.core.checkpoint import read_card
from studio.core.errors import StudioError
from studio.core.jobs import run_job
from studio.models.csgan.finetune import FinetuneConfig, FinetuneJob


@pytest.fixture
def squeeze_weights(tmp_path):
    from torchvision.models import squeezenet1_1

    torch.manual_seed(0)
    net = squeezenet1_1(weights=None)  # random weights stand in for the ImageNet ones (never downloaded)
    path = tmp_path / "squeezenet1_1.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items() if k.startswith("features.")}, str(path))
    return path


def _job(parent, painting, tmp_path, **cfg):  # noqa: F811
    base = dict(steps=4, batch=2, preview_every=0, checkpoint_every=0, style_weight=10.0, size=48)
    base.update(cfg)
    return FinetuneJob(parent, painting, FinetuneConfig(**base), device="cpu", models_dir=tmp_path / "models")


def test_finetune_through_squeezenet_records_it(parent, painting, tmp_path, squeeze_weights):  # noqa: F811
    cfg = FinetuneConfig(loss_net="squeezenet", loss_net_weights=str(squeeze_weights))
    assert cfg.loss.style_layers == ("layer1", "layer4", "layer6", "layer7") and cfg.loss.content_layer == "layer3"
    assert FinetuneConfig().loss.network == "vgg19"  # VGG-19 stays the default
    events: list = []
    res = run_job(
        _job(parent, painting, tmp_path, loss_net="squeezenet", loss_net_weights=str(squeeze_weights)), events.append
    )
    assert res.ok, res.message
    card = read_card(res.outputs["card"])
    record = card.extra["loss_network"]
    assert record["network"] == "squeezenet" and record["weights"]["file"] == "squeezenet1_1.safetensors"
    assert len(record["weights"]["sha256"]) == 64 and record["style_layers"] == ["layer1", "layer4", "layer6", "layer7"]
    assert card.config["finetune"]["loss"]["network"] == "squeezenet"
    style = [e.losses["style"] for e in events if e.losses]
    assert style[-1] < style[0]
    # the run keeps its loss network: resuming it through VGG-19 is refused
    again = run_job(
        FinetuneJob(
            parent,
            painting,
            FinetuneConfig(steps=6, batch=2, preview_every=0, checkpoint_every=0, size=48),
            device="cpu",
            models_dir=tmp_path / "models",
            resume=True,
            out=res.outputs["card"].rsplit("/", 1)[-1].removesuffix(".json"),
        )
    )
    assert again.status == "failed" and "--loss-net squeezenet" in again.message


def test_squeezenet_without_weights_is_one_clear_error(parent, painting, tmp_path):  # noqa: F811
    res = run_job(_job(parent, painting, tmp_path, loss_net="squeezenet"))
    assert res.status == "failed" and "--loss-net-weights" in res.message and "no package" in res.message
    with pytest.raises(StudioError, match="unknown loss network"):
        FinetuneConfig(loss_net="alexnet")
