"""All scores of one feature set against a reference set, as one plain dict (what goes into cards).

Every result names its feature network and image counts, because numbers from different networks or
sample sizes are different quantities; :func:`check_comparable` enforces that before any comparison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from studio.core.errors import StudioError

from .coverage import precision_recall_coverage
from .frechet import fid
from .inception_score import inception_score
from .kid import kid
from .memorisation import EPSILON, THRESHOLD, Memorisation, memorisation, mifid

# the columns of reports and compare tables: key, label, format
COLUMNS = (
    ("fid", "FID", "{:.2f}"),
    ("kid", "KID×10³", None),
    ("mifid", "MiFID", "{:.2f}"),
    ("memorisation_distance", "mem. dist d", "{:.4f}"),
    ("memorisation_penalty", "penalty m", "{:.3g}"),
    ("is", "IS-style", None),
    ("precision", "precision", "{:.3f}"),
    ("recall", "recall", "{:.3f}"),
    ("coverage", "coverage", "{:.3f}"),
)


def compute_scores(
    gen_features: torch.Tensor,
    gen_logits: torch.Tensor,
    ref_features: torch.Tensor,
    train_features: torch.Tensor | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    is_splits: int = 10,
    pr_k: int = 3,
) -> tuple[dict[str, float], Memorisation]:
    """FID, KID, MiFID (+ its parts), IS-style score and precision/recall/coverage, plus the
    per-sample memorisation data (nearest training image of each sample) for reports."""
    if gen_features.shape[0] < 2 or ref_features.shape[0] < 2:
        raise StudioError("need at least two generated and two reference images to compare distributions")
    fid_value = fid(gen_features, ref_features)
    kid_mean, kid_std = kid(gen_features, ref_features, subsets=kid_subsets, subset_size=kid_subset_size)
    memo = memorisation(gen_features, ref_features if train_features is None else train_features)
    is_mean, is_std = inception_score(gen_logits, splits=is_splits)
    out = {
        "fid": fid_value,
        "kid": kid_mean,
        "kid_std": kid_std,
        "mifid": mifid(fid_value, memo),
        "memorisation_distance": memo.distance,
        "memorisation_penalty": memo.penalty,
        "memorisation_threshold": THRESHOLD,
        "memorisation_epsilon": EPSILON,
        "flagged_samples": int((memo.per_sample < THRESHOLD).sum()),
        "is": is_mean,
        "is_std": is_std,
    }
    if min(gen_features.shape[0], ref_features.shape[0]) > pr_k:
        out.update(precision_recall_coverage(ref_features, gen_features, k=pr_k))
    return out, memo


def format_value(result: Mapping[str, Any], key: str) -> str:
    if key not in result or result[key] is None:
        return "–"
    if key == "kid":
        return f"{result['kid'] * 1e3:.2f} ± {result.get('kid_std', 0.0) * 1e3:.2f}"
    if key == "is":
        return f"{result['is']:.2f} ± {result.get('is_std', 0.0):.2f}"
    fmt = dict((k, f) for k, _, f in COLUMNS).get(key) or "{:.4g}"
    return fmt.format(result[key])


def check_comparable(results: Sequence[Mapping[str, Any]]) -> None:
    """Refuse to put scores side by side unless they share feature network and reference set."""
    nets = {r.get("feature_net") for r in results}
    if len(nets) > 1:
        raise StudioError(
            "these scores were computed with different feature networks "
            f"({', '.join(sorted(str(n) for n in nets))}) and cannot be compared; "
            "evaluate all models with the same --features"
        )
    refs = {r.get("reference_digest") for r in results}
    if len(refs) > 1:
        raise StudioError(
            "these scores were computed against different reference sets and cannot be "
            "compared; evaluate all models on the same --data folder"
        )


def table_text(rows: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """A plain-text table, one row per model (for the terminal)."""
    check_comparable([r for _, r in rows])
    head = ["model"] + [label for _, label, _ in COLUMNS]
    body = [[name] + [format_value(r, k) for k, _, _ in COLUMNS] for name, r in rows]
    widths = [max(len(str(x[i])) for x in [head] + body) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip() for line in [head] + body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    first = rows[0][1] if rows else {}
    lines.append(
        f"features: {first.get('feature_net')}; {first.get('n_generated')} samples per model vs "
        f"{first.get('n_reference')} reference images from {first.get('reference')}"
    )
    lines.extend(f"{name}: {text}" for name, r in rows if (text := matched_floor_text(r)))
    return "\n".join(lines)


def matched_floor_text(result: Mapping[str, Any]) -> str:
    """One sentence on the model against the split-half floor at the floor's own sample counts ('' when the
    result has no such score: too few samples, or scored before it existed); the terminal and the report
    both say it."""
    floor, matched, ratio = (result.get(k) for k in ("reference_half_fid", "fid_matched_half", "fid_matched_ratio"))
    if floor is None or matched is None or ratio is None:
        return ""
    return (
        f"floor (reference half vs half) {floor:.2f}; at the floor's sample counts (as many samples as one "
        f"half, against the other half) the model scores {matched:.2f}, {ratio:.2f}x the floor"
    )
