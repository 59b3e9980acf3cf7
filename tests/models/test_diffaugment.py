"""DiffAugment: shapes, differentiability, determinism from the RNG, the policy parser."""

from __future__ import annotations

import pytest
import torch

from studio.models.diffaugment import cutout, diff_augment, parse_policy, translation


def test_policy_parsing():
    assert parse_policy("color, translation,cutout") == ("color", "translation", "cutout")
    assert parse_policy("none") == () and parse_policy("") == ()
    with pytest.raises(ValueError, match="unknown augmentation"):
        parse_policy("color,rotate")


def test_augmentations_keep_shape_are_differentiable_and_repeatable():
    x = torch.rand(6, 3, 16, 16, requires_grad=True)
    policy = parse_policy("color,translation,cutout")
    a = diff_augment(x * 2 - 1, policy, torch.Generator().manual_seed(3))
    b = diff_augment(x * 2 - 1, policy, torch.Generator().manual_seed(3))
    assert a.shape == x.shape and torch.equal(a, b)
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    c = diff_augment(x * 2 - 1, policy, torch.Generator().manual_seed(4))
    assert not torch.equal(a, c)


def test_translation_moves_content_and_cutout_zeroes_a_square():
    x = torch.zeros(1, 1, 16, 16)
    x[0, 0, 8, 8] = 1.0
    moved = [translation(x, torch.Generator().manual_seed(s)) for s in range(20)]
    positions = {tuple((m[0, 0] == 1).nonzero()[0].tolist()) for m in moved if m.sum() > 0}
    assert len(positions) > 3 and all(abs(py - 8) <= 2 and abs(px - 8) <= 2 for py, px in positions)
    ones = torch.ones(4, 3, 16, 16)
    cut = cutout(ones, torch.Generator().manual_seed(0))
    zeros = (cut == 0).float().mean(dim=(1, 2, 3))
    assert torch.all(zeros > 0.05) and torch.all(zeros <= 0.25 + 1e-6)
