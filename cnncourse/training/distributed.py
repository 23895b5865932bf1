"""Distributed data-parallel training: the same :func:`~cnncourse.training.fit`, on many processes.

Launch a training script with ``torchrun``; each process it starts calls :func:`setup` once
and then ``fit`` exactly as on one machine. ``fit`` sees that a process group is running,
wraps the model in ``DistributedDataParallel`` (DDP) and gives every process its own share of
each batch; after each backward pass DDP averages the gradients over all processes, so every
process makes the same update and all copies of the model stay identical. ``fit``'s progress bar,
printing and checkpoints happen on process 0 only; the History every process returns holds the
metrics of the whole global batch.

One machine with several GPUs (one process per GPU; ``--standalone`` needs no address)::

    torchrun --standalone --nproc_per_node=gpu train.py

Several machines: run the same line on each node (here 2 nodes of 8 GPUs; ``host0`` is any one
of them, reachable from the others)::

    torchrun --nnodes=2 --nproc_per_node=8 --rdzv_id=job1 --rdzv_backend=c10d \\
             --rdzv_endpoint=host0:29500 train.py

On a CPU-only machine ``--nproc_per_node=2`` starts two CPU processes (backend ``gloo``;
``--nproc_per_node=gpu`` needs CUDA).
``train.py`` can be as short as::

    from cnncourse.training import distributed, fit
    device = distributed.setup()              # joins the group; cuda:LOCAL_RANK or cpu
    model = lenet("torch").to(device)
    fit(model, train, val, epochs=5, optimizer=torch.optim.SGD(model.parameters(), lr=0.05))
    distributed.cleanup()

or use the course's command line, which does just that: ``torchrun --standalone
--nproc_per_node=2 -m cnncourse.training --epochs 2``.

``batch_size`` in ``fit`` is the **global** batch: with 4 processes and ``batch_size=256``
each process computes 64 examples per step, and the run makes the same updates as one process
with a batch of 256.
"""
from __future__ import annotations

import os

import torch
import torch.distributed as dist

from ..torch_ops.device import default_device

__all__ = ["setup", "cleanup", "is_distributed", "rank_and_world_size", "wrap", "all_reduce_sum"]


def is_distributed() -> bool:
    """True inside a running process group (after :func:`setup` under ``torchrun``)."""
    return dist.is_available() and dist.is_initialized()


def rank_and_world_size() -> tuple[int, int]:
    """``(rank, world_size)`` of this process; ``(0, 1)`` when not distributed."""
    return (dist.get_rank(), dist.get_world_size()) if is_distributed() else (0, 1)


def setup(backend: str | None = None) -> torch.device:
    """Join the process group ``torchrun`` prepared, and return this process's device.

    Without ``torchrun`` (no ``RANK`` in the environment) nothing is started and the result is
    :func:`~cnncourse.torch_ops.default_device`.

    Args:
        backend: ``"nccl"`` (GPUs) or ``"gloo"`` (CPUs). Default: nccl when CUDA is available, else gloo.

    Returns:
        ``cuda:LOCAL_RANK`` on a GPU machine (one GPU per process), else ``cpu``.
    """
    if "RANK" not in os.environ:
        return default_device()
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
        device, backend = torch.device("cuda", local_rank), backend or "nccl"
    else:
        device, backend = torch.device("cpu"), backend or "gloo"
    if not is_distributed():
        dist.init_process_group(backend)
    return device


def cleanup() -> None:
    """Leave the process group (call once, at the end of the script)."""
    if is_distributed():
        dist.destroy_process_group()


def wrap(model: torch.nn.Module, device: torch.device):
    """``DistributedDataParallel(model)``: broadcasts process 0's weights, then averages gradients."""
    from torch.nn.parallel import DistributedDataParallel

    if isinstance(model, DistributedDataParallel):
        return model
    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def all_reduce_sum(values, device) -> list[float]:
    """Sum a few numbers over all processes (every process gets the totals)."""
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()
