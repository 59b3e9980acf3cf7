"""Crossbreeding and picking canvas states (Artbreeder-style), without Qt.

Why states and not images: a child must stay editable (every slider still applies), be undoable and
travel in exported PNGs like any other state. So a child is an ordinary state whose code is written out
in full: ``z_edits`` holding every dimension for latent models (the convention CAN's steer job already
uses), ``content`` for models with an explicit content code (GADN). Labels and scalars mix too:

- a choice label takes the value with the largest total parent weight; a model that can blend two
  labels (``label_blend = (label, second_label, scalar)``, e.g. GADN's artist, artist2, blend) blends
  the two heaviest values with their relative weights;
- numeric scalars are weighted means.

Each child records where it came from in ``state["parents"]``: ``[{"id": ..., "weight": ...}]``
(ids of gallery entries, when the parents have them), so a lineage can be followed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .errors import StudioError
from .family import normalise_state
from .states import MAX_VALUE


def can_breed(model: Any) -> bool:
    """Whether ``model`` exposes a code crossbreeding can mix (a latent code or a content code)."""
    return callable(getattr(model, "latent_for", None)) or callable(getattr(model, "content_for", None))


def _weights(count: int, weights: Sequence[float] | None) -> list[float]:
    if count < 2:
        raise StudioError("crossbreeding needs at least two parent states")
    w = [1.0] * count if weights is None else [float(x) for x in weights]
    if len(w) != count:
        raise StudioError(f"crossbreeding got {len(w)} weights for {count} parents")
    if any(not (x >= 0.0) or x == float("inf") for x in w):
        raise StudioError("crossbreeding weights must be finite numbers ≥ 0")
    total = sum(w)
    if total <= 0:
        raise StudioError("at least one parent needs a weight above 0")
    return [x / total for x in w]


def _without_offsets(state: Mapping[str, Any]) -> dict[str, Any]:
    """The state's base code only: no direction offsets and no truncation (those stay sliders)."""
    s = normalise_state(state)
    s["directions"] = {}
    s["truncation"] = 1.0
    return s


def _code_of(model: Any, state: Mapping[str, Any], full: bool = True) -> tuple[str, torch.Tensor]:
    """('z' or 'content', the [D] code) of a state: ``full`` includes directions and truncation."""
    s = normalise_state(state) if full else _without_offsets(state)
    if callable(getattr(model, "latent_for", None)):
        return "z", model.latent_for(s).detach().float().cpu().reshape(-1)
    if callable(getattr(model, "content_for", None)):
        return "content", model.content_for(s).detach().float().cpu().reshape(-1)
    raise StudioError("this model has no latent or content code to crossbreed")


def _write_code(state: dict[str, Any], kind: str, code: torch.Tensor) -> dict[str, Any]:
    limit = MAX_VALUE if kind == "z" else MAX_VALUE * 10  # what states.clean_state accepts
    values = [round(float(v), 6) for v in code.clamp(-limit, limit)]
    if kind == "z":
        state["z_edits"] = {str(i): v for i, v in enumerate(values)}
    else:
        state["content"] = values
    state.pop("variation", None)
    return state


def mix_codes(codes: torch.Tensor, weights: Sequence[float], keep_norm: bool = True) -> torch.Tensor:
    """The weighted mean of codes [N, D]; with ``keep_norm`` rescaled to the weighted mean of their norms.

    Why the rescale: Gaussian latent codes live near a sphere, and a plain mean of two of them is shorter
    (washed-out images); rescaling keeps the child on the parents' shell, between them (a weighted slerp
    for two parents, up to the angle's parametrisation)."""
    w = torch.tensor(list(weights), dtype=codes.dtype).reshape(-1, 1)
    mixed = (w * codes).sum(0)
    if keep_norm:
        target = (w.reshape(-1) * codes.norm(dim=1)).sum()
        mixed = mixed * (target / mixed.norm().clamp_min(1e-12))
    return mixed


