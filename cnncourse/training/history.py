"""What :func:`~cnncourse.training.fit` returns: the numbers of a run, per epoch and per step."""
from __future__ import annotations

import numpy as np

__all__ = ["History", "EPOCH_KEYS", "STEP_KEYS"]

EPOCH_KEYS = {
    "epoch": "1, 2, ...",
    "train_loss": "mean training loss over the epoch's batches (weighted by batch size)",
    "train_acc": "accuracy on the training batches, as seen during the epoch (train mode, augmented)",
    "val_loss": "loss on the validation data after the epoch (eval mode); nan without val",
    "val_acc": "accuracy on the validation data after the epoch",
    "val_error": "1 - val_acc",
    "val_error_low": "lower end of the 95% Wilson interval of val_error",
    "val_error_high": "upper end of that interval",
    "lr": "learning rate at the end of the epoch (of the first parameter group)",
    "time": "seconds spent training in this epoch (evaluation not included)",
    "elapsed": "seconds spent training since the start of the run",
    "cpu_time": "CPU seconds of this process (all threads) spent training since the start",
    "eval_time": "seconds spent evaluating after this epoch",
}
STEP_KEYS = {
    "step": "1, 2, ... over the whole run",
    "epoch": "epoch of the step",
    "loss": "training loss of the batch",
    "acc": "accuracy on the batch",
    "lr": "learning rate used for the step",
}


class History:
    """Per-epoch and per-step records of one training run.

    ``history.epochs`` and ``history.steps`` are lists of dicts (one per epoch, one per step; see
    ``EPOCH_KEYS`` and ``STEP_KEYS``), ready for ``pandas.DataFrame(history.epochs)``.
    ``history["val_acc"]`` is one column over the epochs as an array, ``history.step_values("loss")``
    one column over the steps.

    Example:
        >>> h = History()
        >>> h.add_epoch(epoch=1, train_loss=0.5, val_acc=0.9)
        >>> h["val_acc"]
        array([0.9])
    """

    def __init__(self):
        self.epochs: list[dict] = []
        self.steps: list[dict] = []
        self.stop_reason: str = ""  # "", "early stopping: ...", "interrupted", ...

    def add_epoch(self, **values) -> None:
        self.epochs.append({k: (float(v) if isinstance(v, (float, np.floating)) else v)
                            for k, v in values.items()})

    def add_step(self, **values) -> None:
        self.steps.append(values)

    def __getitem__(self, key: str) -> np.ndarray:
        if self.epochs and key not in self.epochs[-1]:
            raise KeyError(f"history has no per-epoch {key!r}; it has {sorted(self.epochs[-1])}")
        return np.array([e.get(key, np.nan) for e in self.epochs])

    def step_values(self, key: str) -> np.ndarray:
        """One per-step column as an array, e.g. ``history.step_values("loss")``."""
        if self.steps and key not in self.steps[-1]:
            raise KeyError(f"history has no per-step {key!r}; it has {sorted(self.steps[-1])}")
        return np.array([s[key] for s in self.steps])

    def __len__(self) -> int:
        return len(self.epochs)

    def best(self, monitor: str = "val_loss") -> dict:
        """The epoch's record with the best ``monitor`` (highest for accuracies, else lowest)."""
        values = self[monitor]
        if len(values) == 0:
            raise ValueError("history is empty: no epoch has finished yet")
        index = int(np.nanargmax(values) if _higher_is_better(monitor) else np.nanargmin(values))
        return self.epochs[index]

    def to_dict(self) -> dict:
        return {"epochs": self.epochs, "steps": self.steps, "stop_reason": self.stop_reason}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        h = cls()
        h.epochs, h.steps, h.stop_reason = list(d["epochs"]), list(d["steps"]), d["stop_reason"]
        return h

    def __repr__(self) -> str:
        if not self.epochs:
            return "History(no epochs)"
        last = self.epochs[-1]
        parts = [f"{len(self.epochs)} epochs", f"{len(self.steps)} steps"]
        parts += [f"{k}={last[k]:.4g}" for k in ("train_loss", "val_loss", "val_acc")
                  if k in last and last[k] == last[k]]
        return "History(" + ", ".join(parts) + (f", stopped: {self.stop_reason}" if self.stop_reason else "") + ")"


def _higher_is_better(monitor: str) -> bool:
    return monitor.endswith("acc")
