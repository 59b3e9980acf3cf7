"""Device choice shared by the CLI and the GUI: 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'."""

from __future__ import annotations

import torch

from .errors import StudioError


def available_devices() -> list[str]:
    """Devices a user can pick on this machine, best first after 'auto'."""
    names = ["auto", "cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    return names


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """Turn a user's device choice into a torch.device, with a clear error if it is not here."""
    if isinstance(name, torch.device):
        return name
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise StudioError(f"device '{name}' was asked for, but no CUDA GPU is available here")
        try:
            device = torch.device(name)
        except RuntimeError as exc:
            raise StudioError(f"unknown device '{name}': use auto, cpu, cuda, cuda:N or mps") from exc
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise StudioError(
                f"device '{name}' was asked for, but this machine has {count} CUDA GPU(s) (cuda:0 to cuda:{count - 1})"
            )
        return device
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise StudioError("device 'mps' was asked for, but Apple's Metal backend is not available here")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise StudioError(f"unknown device '{name}': use auto, cpu, cuda, cuda:N or mps")
