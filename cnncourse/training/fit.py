"""``fit``: the training loop every lesson uses, for NumPy models and ``torch.nn.Module``s alike.

One epoch is one pass over the training data in shuffled batches. For each batch::

    logits = model(x)                  # forward
    loss = loss_fn(logits, y)          # how wrong, on average
    backward                           # gradients: model.backward(...) or loss.backward()
    optimizer.step()                   # update the weights

then, after the epoch, the model is evaluated on the validation data. The two backends differ
only in the backward line and in where the numbers live (see :mod:`cnncourse.training.steps`).
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch

from ..metrics import wilson_interval
from . import distributed
from .batches import as_data
from .checkpoint import load_checkpoint, save_checkpoint
from .evaluate import evaluate_sums
from .history import EPOCH_KEYS, History, _higher_is_better
from .steps import check_optimizer, copy_state, is_torch_model, make_engine

__all__ = ["fit", "TrainingDiverged"]


class TrainingDiverged(FloatingPointError):
    """The loss became nan or infinite. ``error.history`` holds the run up to that step."""


def fit(model, train, val=None, epochs: int = 1, optimizer=None, *, loss_fn=None,
        batch_size: int = 64, scheduler=None, scheduler_interval: str = "step", augment=None,
        seed: int = 0, device=None, patience: int | None = None, monitor: str = "val_loss",
        restore_best: bool = True, checkpoint=None, resume: bool = False,
        eval_batch_size: int = 500, progress: bool = True, quiet: bool = False) -> History:
    """Train ``model`` for ``epochs`` passes over ``train``, evaluating on ``val`` after each.

    Args:
        model: a NumPy model (``cnncourse.nn``) or a ``torch.nn.Module``; trained in place, on
            the device its parameters are on (move it first: ``model.to(default_device())``).
        train: ``(x, y)`` arrays or tensors, a torch ``Dataset`` or a ``DataLoader`` (see
            :mod:`cnncourse.training.batches`); ``x`` float ``(N, C, H, W)``, ``y`` int ``(N,)``.
        val: validation data of the same kinds, or None (no validation).
        epochs: number of passes over ``train``.
        optimizer: built on ``model.parameters()``, e.g. ``SGD(model.parameters(), lr=0.05)``.
        loss_fn: default ``CrossEntropyLoss()`` of the model's library.
        batch_size: examples per step (for arrays and Datasets; a DataLoader keeps its own).
            Under ``torch.distributed`` the global batch, split between the processes.
        scheduler: a learning-rate scheduler on ``optimizer``, stepped after every optimizer
            step (``scheduler_interval="step"``, as OneCycleLR expects) or every epoch ("epoch").
        augment: ``augment(x, rng) -> x`` applied to each training batch, e.g. ``Augment(shift=2)``;
            ``rng`` is a NumPy generator seeded by ``seed``, the epoch and the batch (and, under
            ``torch.distributed``, the rank: each process draws for its own share of the batch).
        seed: seeds the shuffling, the augmentation and the model's random numbers (dropout:
            ``torch.manual_seed``, or ``cnncourse.nn.manual_seed``): the same seed gives the same
            run on the CPU. Default: 0.
        device: move a torch model there first. Default: None (where it is).
        patience: early stopping: stop after this many epochs without an improvement of
            ``monitor`` (e.g. ``"val_loss"``, ``"val_acc"``); None (default) never stops early.
        restore_best: after early stopping, put back the weights of the best epoch. Default: True.
        checkpoint: a file path: the run is saved there after every epoch and when interrupted
            (Ctrl-C / the stop button), atomically. Default: None.
        resume: with ``checkpoint``, continue the run saved there if the file exists (at the batch
            where it stopped, with the same shuffles, so the result equals an uninterrupted run;
            a larger ``epochs`` trains on). Without it, the file is overwritten after epoch 1.
        eval_batch_size: batch size for evaluating arrays. Default: 500.
        progress: show a progress bar (tqdm, notebook-aware). Default: True.
        quiet: print nothing at all (no bar, no per-epoch lines). Default: False.

    Returns:
        A :class:`~cnncourse.training.History` (``history.epochs``, ``history.steps``).

    Raises:
        TrainingDiverged: the loss became nan or infinite (names the step and learning rate).
        ValueError, TypeError: bad data, labels, devices or arguments (each names the problem).

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> x, y = torch.randn(32, 1, 2, 2), torch.randint(0, 2, (32,))
        >>> h = fit(net, (x, y), (x, y), epochs=2, quiet=True,
        ...         optimizer=torch.optim.SGD(net.parameters(), lr=0.1))
        >>> len(h.epochs), len(h.steps)
        (2, 2)
    """
    _check_arguments(model, val, epochs, optimizer, batch_size, scheduler_interval, monitor, patience,
                     checkpoint, resume)
    if device is not None:
        model = _move_to(model, device)
    engine = make_engine(model, loss_fn, optimizer)
    rank, world = distributed.rank_and_world_size()
    show = rank == 0 and not quiet
    run = _Run(seed=seed, batch_size=batch_size)
    if resume and Path(checkpoint).exists():
        run = _resume(run, checkpoint, model, optimizer, scheduler, say=show)
    else:
        if resume and show:
            print(f"no checkpoint at {checkpoint} yet: starting a new run")
        _seed_everything(model, seed)
    if world > 1:
        engine.model = distributed.wrap(model, engine.device)
    train_data = as_data(train, "train", engine, batch_size, run.seed, distributed=world > 1)
    val_data = None if val is None else as_data(val, "val", engine, eval_batch_size, run.seed, world > 1)
    steps_per_epoch = train_data.num_batches(world)
    bar = _progress_bar(epochs * steps_per_epoch, run.step, progress and show)
    try:
        for epoch in range(run.epoch, epochs):
            model.train()
            bar.set_description(f"epoch {epoch + 1}/{epochs}")
            run.start_clock()
            for x, y, weight in train_data.batches(epoch, True, run.batch, rank, world):
                if augment is not None:  # under DDP each process draws its own (seeded by rank)
                    x = augment(x, np.random.default_rng([run.seed, epoch, run.batch, 1, rank]))
                loss, correct = engine.forward_backward(x, y, "train", weight)
                n = len(y)
                if world > 1:  # the whole global batch's numbers, on every process
                    loss_n, correct, n = distributed.all_reduce_sum([loss * n, correct, n], engine.device)
                    loss = loss_n / n
                lr = optimizer.param_groups[0]["lr"]
                if not math.isfinite(loss):
                    raise _diverged(run, loss, lr, epoch, steps_per_epoch, x)
                run.updating = True  # until record_step: a checkpoint now would be torn
                engine.update()
                if scheduler is not None and scheduler_interval == "step":
                    scheduler.step()
                run.record_step(epoch, loss, correct, n, lr)
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            record = run.epoch_record(epoch, optimizer.param_groups[0]["lr"])
            record.update(_validate(engine, val_data, model, rank, world))
            run.updating = True
            if scheduler is not None and scheduler_interval == "epoch":
                scheduler.step()
            run.finish_epoch(record)
            if show:
                bar.write(_epoch_line(record, epochs))
            stop = patience is not None and run.early_stopping(record, monitor, patience,
                                                                model, restore_best)
            if checkpoint is not None and rank == 0:
                _save(checkpoint, model, optimizer, scheduler, run)
            run.updating = False
            if stop:
                if show:
                    bar.write(run.history.stop_reason)
                break
    except KeyboardInterrupt:
        if checkpoint is not None and rank == 0 and not run.updating:
            _save(checkpoint, model, optimizer, scheduler, run)
            if show:
                bar.write(f"interrupted at step {run.step}: saved to {checkpoint}; run fit again "
                          f"with resume=True to continue from there")
        raise
    finally:
        bar.close()
    return run.history


class _Run:
    """Where a run stands: epoch, batch within it, the epoch's running sums, early stopping."""

    def __init__(self, seed: int, batch_size: int):
        self.seed, self.batch_size = seed, batch_size
        self.epoch = self.batch = self.step = 0
        self.time = self.cpu_time = 0.0  # training seconds since the start of the run
        self.sums = [0.0, 0, 0]  # loss * n, correct, n over the epoch so far
        self.best, self.best_epoch, self.bad_epochs, self.best_state = None, None, 0, None
        self.history = History()
        self.updating = False

    def start_clock(self) -> None:
        self._clock = (time.perf_counter(), time.process_time())

    def record_step(self, epoch, loss, correct, n, lr) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.time, self.cpu_time = self.time + wall - self._clock[0], self.cpu_time + cpu - self._clock[1]
        self._clock = (wall, cpu)
        self.step, self.batch = self.step + 1, self.batch + 1
        self.sums = [self.sums[0] + loss * n, self.sums[1] + correct, self.sums[2] + n]
        self.history.add_step(step=self.step, epoch=epoch + 1, loss=float(loss),
                              acc=correct / n, lr=float(lr))
        self.updating = False

    def epoch_record(self, epoch, lr) -> dict:
        loss_n, correct, n = self.sums
        previous = self.history.epochs[-1]["elapsed"] if self.history.epochs else 0.0
        return dict(epoch=epoch + 1, train_loss=loss_n / n, train_acc=correct / n, lr=float(lr),
                    time=self.time - previous, elapsed=self.time, cpu_time=self.cpu_time)

    def finish_epoch(self, record) -> None:
        self.history.add_epoch(**record)
        self.epoch, self.batch, self.sums = record["epoch"], 0, [0.0, 0, 0]

    def early_stopping(self, record, monitor, patience, model, restore_best) -> bool:
        """Track the best ``monitor``; True when it has not improved for ``patience`` epochs."""
        value, sign = record[monitor], 1 if _higher_is_better(monitor) else -1
        if self.best is None or sign * (value - self.best) > 0:
            self.best, self.best_epoch, self.bad_epochs = value, record["epoch"], 0
            self.best_state = copy_state(model) if restore_best else None
            return False
        self.bad_epochs += 1
        if self.bad_epochs < patience:
            return False
        self.history.stop_reason = (f"early stopping after epoch {record['epoch']}: {monitor} has "
                                    f"not improved for {patience} epochs (best {self.best:.4g} at "
                                    f"epoch {self.best_epoch})")
        if restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)
            self.history.stop_reason += "; restored the weights of that epoch"
        return True

    def state(self) -> dict:
        keys = ("seed", "batch_size", "epoch", "batch", "step", "time", "cpu_time", "sums", "best",
                "best_epoch", "bad_epochs", "best_state")
        return {**{k: getattr(self, k) for k in keys}, "history": self.history.to_dict()}


