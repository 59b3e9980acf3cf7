"""Data-parallel training across processes started by ``torchrun`` (PyTorch's own launcher).

Every process (rank) holds the whole model, draws its own share of each batch with its own RNG, and
before every optimizer step the gradients are averaged over ranks with one flat ``all_reduce`` — the
data-parallel rule DistributedDataParallel implements. We do the reduction ourselves rather than wrap
modules in ``DistributedDataParallel`` because a GAN step runs each network several times, toggles
``requires_grad`` between them and steps several optimizers; DDP's bucketed reducer expects one
forward and one backward per step (StyleGAN2-ADA/3's training loop makes the same choice). Parameters
start identical (broadcast from rank 0) and stay identical because every rank applies the same averaged
gradients with the same optimizer.

BatchNorm keeps per-rank statistics during training (each rank normalises its own share of the batch,
as DDP does without SyncBatchNorm); running statistics are averaged across ranks before every save, so
the saved and exported model is the same whichever rank would have written it. Only rank 0 writes
files, previews, scores and progress. Stops (Cancel, time limit) are agreed by all ranks at the top of
each step so no rank waits forever in a collective.

Resume with N processes restores every rank's own random stream (gathered to rank 0 at each save), so
it is exact, with one limit: a family's extra state (``state()`` / ``state_tensors()``, e.g. the
translators' image pools) is saved from rank 0 only, and every rank resumes with rank 0's copy.

Backend: NCCL for CUDA, gloo otherwise (CPU processes). Multi-node runs use torchrun's own rendezvous
flags (``--nnodes``, ``--rdzv-endpoint``...).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import NoReturn

import torch
import torch.distributed as dist


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1") or 1) > 1 and "RANK" in os.environ


def exit_process(code: int) -> NoReturn:
    """End this process with ``code``. A rank started by torchrun skips the interpreter's finalisation
    (stdout and stderr are flushed first; every file the run writes is complete by then): with the gloo
    backend, PyTorch can abort there, after a run that finished and saved, with "terminate called
    without an active exception" (its worker threads still hold tensors while Python is torn down;
    pytorch/pytorch#179291), which torchrun reports as a failed rank. Any other process exits normally."""
    if not launched_by_torchrun():
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


class Distributed:
    """This process's place in a run: rank, world size, and the few collectives the Trainer needs."""

    def __init__(self, rank: int = 0, world_size: int = 1, local_rank: int = 0, owns_group: bool = False):
        self.rank, self.world_size, self.local_rank = rank, world_size, local_rank
        self._owns_group = owns_group

    @classmethod
    def from_environment(cls, device_type: str) -> Distributed:
        if not launched_by_torchrun():
            return cls()
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
            owns = True
        else:
            owns = False
        return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")), owns)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def average_gradients(self, params: Iterable[torch.nn.Parameter]) -> None:
        """Average the gradients of ``params`` over all ranks (one flat all_reduce)."""
        if not self.enabled:
            return
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for g in grads:
            n = g.numel()
            g.copy_(flat[offset : offset + n].view_as(g))
            offset += n

    def broadcast_module(self, module: torch.nn.Module) -> None:
        """Give every rank rank 0's parameters and buffers."""
        if not self.enabled:
            return
        with torch.no_grad():
            for t in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(t.data, src=0)

    def average_buffers(self, module: torch.nn.Module) -> None:
        """Average floating-point buffers (BatchNorm running statistics) over ranks."""
        if not self.enabled:
            return
        with torch.no_grad():
            for b in module.buffers():
                if b.is_floating_point():
                    dist.all_reduce(b.data)
                    b.data /= self.world_size

    def agree_max(self, code: int, device: torch.device) -> int:
        """The largest ``code`` of all ranks, on every rank (agreeing on Cancel / time limit)."""
        if not self.enabled:
            return code
        t = torch.tensor([float(code)], device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return int(t.item())

    def mean(self, value: float, device: torch.device) -> float:
        """The mean of a number over ranks (for decisions every rank must take alike)."""
        if not self.enabled:
            return value
        t = torch.tensor([float(value)], device=device)
        dist.all_reduce(t)
        return float(t.item()) / self.world_size

    def gather_bytes(self, data: torch.Tensor, device: torch.device) -> list[torch.Tensor]:
        """Every rank's uint8 tensor of the same length (RNG states), in rank order, on every rank."""
        if not self.enabled:
            return [data]
        local = data.to(device)
        out = [torch.empty_like(local) for _ in range(self.world_size)]
        dist.all_gather(out, local)
        return [t.cpu() for t in out]

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def close(self) -> None:
        if self._owns_group and dist.is_initialized():
            dist.destroy_process_group()
