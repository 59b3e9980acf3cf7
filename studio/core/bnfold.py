"""Fold inference-mode batch norms into the convolution before them, for the render copies.

Why: ``torch.jit.freeze`` folds a batch norm into a plain ``Conv2d`` but not into a ``ConvTranspose2d``,
and every bundled generator upsamples with transposed convolutions followed by batch norm. Each of
those is an extra pass over the activation map; at 64 px that is a tenth of a frame. Folding is exact
in real arithmetic (the norm is an affine map per output channel once its statistics are frozen), so
the folded copy renders the same image up to float rounding.

Only the render copies are folded (:class:`studio.core.fastnet.FastNet`): the reference network keeps
its batch norms, so training, ``state_dict`` and the fp32 reference are untouched.
"""

from __future__ import annotations

import copy
from typing import TypeVar

import torch
from torch import nn


def frozen_norm(bn: nn.Module, channels: int) -> bool:
    """A batch norm that is an affine per-channel map: eval mode, running statistics, the right width."""
    return (
        isinstance(bn, nn.BatchNorm2d)
        and not bn.training
        and bn.track_running_stats
        and bn.running_mean is not None
        and bn.running_var is not None
        and bn.num_features == channels
    )


def _norm_as_affine(bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """The frozen norm as ``x * scale + shift`` per channel, in float64 (folded in float64, then cast)."""
    assert bn.running_mean is not None and bn.running_var is not None
    scale = bn.running_var.double().add(bn.eps).rsqrt()
    if bn.weight is not None:
        scale = scale * bn.weight.double()
    shift = -bn.running_mean.double() * scale
    if bn.bias is not None:
        shift = shift + bn.bias.double()
    return scale, shift


_Layer = TypeVar("_Layer", bound=nn.Module)


def _scaled(
    layer: _Layer,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    scale: torch.Tensor,
    shift: torch.Tensor,
    weight_view: tuple[int, ...],
) -> _Layer:
    """A copy of ``layer`` (a convolution or linear layer with this ``weight`` and ``bias``) whose outputs
    are multiplied by ``scale`` and moved by ``shift``; ``weight_view`` lines the weight's output axis up
    with ``scale``."""
    dtype = weight.dtype
    base = bias.double() if bias is not None else torch.zeros_like(shift)
    new = copy.deepcopy(layer)
    new.weight = nn.Parameter((weight.double() * scale.view(weight_view)).to(dtype), requires_grad=False)
    new.bias = nn.Parameter((base * scale + shift).to(dtype), requires_grad=False)
    return new


@torch.no_grad()
def folded_conv(conv: nn.Conv2d | nn.ConvTranspose2d, bn: nn.BatchNorm2d) -> nn.Module:
    """A new convolution computing ``bn(conv(x))`` (the inputs are not changed)."""
    scale, shift = _norm_as_affine(bn)
    # the output-channel axis: 0 for Conv2d [out, in/g, k, k], 1 for ConvTranspose2d [in, out, k, k]
    view = (1, -1, 1, 1) if isinstance(conv, nn.ConvTranspose2d) else (-1, 1, 1, 1)
    return _scaled(conv, conv.weight, conv.bias, scale, shift, view)


@torch.no_grad()
def folded_linear(linear: nn.Linear, bn: nn.BatchNorm2d, positions: int) -> nn.Linear:
    """A new linear layer computing ``bn(linear(z).view(N, C, H, W))`` flattened, where each of the
    norm's C channels covers ``positions`` = H·W consecutive outputs (a generator's projection)."""
    assert linear.out_features == bn.num_features * positions
    scale, shift = _norm_as_affine(bn)
    scale, shift = scale.repeat_interleave(positions), shift.repeat_interleave(positions)
    return _scaled(linear, linear.weight, linear.bias, scale, shift, (-1, 1))


def fold_batch_norms(module: nn.Module) -> int:
    """Fold, in place, every eval-mode ``BatchNorm2d`` that directly follows a convolution inside an
    ``nn.Sequential`` of ``module`` (the norm becomes ``nn.Identity``), and let any submodule with a
    ``fold_norms_for_render()`` method fold the norms its ``forward`` applies outside a Sequential (a
    projection reshaped to a map, then normed). Returns how many were folded. A norm in training mode,
    without running statistics, or after anything else is left as it is."""
    count = 0
    for owner in list(module.modules()):
        hook = getattr(owner, "fold_norms_for_render", None)
        if callable(hook):
            count += int(hook())
    for seq in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        names = list(seq._modules)
        for first, second in zip(names, names[1:], strict=False):
            conv, bn = seq._modules[first], seq._modules[second]
            if not isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)) or not isinstance(bn, nn.BatchNorm2d):
                continue
            # a grouped transposed convolution stores [in, out/groups, k, k]: per-output scaling needs groups 1
            if (isinstance(conv, nn.ConvTranspose2d) and conv.groups != 1) or not frozen_norm(bn, conv.out_channels):
                continue
            seq._modules[first] = folded_conv(conv, bn)
            seq._modules[second] = nn.Identity()
            count += 1
    return count
