"""The standard FID Inception-v3 (TensorFlow's 2015-12-05 graph, as used by every published FID).

Users who have ``pt_inception-2015-12-05-*.pth`` (the PyTorch port of that graph's weights) can point
the studio at it; we cannot ship or download it. The network is torchvision's Inception-v3 layout
with 1008 classes and TensorFlow's pooling quirks, which change the features enough to matter:
average pools inside the mixed blocks exclude the padding from the mean, and the last block's pool
branch is a max pool. Inputs are resized to 299×299 (bilinear) and scaled to [-1, 1].
"""

from __future__ import annotations

import types
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from studio.core.errors import FileProblem

STANDARD_FILE = "pt_inception-2015-12-05-6726825d.pth"

# branch chains of each mixed-block kind (torchvision attribute names); "pool" marks the pooled branch
_CHAINS = {
    "A": (("branch1x1",), ("branch5x5_1", "branch5x5_2"), ("branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3")),
    "C": (
        ("branch1x1",),
        ("branch7x7_1", "branch7x7_2", "branch7x7_3"),
        ("branch7x7dbl_1", "branch7x7dbl_2", "branch7x7dbl_3", "branch7x7dbl_4", "branch7x7dbl_5"),
    ),
}
# InceptionE: a trunk followed by two parallel heads whose outputs are concatenated
_E_SPLITS = (
    (("branch3x3_1",), ("branch3x3_2a", "branch3x3_2b")),
    (("branch3x3dbl_1", "branch3x3dbl_2"), ("branch3x3dbl_3a", "branch3x3dbl_3b")),
)


def _chain(block: nn.Module, names, x: torch.Tensor) -> torch.Tensor:
    for name in names:
        x = getattr(block, name)(x)
    return x


def _tf_forward(kind: str, max_pool: bool = False):
    """A forward for one mixed block that pools the way TensorFlow's graph does."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if kind == "E":
            outs = [self.branch1x1(x)]
            for trunk, heads in _E_SPLITS:
                t = _chain(self, trunk, x)
                outs.append(torch.cat([getattr(self, h)(t) for h in heads], 1))
        else:
            outs = [_chain(self, names, x) for names in _CHAINS[kind]]
        pooled = (
            F.max_pool2d(x, 3, stride=1, padding=1)
            if max_pool
            else F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
        )
        outs.append(self.branch_pool(pooled))
        return torch.cat(outs, 1)

    return forward


class FIDInceptionV3(nn.Module):
    """Pool features [N, 2048] and 1008-way logits of the FID network. Input: [N,3,H,W] in [0, 1]."""

    def __init__(self) -> None:
        super().__init__()
        from torchvision.models import inception_v3

        net = inception_v3(weights=None, aux_logits=False, num_classes=1008, init_weights=False)
        patches = {
            "Mixed_5b": "A",
            "Mixed_5c": "A",
            "Mixed_5d": "A",
            "Mixed_6b": "C",
            "Mixed_6c": "C",
            "Mixed_6d": "C",
            "Mixed_6e": "C",
            "Mixed_7b": "E",
            "Mixed_7c": "E",
        }
        for name, kind in patches.items():
            block = getattr(net, name)
            block.forward = types.MethodType(_tf_forward(kind, max_pool=(name == "Mixed_7c")), block)
        self.net = net

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        n = self.net
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        x = 2.0 * x - 1.0
        x = n.Conv2d_2b_3x3(n.Conv2d_2a_3x3(n.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = n.Conv2d_4a_3x3(n.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for name in (
            "Mixed_5b",
            "Mixed_5c",
            "Mixed_5d",
            "Mixed_6a",
            "Mixed_6b",
            "Mixed_6c",
            "Mixed_6d",
            "Mixed_6e",
            "Mixed_7a",
            "Mixed_7b",
            "Mixed_7c",
        ):
            x = getattr(n, name)(x)
        return x.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.pooled(x)
        return feats, self.net.fc(feats)


def load_fid_inception(path: str | Path) -> FIDInceptionV3:
    """Build the FID network from a user's weights file, with a clear error for any other file."""
    path = Path(path)
    if not path.is_file():
        raise FileProblem(path, f"weights file not found (the standard FID weights are {STANDARD_FILE})")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise FileProblem(
            path,
            f"not a weights-only PyTorch file, so not the FID Inception weights "
            f"{STANDARD_FILE} (damaged, truncated, or another kind of file)",
        ) from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise FileProblem(path, f"does not hold a state dict of tensors, so it is not {STANDARD_FILE}")
    model = FIDInceptionV3()
    expected = model.net.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if missing or unexpected or wrong:
        detail = []
        if missing:
            detail.append(f"{len(missing)} tensors missing (e.g. {missing[0]})")
        if unexpected:
            detail.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if wrong:
            detail.append(f"{len(wrong)} with the wrong shape (e.g. {wrong[0]})")
        raise FileProblem(path, f"these are not the FID Inception-v3 weights ({STANDARD_FILE}): " + ", ".join(detail))
    model.net.load_state_dict(state)
    return model.eval()
