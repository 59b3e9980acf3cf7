"""Mixed precision for training: autocast, fp16 loss scaling and memory format, chosen once per run."""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from typing import Any

import torch

from studio.core.errors import StudioError
from studio.core.fastnet import native_bf16


def resolve_precision(name: str, device: torch.device) -> str:
    """'auto' -> 'bf16' on CPUs with native bf16 (AVX-512 BF16 / AMX: measured faster than fp32 with the
    same loss curves, bench/bench_finetune.py), else 'fp32'; other names unchanged."""
    if name != "auto":
        return name
    return "bf16" if device.type == "cpu" and native_bf16() else "fp32"


class Precision:
    """``fp32`` (the reference), ``bf16`` (autocast; AMX CPUs and recent GPUs) or ``fp16`` (GPU autocast
    with a GradScaler, since fp16 gradients underflow without one)."""

    def __init__(self, name: str, device: torch.device):
        name = resolve_precision(name, device)
        if name == "fp16" and device.type == "cpu":
            raise StudioError("--precision fp16 needs a GPU; on the CPU use bf16 (or fp32)")
        self.name, self.device = name, device
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(name)
        self.scaler: Any = torch.amp.GradScaler(device.type) if name == "fp16" else None
        # channels_last lets oneDNN / cuDNN pick their fast reduced-precision convolution kernels
        self.channels_last = self.dtype is not None and device.type in ("cpu", "cuda")

    def autocast(self) -> AbstractContextManager[Any]:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor) -> None:
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        if self.scaler is not None:
            self.scaler.step(optimizer)
        else:
            optimizer.step()

    def end_step(self) -> None:
        """Once per training step, after every optimizer stepped (adjusts the fp16 loss scale)."""
        if self.scaler is not None:
            self.scaler.update()

    def prepare(self, module: torch.nn.Module) -> torch.nn.Module:
        if self.channels_last:
            module.to(memory_format=torch.channels_last)
        return module
