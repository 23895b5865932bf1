"""Training: the ``fit`` loop, its History, checkpoints, augmentation and distributed training.

One loop serves NumPy models (``cnncourse.nn``) and ``torch.nn.Module``s::

    from cnncourse.training import Augment, fit
    history = fit(model, (x_train, y_train), (x_test, y_test), epochs=10,
                  optimizer=optimizer, augment=Augment(shift=2))
    history["val_acc"]            # one value per epoch

===============================  ===================================================
:func:`fit`                      train, evaluating after each epoch (:mod:`.fit`)
:func:`evaluate`, :func:`predict`  loss and accuracy / class probabilities (:mod:`.evaluate`)
:class:`History`                 per-epoch and per-step numbers of a run (:mod:`.history`)
:func:`save_checkpoint`, ...     atomic checkpoints of model and optimizer (:mod:`.checkpoint`)
:class:`Augment`, ...            random shifts, flips, rotations (:mod:`.augment`)
:mod:`.distributed`              the same ``fit`` under ``torchrun`` (DDP)
:mod:`.steps`                    one training step in NumPy and in PyTorch, side by side
:func:`time_steps`               seconds per training step, measured (:mod:`.speed`)
===============================  ===================================================
"""
from . import distributed
from .augment import Augment, random_flip, random_rotation, random_shift
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .evaluate import evaluate, predict
from .fit import TrainingDiverged, fit
from .history import History
from .speed import time_steps

__all__ = [
    "fit", "evaluate", "predict", "History", "TrainingDiverged",
    "save_checkpoint", "load_checkpoint", "CheckpointError",
    "Augment", "random_shift", "random_flip", "random_rotation",
    "distributed",
    "time_steps",
]
