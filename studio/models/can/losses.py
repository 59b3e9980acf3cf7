"""CAN losses (report eq. 2, in its cross-entropy form).

Discriminator: real/fake BCE on real and generated images + style cross-entropy on *real* images only.
Generator: non-saturating adversarial BCE + the style-ambiguity term, the cross-entropy between the
uniform distribution over the K styles and D's style posterior for generated images. That term equals
log K exactly when the posterior is uniform and is larger for any other posterior (it is H(u) + KL(u‖q)),
so minimising it pushes samples to where D cannot tell which style they belong to.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def ambiguity_loss(style_logits: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of CE(uniform, softmax(logits)) = -(1/K) Σ_k log q_k."""
    return -F.log_softmax(style_logits, dim=1).mean(dim=1).mean()


def entropy(style_logits: torch.Tensor) -> torch.Tensor:
    """Per-image entropy (nats) of D's style posterior: the studio's 'ambiguity' / 'creativity' score."""
    logp = F.log_softmax(style_logits, dim=1)
    return -(logp.exp() * logp).sum(dim=1)


def discriminator_loss(
    real_logit: torch.Tensor,
    real_style: torch.Tensor,
    labels: torch.Tensor,
    fake_logit: torch.Tensor,
    style_weight: float = 1.0,
) -> dict[str, torch.Tensor]:
    real = F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit))
    fake = F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
    style = F.cross_entropy(real_style, labels)
    return {"total": real + fake + style_weight * style, "d_real": real, "d_fake": fake, "d_style": style}


def generator_loss(
    fake_logit: torch.Tensor, fake_style: torch.Tensor, ambiguity_weight: float = 1.0
) -> dict[str, torch.Tensor]:
    adv = F.binary_cross_entropy_with_logits(fake_logit, torch.ones_like(fake_logit))
    amb = ambiguity_loss(fake_style)
    return {"total": adv + ambiguity_weight * amb, "g_adv": adv, "g_ambiguity": amb}
