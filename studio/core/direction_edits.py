"""Direction edits beyond the stored GANSpace axes: two-state ("from A to B") directions, and the states
of a direction's preview strip.

A two-state direction is a vector in the model's *direction space* (the code its direction sliders
move: z for latent families, the content code for GADN), from state A's code to state B's. A state uses
it like a stored direction: ``directions[KEY]`` holds the amount (0 = unchanged, 1 = moved by the whole
A→B difference) and ``direction_vectors[KEY]`` the vector itself. Why the vector travels in the state:
an exported PNG, an undo step or a state file then renders the same on a machine without the user's
names file.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .errors import StudioError
from .states import MAX_VALUE, clean_state

TWO_STATE_PREFIX = "ab"  # keys "ab1", "ab2"… (stored GANSpace axes are "pc0", "pc1"…)
VECTORS_KEY = "direction_vectors"
STRIP_VALUES = (-2.0, -1.0, 0.0, 1.0, 2.0)  # offsets from the current amount, in slider units (σ)
MAX_DIM = 1 << 16
MAX_COMPONENT = 1e3


def is_two_state_key(key: Any) -> bool:
    return isinstance(key, str) and key.startswith(TWO_STATE_PREFIX) and key[len(TWO_STATE_PREFIX) :].isdigit()


def clean_vector(values: Any, dim: int | None = None) -> list[float] | None:
    """A list of finite, bounded floats (of length ``dim`` when given), or None. States are untrusted."""
    if not isinstance(values, (list, tuple)) or not 0 < len(values) <= MAX_DIM:
        return None
    if dim is not None and len(values) != dim:
        return None
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        f = float(v)
        if not math.isfinite(f) or abs(f) > MAX_COMPONENT:
            return None
        out.append(f)
    return out


def state_offset(state: Mapping[str, Any], dim: int) -> torch.Tensor | None:
    """What the state's two-state directions add to its code ([dim]), or None when it uses none.

    A vector of the wrong length (a state from another model) or with bad numbers is ignored."""
    amounts = state.get("directions")
    vectors = state.get(VECTORS_KEY)
    if not isinstance(amounts, Mapping) or not isinstance(vectors, Mapping):
        return None
    total: torch.Tensor | None = None
    for key, amount in amounts.items():
        if not is_two_state_key(key) or isinstance(amount, bool) or not isinstance(amount, (int, float)):
            continue
        if not math.isfinite(float(amount)) or float(amount) == 0.0:
            continue
        vector = clean_vector(vectors.get(key), dim)
        if vector is None:
            continue
        step = float(amount) * torch.tensor(vector, dtype=torch.float32)
        total = step if total is None else total + step
    return total


def direction_code(model: Any, state: Mapping[str, Any]) -> torch.Tensor:
    """A state's code in the model's direction space ([D], CPU), before truncation and variation noise.

    Families expose it as ``content_for`` (GADN) or ``latent_for`` (every :class:`LatentModel`)."""
    s = clean_state(state)
    s["truncation"] = 1.0
    s.pop("variation", None)
    for name in ("content_for", "latent_for"):
        fn = getattr(model, name, None)
        if callable(fn):
            return fn(s).detach().float().cpu().reshape(-1)
    card = getattr(model, "card", None)
    raise StudioError(
        f"{getattr(card, 'name', 'this model')}: this model has no latent code, so it has no directions to make"
    )


def two_state_vector(model: Any, state_a: Mapping[str, Any], state_b: Mapping[str, Any]) -> list[float]:
    """The A→B vector of a new two-state direction. Raises StudioError when A and B have the same code."""
    a = direction_code(model, state_a)
    b = direction_code(model, state_b)
    delta = b - a
    if not torch.isfinite(delta).all():
        raise StudioError("the two states give codes with non-finite numbers; no direction made")
    if float(delta.norm()) < 1e-6:
        raise StudioError(
            "the two states have the same code (only their labels or style differ?): pick two different images"
        )
    vector = clean_vector([round(float(v), 6) for v in delta])
    if vector is None:
        raise StudioError("the direction between these two states is too large to store")
    return vector


def next_two_state_key(taken: Sequence[str]) -> str:
    used = {int(k[len(TWO_STATE_PREFIX) :]) for k in taken if is_two_state_key(k)}
    n = 1
    while n in used:
        n += 1
    return f"{TWO_STATE_PREFIX}{n}"


def with_amount(
    state: Mapping[str, Any], key: str, amount: float, vector: Sequence[float] | None = None
) -> dict[str, Any]:
    """A copy of ``state`` with direction ``key`` at ``amount`` (and its vector, for a two-state key)."""
    s = copy.deepcopy(dict(state))
    dirs = dict(s.get("directions") or {})
    dirs[key] = round(max(-MAX_VALUE, min(MAX_VALUE, float(amount))), 4)
    s["directions"] = dirs
    if vector is not None and is_two_state_key(key):
        vectors = dict(s.get(VECTORS_KEY) or {}) if isinstance(s.get(VECTORS_KEY), Mapping) else {}
        vectors[key] = list(vector)
        s[VECTORS_KEY] = vectors
    return s


def strip_states(
    state: Mapping[str, Any],
    key: str,
    values: Sequence[float] = STRIP_VALUES,
    vector: Sequence[float] | None = None,
) -> list[dict[str, Any]]:
    """The states of a preview strip: the current state moved by each of ``values`` along ``key``
    (around its current amount, so the middle cell is what the canvas shows)."""
    base = clean_state(state)
    try:
        current = float(base["directions"].get(key, 0.0))
    except (TypeError, ValueError):
        current = 0.0
    return [with_amount(base, key, current + float(v), vector) for v in values]
