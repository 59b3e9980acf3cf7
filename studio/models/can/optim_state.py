"""Optimiser state ⇄ safetensors + JSON, so resumable runs never pickle anything.

``optimizer_tensors`` flattens ``opt.state_dict()`` into named tensors (``prefix.<param>.<key>``) plus a
JSON-able description of the param groups and the non-tensor per-parameter values.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from studio.core.errors import CheckpointError


def optimizer_tensors(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for key, value in st.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{pid}.{key}"] = value.detach().cpu().clone()
            else:
                scalars.setdefault(str(pid), {})[key] = value
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, {"param_groups": groups, "scalars": scalars}


def load_optimizer(prefix: str, opt: torch.optim.Optimizer, tensors: Mapping[str, torch.Tensor],
                   meta: Mapping[str, Any], path: str = "<run>") -> None:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if not name.startswith(prefix + "."):
            continue
        pid, key = name[len(prefix) + 1:].split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    for pid, extra in (meta.get("scalars") or {}).items():
        state.setdefault(int(pid), {}).update(extra)
    groups = []
    for g in meta.get("param_groups") or []:
        g = dict(g)
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
        groups.append(g)
    try:
        opt.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError, RuntimeError) as exc:
        raise CheckpointError(path, f"the saved optimiser state does not fit this model ({exc})")
