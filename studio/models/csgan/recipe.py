"""The CSGAN training recipe as small pure functions (paper §4 and the tips of §6.3).

* least-squares GAN loss (Mao et al.): D pulls real scores to the real label and fake scores to the fake
  label; G pulls fake scores to the real label;
* soft labels: real ~ U[0.78, 1.12], fake ~ U[0, 0.24] instead of hard 1 / 0;
* conditional D updates: D steps only while its loss is above a threshold (0.2), so it cannot dominate;
* Adam 2e-4, betas (0.5, 0.999); learning rate ×0.9 (G) and ×0.85 (D) every 1000 iterations; for the
  LSGAN (``lsgan112``) those multipliers become ×0.95 (G) and ×0.9 (D) after 16 epochs (§4: "When training
  LSGAN, the multipliers were increased to 0.95 and 0.9 after 16 epochs") — :func:`lr_at_step`.

Kept apart from the job so each rule can be tested on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

REAL_LABEL_RANGE = (0.78, 1.12)
FAKE_LABEL_RANGE = (0.0, 0.24)
D_LOSS_THRESHOLD = 0.2


@dataclass
class Recipe:
    """Hyper-parameters of one training run (stored in the run state and the model card)."""

    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    g_decay: float = 0.9
    d_decay: float = 0.85
    decay_every: int = 1000
    d_threshold: float = D_LOSS_THRESHOLD
    loss: str = "ls"  # "ls" (the paper's least squares) or "bce" (DCGAN's cross-entropy)
    # the LSGAN schedule: after late_after_epochs epochs, every further decay uses the late multipliers.
    # "auto" = on for lsgan112 (the paper used it there only), off for the other architectures
    late_decay: str = "auto"
    late_after_epochs: float = 16.0
    late_g_decay: float = 0.95
    late_d_decay: float = 0.9
    real_label: tuple[float, float] = REAL_LABEL_RANGE
    fake_label: tuple[float, float] = FAKE_LABEL_RANGE


def soft_labels(
    n: int,
    value_range: tuple[float, float],
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """``n`` labels drawn uniformly from ``value_range`` (drawn on the CPU so runs repeat on any device)."""
    lo, hi = value_range
    u = torch.rand(n, generator=generator)
    return (lo + (hi - lo) * u).to(device)


def lsgan_loss(scores: torch.Tensor, targets: torch.Tensor | float) -> torch.Tensor:
    """mean((D(x) − target)²), computed in float32 even under bf16 autocast.

    Why no ½ (Mao et al. write one): the paper's D threshold of 0.2 is on the scale of PyTorch's
    ``MSELoss(real) + MSELoss(fake)``. With the ½ and soft labels, a D that outputs one constant for
    every image already scores 0.179 < 0.2, so D was never trained past chance (we measured a D update
    fraction of 0.20 and noise-like samples after 8000 steps). Adam does not care about the scale.
    """
    scores = scores.float()
    if not torch.is_tensor(targets):
        targets = torch.full_like(scores, float(targets))
    return (scores - targets.float()).pow(2).mean()


def bce_loss(scores: torch.Tensor, targets: torch.Tensor | float) -> torch.Tensor:
    """Binary cross-entropy on logits (the original DCGAN loss), targets clamped into [0, 1] so the
    paper's soft real labels (up to 1.12) stay valid probabilities."""
    scores = scores.float()
    if not torch.is_tensor(targets):
        targets = torch.full_like(scores, float(targets))
    return torch.nn.functional.binary_cross_entropy_with_logits(scores, targets.float().clamp(0.0, 1.0))


LOSSES = {"ls": lsgan_loss, "bce": bce_loss}
D_OUTPUTS = ("linear", "sigmoid")


def d_scores(raw: torch.Tensor, d_output: str) -> torch.Tensor:
    """What the loss sees of D's output: the raw score (``linear``, Mao et al.'s LSGAN, our default) or its
    sigmoid (``sigmoid``: the CSGAN authors' code, a sigmoid before the MSE)."""
    return torch.sigmoid(raw.float()) if d_output == "sigmoid" else raw


def should_update_d(d_loss: float, threshold: float = D_LOSS_THRESHOLD) -> bool:
    """The paper's conditional training: update D only while its loss is larger than the threshold."""
    return float(d_loss) > threshold


def lr_at(step: int, base_lr: float, decay: float, every: int = 1000) -> float:
    """Learning rate after ``step`` completed iterations: ``base · decay^(step // every)``."""
    return base_lr * decay ** (max(0, int(step)) // max(1, int(every)))


LATE_DECAY_MODES = ("auto", "on", "off")


def late_decay_on(mode: str, arch: str) -> bool:
    """Whether the LSGAN schedule's late multipliers apply (``auto``: only for ``lsgan112``, as the paper)."""
    if mode not in LATE_DECAY_MODES:
        raise ValueError(f"unknown late-decay mode {mode!r} (use {', '.join(LATE_DECAY_MODES)})")
    return mode == "on" or (mode == "auto" and arch == "lsgan112")


def switch_step(epochs: float, images: int, batch: int) -> int:
    """The iteration at which ``epochs`` epochs of ``images`` images at global batch ``batch`` are done.

    An epoch is images / batch iterations (our batches are uniform random draws, so an "epoch" is that many
    images seen, as the paper's data loader would have shown them)."""
    return max(0, math.ceil(float(epochs) * int(images) / max(1, int(batch)) - 1e-9))


def lr_at_step(
    step: int, base_lr: float, decay: float, every: int = 1000, switch: int | None = None, late: float = 1.0
) -> float:
    """Learning rate after ``step`` completed iterations with a change of multiplier.

    The decays happen at iterations every, 2·every, …; one at an iteration ≤ ``switch`` multiplies by
    ``decay``, a later one by ``late``. ``switch=None`` is the plain schedule :func:`lr_at`. It is a pure
    function of the step, so a resumed run gets exactly the rates of an uninterrupted one."""
    n = max(0, int(step)) // max(1, int(every))
    if switch is None:
        return base_lr * decay**n
    early = min(n, max(0, int(switch)) // max(1, int(every)))
    return base_lr * decay**early * late ** (n - early)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def r1_penalty(discriminator: torch.nn.Module, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?"):
    E‖∇ₓ D(x)‖² over real images, in float32 outside autocast, differentiable w.r.t. D's weights.
    The caller weights it by γ/2 (and by the interval when it is applied lazily)."""
    x = real.detach().float().requires_grad_(True)
    device_type = x.device.type if x.device.type in ("cpu", "cuda") else "cpu"
    with torch.autocast(device_type=device_type, enabled=False):
        scores = discriminator(x).float()
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()
