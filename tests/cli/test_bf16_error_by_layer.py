"""scripts/bf16_error_by_layer.py: a part kept in fp32 runs in fp32 inside the bf16 copy, so the whole error
disappears when that part is the only lossy one; containers that cannot stand alone are reported as such."""

from __future__ import annotations

import copy

import torch
from script_loader import load_script


def _script():
    return load_script("bf16_error_by_layer")


class Lossy(torch.nn.Module):
    """Exact in fp32; in bf16 (8 significant bits) x + 1000 rounds to 1000, so 0.5 comes back as 0."""

    def forward(self, x):
        return (x + 1000.0) - 1000.0


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.head = torch.nn.Conv2d(3, 3, 1)
        self.lossy = Lossy()
        self.parts = torch.nn.ModuleList([torch.nn.Identity()])

    def forward(self, x):
        return self.lossy(self.head(x)) * 0.5


def test_keeping_the_lossy_part_in_fp32_removes_its_error():
    mod = _script()
    reference = Net().eval()
    with torch.no_grad():
        reference.head.weight.copy_(torch.eye(3)[:, :, None, None])
        reference.head.bias.zero_()
    xs = [torch.full((1, 3, 4, 4), 0.5)]
    with torch.inference_mode():
        refs = [reference(x) for x in xs]
    fast = copy.deepcopy(reference).to(torch.bfloat16).to(memory_format=torch.channels_last)
    worst, _ = mod.errors(fast, xs, refs)
    assert worst > 0.1  # bf16 lost the 0.5
    kept = mod.with_fp32_part(fast, reference, "lossy")
    assert isinstance(kept.lossy, mod.KeptInFp32)
    assert next(kept.head.parameters()).dtype == torch.bfloat16  # only that part went back to fp32
    assert mod.errors(kept, xs, refs)[0] < 1e-6
    assert mod.with_fp32_part(fast, reference, "parts") is None  # a container: not a part that runs alone
    assert isinstance(fast.lossy, Lossy)  # the bf16 copy itself is left as it was