def _seed_everything(model, seed) -> None:
    """Seed the random numbers a model draws while training (dropout masks)."""
    torch.manual_seed(seed)
    if not is_torch_model(model):
        from ..nn import manual_seed

        manual_seed(seed)


def _save(path, model, optimizer, scheduler, run) -> None:
    rng = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    if not is_torch_model(model):  # cnncourse.nn draws from one NumPy generator
        from ..nn.init import generator

        rng["numpy_nn"] = generator().bit_generator.state
    save_checkpoint(path, model, optimizer, scheduler, run=run.state(), rng=rng)


def _resume(run, path, model, optimizer, scheduler, say) -> _Run:
    extra = load_checkpoint(path, model, optimizer, scheduler)
    saved = extra["run"]
    if saved["batch"] and saved["batch_size"] != run.batch_size:
        raise ValueError(f"{path} stopped in the middle of an epoch with batch_size="
                         f"{saved['batch_size']}; resume it with that batch size, not {run.batch_size}")
    for key, value in saved.items():
        if key != "history":
            setattr(run, key, value)
    if run.best_state is not None and not is_torch_model(model):
        run.best_state = {k: v.numpy() for k, v in run.best_state.items()}
    run.history = History.from_dict(saved["history"])
    torch.set_rng_state(extra["rng"]["torch"].cpu())
    if "cuda" in extra["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in extra["rng"]["cuda"]])
    if "numpy_nn" in extra["rng"]:
        from ..nn.init import generator

        generator().bit_generator.state = extra["rng"]["numpy_nn"]
    if say:
        print(f"resumed from {path}: {run.epoch} epochs and {run.batch} batches done (step {run.step})")
    return run


def _validate(engine, data, model, rank, world) -> dict:
    """Loss, accuracy and error rate (with its 95% interval) on ``data`` (all processes' shares)."""
    if data is None:
        return dict(val_loss=math.nan, val_acc=math.nan, val_error=math.nan,
                    val_error_low=math.nan, val_error_high=math.nan, eval_time=0.0)
    start = time.perf_counter()
    loss_n, correct, n = evaluate_sums(engine, data, model, rank, world)
    if n == 0:
        raise ValueError("val holds no examples")
    low, high = wilson_interval(int(n - correct), int(n))
    return dict(val_loss=loss_n / n, val_acc=correct / n, val_error=1 - correct / n,
                val_error_low=low, val_error_high=high, eval_time=time.perf_counter() - start)


def _progress_bar(total, initial, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, disable=not enabled, unit="step", dynamic_ncols=True)


def _epoch_line(r: dict, epochs: int) -> str:
    line = (f"epoch {r['epoch']:>{len(str(epochs))}}/{epochs}  train loss {r['train_loss']:.4f} "
            f"acc {100 * r['train_acc']:.2f}%")
    if "val_loss" in r:
        line += f"  val loss {r['val_loss']:.4f} acc {100 * r['val_acc']:.2f}%"
    return line + f"  lr {r['lr']:.3g}  {r['time']:.1f} s"


def _diverged(run, loss, lr, epoch, steps_per_epoch, x) -> TrainingDiverged:
    where = f"step {run.step + 1} (epoch {epoch + 1}, batch {run.batch + 1} of {steps_per_epoch})"
    finite = bool(torch.isfinite(x).all()) if isinstance(x, torch.Tensor) else bool(np.isfinite(x).all())
    advice = ("The batch itself holds nan or inf inputs: clean the data (np.isfinite(x).all())."
              if not finite else
              f"The steps were too large: lower the learning rate (try {lr / 10:g}), check that "
              f"the inputs are scaled (e.g. to [0, 1]), and rebuild the model or load a checkpoint "
              f"before training again: its weights are no longer usable.")
    error = TrainingDiverged(f"the training loss is {loss} at {where} with learning rate {lr:g}; "
                             f"training stopped there instead of going on with garbage. {advice}")
    run.history.stop_reason = f"diverged at step {run.step + 1}"
    error.history = run.history
    return error


def _move_to(model, device):
    if is_torch_model(model):
        return model.to(device)
    if torch.device(device).type != "cpu":
        raise ValueError(f"a NumPy model runs on the CPU only; got device={device!r}. Use a "
                         f"torch.nn model for {device}, or leave device=None")
    return model


def _check_arguments(model, val, epochs, optimizer, batch_size, interval, monitor, patience,
                     checkpoint, resume) -> None:
    if not (hasattr(model, "parameters") and callable(model)):
        raise TypeError(f"model must be a NumPy model (cnncourse.nn) or a torch.nn.Module; got "
                        f"{type(model).__name__}")
    if optimizer is None:
        raise TypeError("fit needs an optimizer built on the model's parameters, e.g. "
                        "optimizer=SGD(model.parameters(), lr=0.05)")
    check_optimizer(model, optimizer)
    for name, value, low in (("epochs", epochs, 0), ("batch_size", batch_size, 1)):
        if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= low):
            raise ValueError(f"{name} must be an int >= {low}; got {name}={value!r}")
    if interval not in ("step", "epoch"):
        raise ValueError(f"scheduler_interval must be 'step' or 'epoch'; got {interval!r}")
    if monitor not in EPOCH_KEYS or monitor in ("epoch", "lr", "time", "elapsed", "cpu_time"):
        raise ValueError(f"monitor must be a loss, accuracy or error of the history, e.g. "
                         f"'val_loss' or 'val_acc'; got monitor={monitor!r}")
    if patience is not None and monitor.startswith("val") and val is None:
        raise ValueError(f"early stopping on {monitor!r} needs validation data: pass val=(x, y), "
                         f"or monitor='train_loss'")
    if patience is not None and not (isinstance(patience, int) and patience >= 1):
        raise ValueError(f"patience must be an int >= 1 (epochs) or None; got patience={patience!r}")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=<path of the file to resume from>")
