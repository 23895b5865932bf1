"""Optimizers and learning-rate schedules for the NumPy models of :mod:`cnncourse.nn`.

They mirror ``torch.optim`` (names, arguments, defaults, ``param_groups``, ``state_dict``) and
take the same steps: ``SGD`` (momentum, Nesterov, weight decay), ``Adam`` and ``AdamW``; the
schedules ``StepLR``, ``CosineAnnealingLR`` and ``OneCycleLR`` live in
:mod:`cnncourse.optim.lr_scheduler`, as in torch, and are re-exported here. Each optimizer's
update rule is a few lines in its ``update`` method: read it with ``??``.
"""
from . import lr_scheduler
from .adam import Adam, AdamW
from .lr_scheduler import CosineAnnealingLR, LRScheduler, OneCycleLR, StepLR
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler", "LRScheduler", "StepLR",
           "CosineAnnealingLR", "OneCycleLR"]
