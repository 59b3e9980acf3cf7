"""SqueezeNet 1.1 as the CSGAN paper's loss network: torchvision's layers exactly, user-supplied weights
read only from safetensors (the converter reads torchvision's .pth with weights_only), clear errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from studio.core.errors import StudioError
from studio.losses.perceptual import SQUEEZENET_LOSS, LossConfig, PerceptualLoss, build_loss_network
from studio.losses.squeezenet import MISSING, expected_shapes, load_squeezenet, read_weights

ROOT = Path(__file__).resolve().parents[2]


def _torchvision_net(seed: int = 0):
    from torchvision.models import squeezenet1_1

    torch.manual_seed(seed)
    return squeezenet1_1(weights=None).eval()  # random init: nothing is downloaded


@pytest.fixture
def weights_file(tmp_path):
    net = _torchvision_net()
    tensors = {k: v.contiguous() for k, v in net.state_dict().items() if k.startswith("features.")}
    path = tmp_path / "squeezenet1_1.safetensors"
    save_file(tensors, str(path))
    return path, net


def test_features_equal_torchvisions_layer_by_layer(weights_file):
    path, ref = weights_file
    ours = load_squeezenet(path, "cpu", "layer7")
    x = torch.rand(2, 3, 64, 64)
    got = ours(x, ["layer1", "layer3", "layer4", "layer6", "layer7"])
    mean, std = (
        torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1),
        torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1),
    )
    h = (x - mean) / std
    with torch.no_grad():
        for i in range(8):
            h = ref.features[i](h)
            if f"layer{i}" in got:
                torch.testing.assert_close(got[f"layer{i}"], h, rtol=0, atol=1e-6)
    # the paper's layers: 1 = ReLU after conv1 (64 ch), 3/4 = fire2/3 (128 ch), 6/7 = fire4/5 (256 ch)
    assert [got[k].shape[1] for k in ("layer1", "layer3", "layer4", "layer6", "layer7")] == [64, 128, 128, 256, 256]
    assert not any(p.requires_grad for p in ours.parameters())


def test_the_papers_preset_and_the_perceptual_loss(weights_file):
    path, _ = weights_file
    assert SQUEEZENET_LOSS.style_layers == ("layer1", "layer4", "layer6", "layer7")
    assert SQUEEZENET_LOSS.content_layer == "layer3" and SQUEEZENET_LOSS.network == "squeezenet"
    cfg = LossConfig(**{**SQUEEZENET_LOSS.to_dict(), "weights": str(path)})
    loss = PerceptualLoss(build_loss_network(cfg, "cpu"), cfg)
    loss.set_style(torch.rand(1, 3, 64, 64))
    img = torch.rand(2, 3, 64, 64, requires_grad=True)
    terms = loss(img, loss.content_target(torch.rand(2, 3, 64, 64)))
    assert terms.style.item() > 0 and terms.content.item() > 0
    (terms.style + terms.content).backward()
    assert img.grad is not None and img.grad.abs().sum() > 0


def test_missing_or_foreign_weights_are_clear_errors(tmp_path, weights_file):
    with pytest.raises(StudioError, match="--loss-net-weights"):
        build_loss_network(SQUEEZENET_LOSS, "cpu")  # no file given
    assert "no package the studio depends on ships them" in MISSING
    with pytest.raises(StudioError, match="no such file"):
        read_weights(tmp_path / "nope.safetensors")
    # a torchvision .pth (a pickle) is never unpickled: the error names the converter
    pth = tmp_path / "squeezenet1_1-b8a52dc0.pth"
    torch.save(_torchvision_net().state_dict(), pth)
    with pytest.raises(StudioError, match="never unpickles.*convert_squeezenet_weights.py"):
        read_weights(pth)
    # right format, wrong network
    other = tmp_path / "other.safetensors"
    save_file({"features.0.weight": torch.zeros(8, 3, 3, 3)}, str(other))
    with pytest.raises(StudioError, match="not SqueezeNet 1.1 weights"):
        read_weights(other)
    path, net = weights_file
    bad = {k: v.contiguous() for k, v in net.state_dict().items() if k.startswith("features.")}
    bad["features.0.weight"] = torch.zeros(64, 3, 5, 5)
    save_file(bad, str(tmp_path / "bad.safetensors"))
    with pytest.raises(StudioError, match=r"features.0.weight \(64, 3, 5, 5\)"):
        read_weights(tmp_path / "bad.safetensors")
    (tmp_path / "garbage.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(StudioError, match="garbage.safetensors"):
        read_weights(tmp_path / "garbage.safetensors")


def test_converter_turns_torchvisions_pth_into_the_safetensors_the_studio_reads(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from convert_squeezenet_weights import convert
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    net = _torchvision_net(3)
    pth = tmp_path / "squeezenet1_1.pth"
    torch.save(net.state_dict(), pth)  # the whole state dict, classifier included, as torchvision's file
    out = tmp_path / "sq.safetensors"
    digest = convert(pth, out)
    assert len(digest) == 64
    tensors = read_weights(out)
    assert set(tensors) == set(expected_shapes())
    for k, v in tensors.items():
        assert torch.equal(v, net.state_dict()[k])
    with pytest.raises(StudioError, match="already exists"):
        convert(pth, out)
    torch.save({"features.0.weight": torch.zeros(1)}, tmp_path / "x.pth")
    with pytest.raises(StudioError, match=r"needs \(64, 3, 3, 3\)"):
        convert(tmp_path / "x.pth", tmp_path / "x.safetensors")
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "y.pth")
    with pytest.raises(StudioError, match="no tensor 'features.0.weight'"):
        convert(tmp_path / "y.pth", tmp_path / "y.safetensors")


def test_converter_command_line(tmp_path, capsys):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from convert_squeezenet_weights import main
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    pth = tmp_path / "s.pth"
    torch.save(_torchvision_net().state_dict(), pth)
    assert main([str(pth), str(tmp_path / "s.safetensors")]) == 0
    assert "sha256" in capsys.readouterr().out and (tmp_path / "s.safetensors").is_file()
    assert main([str(pth), str(tmp_path / "s.safetensors")]) == 1
    assert "already exists" in capsys.readouterr().err
