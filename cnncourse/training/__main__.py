"""Train a reference model on the bundled MNIST from the command line, on one process or many.

Usage::

    python -m cnncourse.training --model lenet --epochs 5
    torchrun --standalone --nproc_per_node=2 -m cnncourse.training --epochs 2      # 2 processes
    torchrun --standalone --nproc_per_node=gpu -m cnncourse.training --epochs 2    # every GPU

``--save model_{rank}.pt`` writes the final ``state_dict`` (``{rank}`` becomes each process's
rank); see :mod:`cnncourse.training.distributed` for launching on several machines.
"""
from __future__ import annotations

import argparse

import torch

from .. import models
from ..data import load_mnist
from . import distributed
from .augment import Augment
from .fit import fit

MODELS = {"lenet": models.lenet, "small_cnn": models.small_cnn, "mlp": models.mlp}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m cnncourse.training", description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=sorted(MODELS), default="lenet")
    p.add_argument("--backend", choices=models.BACKENDS, default="torch",
                   help="numpy runs on one CPU process only")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64, help="global batch (all processes)")
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--shift", type=int, default=0, help="random shifts of up to this many pixels")
    p.add_argument("--limit", type=int, default=None, help="use only the first N train/test digits")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint", default=None, help="save after each epoch; resumes if it exists")
    p.add_argument("--save", default=None, help="write the final state_dict here ({rank} allowed)")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def main(argv=None):
    """Run the command line; returns the History."""
    args = parse_args(argv)
    device = distributed.setup() if args.backend == "torch" else torch.device("cpu")
    rank, _ = distributed.rank_and_world_size()
    torch.manual_seed(args.seed)
    model = MODELS[args.model](args.backend)
    if args.backend == "torch":
        model = model.to(device)
        optimizers = {"sgd": lambda p: torch.optim.SGD(p, lr=args.lr, momentum=0.9),
                      "adam": lambda p: torch.optim.Adam(p, lr=args.lr)}
    else:
        from .. import optim

        optimizers = {"sgd": lambda p: optim.SGD(p, lr=args.lr, momentum=0.9),
                      "adam": lambda p: optim.Adam(p, lr=args.lr)}
    optimizer = optimizers[args.optimizer](model.parameters())
    as_torch = args.backend == "torch"
    train, test = (load_mnist(split, as_torch=True) for split in ("train", "test"))
    if args.limit is not None:
        train, test = ((x[:args.limit], y[:args.limit]) for x, y in (train, test))
    if not as_torch:
        train, test = ((x.numpy(), y.numpy()) for x, y in (train, test))
    history = fit(model, train, test, args.epochs, optimizer, batch_size=args.batch_size,
                  augment=Augment(shift=args.shift) if args.shift else None, seed=args.seed,
                  checkpoint=args.checkpoint, resume=args.checkpoint is not None, quiet=args.quiet)
    if args.save:
        state = {k: torch.as_tensor(v) for k, v in model.state_dict().items()}
        torch.save(state, args.save.format(rank=rank))
    distributed.cleanup()
    return history


if __name__ == "__main__":
    main()
