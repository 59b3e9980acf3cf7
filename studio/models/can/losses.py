"""CAN losses (report eq. 2–3, paper 003).

Discriminator: real/fake BCE on real and generated images + a style classification loss on *real* images
only. Generator: non-saturating adversarial BCE + a style-ambiguity term. Two forms of the pair exist:

* ``sigmoid-eq3`` (default, the report's equations): the style head gives one sigmoid per class,
  D_c(c_k|x) = σ(l_k). D classifies real images one-vs-all (BCE, the true style → 1, the others → 0; eq. 2
  writes only the true-class term, which alone would be maximised by pushing every logit up). G minimises
  ``-Σ_k [(1/K)·log σ(l_k) + (1 − 1/K)·log(1 − σ(l_k))]``, i.e. maximises eq. 3: a per-class binary
  cross-entropy to the target 1/K, whose minimum is at σ(l_k) = 1/K for every k. Logits that are all high
  (every style claimed at once) are penalised.
* ``softmax-ce`` (the studio's earlier form, kept as an option): D uses softmax cross-entropy, and G
  minimises CE(uniform, softmax(l)) = H(u) + KL(u‖q), which is log K exactly at a uniform posterior. It is
  blind to a shift of all logits together, so all-high logits score like uniform ones.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

AMBIGUITY_FORMS = ("sigmoid-eq3", "softmax-ce")
DEFAULT_AMBIGUITY = "sigmoid-eq3"


def check_form(form: str) -> str:
    if form not in AMBIGUITY_FORMS:
        from studio.core.errors import StudioError

        raise StudioError(f"unknown ambiguity loss {form!r} (use {' or '.join(AMBIGUITY_FORMS)})")
    return form


def ambiguity_softmax_ce(style_logits: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of CE(uniform, softmax(logits)) = -(1/K) Σ_k log q_k."""
    return -F.log_softmax(style_logits, dim=1).mean(dim=1).mean()


def ambiguity_eq3(style_logits: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of -Σ_k [(1/K) log σ(l_k) + (1 − 1/K) log(1 − σ(l_k))] (the negated eq. 3)."""
    k = style_logits.shape[1]
    target = torch.full_like(style_logits, 1.0 / k)
    per_class = F.binary_cross_entropy_with_logits(style_logits, target, reduction="none")
    return per_class.sum(dim=1).mean()


def ambiguity_loss(style_logits: torch.Tensor, form: str = DEFAULT_AMBIGUITY) -> torch.Tensor:
    """The generator's style-ambiguity loss in the chosen form (see the module docstring)."""
    return ambiguity_eq3(style_logits) if check_form(form) == "sigmoid-eq3" else ambiguity_softmax_ce(style_logits)


def style_classification_loss(
    style_logits: torch.Tensor, labels: torch.Tensor, form: str = DEFAULT_AMBIGUITY
) -> torch.Tensor:
    """D's style loss on real images: one-vs-all BCE per class (sigmoid-eq3) or softmax cross-entropy."""
    if check_form(form) == "softmax-ce":
        return F.cross_entropy(style_logits, labels)
    onehot = F.one_hot(labels, style_logits.shape[1]).to(style_logits.dtype)
    return F.binary_cross_entropy_with_logits(style_logits, onehot, reduction="none").sum(dim=1).mean()


def entropy(style_logits: torch.Tensor) -> torch.Tensor:
    """Per-image entropy (nats) of softmax(logits): the studio's 'ambiguity' / 'creativity' score.

    With sigmoid style outputs this normalises the K one-vs-all scores into one posterior; it is the
    measure every CAN card reports, whichever loss trained it."""
    logp = F.log_softmax(style_logits, dim=1)
    return -(logp.exp() * logp).sum(dim=1)


def discriminator_loss(
    real_logit: torch.Tensor,
    real_style: torch.Tensor,
    labels: torch.Tensor,
    fake_logit: torch.Tensor,
    style_weight: float = 1.0,
    form: str = DEFAULT_AMBIGUITY,
) -> dict[str, torch.Tensor]:
    real = F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit))
    fake = F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
    style = style_classification_loss(real_style, labels, form)
    return {"total": real + fake + style_weight * style, "d_real": real, "d_fake": fake, "d_style": style}


def generator_loss(
    fake_logit: torch.Tensor, fake_style: torch.Tensor, ambiguity_weight: float = 1.0, form: str = DEFAULT_AMBIGUITY
) -> dict[str, torch.Tensor]:
    adv = F.binary_cross_entropy_with_logits(fake_logit, torch.ones_like(fake_logit))
    amb = ambiguity_loss(fake_style, form)
    return {"total": adv + ambiguity_weight * amb, "g_adv": adv, "g_ambiguity": amb}