def _mix_labels(model: Any, parents: Sequence[Mapping[str, Any]], weights: Sequence[float]) -> dict[str, Any]:
    """Labels and scalars of the child (see the module docstring)."""
    labels: dict[str, str] = {}
    scalars: dict[str, float] = {}
    blend = getattr(model, "label_blend", None)
    blend_names = set(blend) if isinstance(blend, (tuple, list)) and len(blend) == 3 else set()
    names = {k for p in parents for k in p.get("labels", {})}
    for name in sorted(names - blend_names):
        votes: dict[str, float] = {}
        for p, w in zip(parents, weights):
            value = p.get("labels", {}).get(name)
            if isinstance(value, str):
                votes[value] = votes.get(value, 0.0) + w
        if votes:
            labels[name] = max(votes, key=lambda v: (votes[v], -list(votes).index(v)))
    if blend_names:
        first, second, amount = blend  # type: ignore[misc]
        votes = {}
        for p, w in zip(parents, weights):
            lab, sc = p.get("labels", {}), p.get("scalars", {})
            a = lab.get(first)
            b = lab.get(second, a)
            t = float(sc.get(amount, 0.0)) if isinstance(sc.get(amount, 0.0), (int, float)) else 0.0
            t = min(1.0, max(0.0, t))
            for value, share in ((a, 1.0 - t), (b, t)):
                if isinstance(value, str) and share > 0:
                    votes[value] = votes.get(value, 0.0) + w * share
        ranked = sorted(votes, key=lambda v: -votes[v])
        if ranked:
            labels[first] = ranked[0]
            labels[second] = ranked[1] if len(ranked) > 1 else ranked[0]
            pair = votes[ranked[0]] + (votes[ranked[1]] if len(ranked) > 1 else 0.0)
            scalars[amount] = round(votes[ranked[1]] / pair, 6) if len(ranked) > 1 and pair > 0 else 0.0
    numbers = {k for p in parents for k, v in p.get("scalars", {}).items() if isinstance(v, (int, float))}
    for name in sorted(numbers - blend_names):
        total = weight = 0.0
        for p, w in zip(parents, weights):
            v = p.get("scalars", {}).get(name)
            if isinstance(v, (int, float)):
                total += w * float(v)
                weight += w
        if weight > 0:
            scalars[name] = total / weight
    return {"labels": labels, "scalars": scalars}


def crossbreed(
    model: Any,
    parents: Sequence[Mapping[str, Any]],
    weights: Sequence[float] | None = None,
    parent_ids: Sequence[str | None] | None = None,
) -> dict[str, Any]:
    """A child state of two or more parent states of ``model`` (see the module docstring).

    The child's code is :func:`mix_codes` of the parents' full codes (directions and truncation
    included), so sliders start at zero on the child. Raises StudioError for fewer than two parents, bad
    weights, or a model without a code to mix."""
    w = _weights(len(parents), weights)
    clean = [normalise_state(p) for p in parents]
    if not can_breed(model):
        raise StudioError("this model has no latent or content code to crossbreed")
    kind = ""
    codes = []
    for p in clean:
        kind, code = _code_of(model, p)
        codes.append(code)
    if len({c.shape for c in codes}) != 1:
        raise StudioError("the parents' codes differ in size: were they made with the same model?")
    stack = torch.stack(codes)
    mixed = mix_codes(stack, w, keep_norm=(kind == "z"))
    heaviest = clean[max(range(len(w)), key=lambda i: w[i])]
    child = copy.deepcopy(heaviest)
    child["directions"] = {}
    child["truncation"] = 1.0
    child["z_edits"] = {}
    child.update(_mix_labels(model, clean, w))
    ids = list(parent_ids) if parent_ids is not None else [None] * len(clean)
    child["parents"] = [{"id": str(i) if i is not None else "", "weight": round(x, 6)} for i, x in zip(ids, w)]
    return _write_code(child, kind, mixed)


def bake_variation(model: Any, state: Mapping[str, Any]) -> dict[str, Any]:
    """``state`` with its grid-variation offset written into its code, so that it stands on its own.

    Why: a picked grid cell is "the centre state plus variation noise"; a new grid around it replaces
    the ``variation`` key, which would silently drop the picked offset. Directions and truncation stay
    as they were (their sliders keep their meaning). A model without a code keeps the state as it is."""
    s = normalise_state(state)
    if "variation" not in s or not can_breed(model):
        return s
    kind, base = _code_of(model, s, full=False)
    return _write_code(s, kind, base)


def cell_at(x: float, y: float, rows: int, cols: int, cell_w: int, cell_h: int, pad: int) -> int | None:
    """The index of the grid cell under image pixel (x, y) of a :func:`studio.core.grid.tile` image, or
    None on a gap, outside the grid, or past the last cell."""
    if rows < 1 or cols < 1 or cell_w < 1 or cell_h < 1 or x < 0 or y < 0:
        return None
    col, cx = divmod(x - pad, cell_w + pad)
    row, cy = divmod(y - pad, cell_h + pad)
    if not (0 <= col < cols and 0 <= row < rows) or cx >= cell_w or cy >= cell_h or x < pad or y < pad:
        return None
    return int(row) * cols + int(col)
