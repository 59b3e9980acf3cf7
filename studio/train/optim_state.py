"""The one optimizer-state codec: ``opt.state_dict()`` <-> named tensors + JSON, never a pickle.

Why: a run folder must resume exactly (Adam's moments and step counts included) and must hold only
tensors and plain JSON, so a downloaded run can never execute code. Tensor values become
``<prefix>.<param index>.<key>`` tensors; everything else (param groups, non-tensor per-parameter
values) goes into a JSON-able dict stored in the run's metadata.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from studio.core.errors import CheckpointError


def _jsonable(value: Any) -> Any:
    """Param-group values as JSON: tuples become lists; anything else unknown becomes None."""
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return None


def optimizer_tensors(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer's state into tensors (for safetensors) and a JSON-able description."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, state in sd["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{pid}.{key}"] = value.detach().to("cpu").clone().contiguous()
            else:
                scalars.setdefault(str(pid), {})[key] = _jsonable(value)
    groups = [{k: _jsonable(v) for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, {"param_groups": groups, "scalars": scalars}


def load_optimizer(
    prefix: str,
    opt: torch.optim.Optimizer,
    tensors: Mapping[str, torch.Tensor],
    meta: Mapping[str, Any],
    path: str = "<run>",
) -> None:
    """Restore what :func:`optimizer_tensors` saved; a mismatch is a clear :class:`CheckpointError`."""
    state: dict[int, dict[str, Any]] = {}
    try:
        for name, value in tensors.items():
            if name.startswith(prefix + "."):
                pid, key = name[len(prefix) + 1 :].split(".", 1)
                state.setdefault(int(pid), {})[key] = value
        for pid, extra in (meta.get("scalars") or {}).items():
            state.setdefault(int(pid), {}).update(extra)
        groups = []
        for g in meta.get("param_groups") or []:
            g = dict(g)
            if isinstance(g.get("betas"), list):
                g["betas"] = tuple(g["betas"])
            groups.append(g)
        opt.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError, RuntimeError, TypeError, AttributeError) as exc:
        raise CheckpointError(path, f"the saved optimizer '{prefix}' does not fit this run ({exc})") from exc
