"""Data-parallel training under ``torchrun``: read its environment, pick the backend, sync stop flags.

``torchrun --nproc_per_node N -m stylecam train ...`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``
and the rendezvous address; a plain ``stylecam train`` sees none and runs as one process. The
backend is NCCL when the processes train on CUDA GPUs and gloo on CPU.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from stylecam.errors import UsageError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits in the job (one process: rank 0 of 1)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only the main process logs, writes TensorBoard, samples and saves."""
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"environment variable {name}={value!r} is not an integer (set by torchrun)") from None


def detect() -> DistInfo:
    """Read torchrun's environment (no process group is created yet)."""
    world = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", 0)
    local_world = _env_int("LOCAL_WORLD_SIZE", world)
    if world < 1 or not 0 <= rank < world:
        raise UsageError(f"inconsistent torchrun environment: RANK={rank} WORLD_SIZE={world}")
    return DistInfo(rank=rank, world_size=world, local_rank=local_rank, local_world_size=local_world)


def device_for(info: DistInfo, requested: torch.device) -> torch.device:
    """Each process of a multi-GPU job drives the GPU of its local rank."""
    if info.enabled and requested.type == "cuda":
        if requested.index not in (None, info.local_rank):
            log.warning("under torchrun each process uses cuda:LOCAL_RANK; ignoring --device %s", requested)
        return torch.device("cuda", info.local_rank)
    return requested


def init(info: DistInfo, device: torch.device) -> None:
    """Join the process group (no-op for a single process)."""
    if not info.enabled or dist.is_initialized():
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)
    log.info("process group: %s, %d processes, this is rank %d", backend, info.world_size, info.rank)


def shutdown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.barrier()


def any_rank(info: DistInfo, flag: bool, device: torch.device) -> bool:
    """True on every rank if ``flag`` is true on any rank (so all ranks stop at the same step)."""
    if not info.enabled:
        return flag
    value = torch.tensor([1 if flag else 0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())
