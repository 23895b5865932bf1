"""Plots of a training run and of a classifier's mistakes (lessons 5 and 6).

- :func:`plot_learning_curves`: loss and accuracy per epoch, training against validation, with
  the 95% interval of the validation accuracy (the test set is finite);
- :func:`plot_confusion_matrix`: which classes are taken for which;
- :func:`show_confident_mistakes`: the wrong predictions the model was surest of, with their
  probabilities -- often mislabelled or genuinely ambiguous images.

Each takes an optional ``ax``/``axes``, returns what it drew on, and never calls ``plt.show()``.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from .images import show_images

__all__ = ["plot_learning_curves", "plot_confusion_matrix", "show_confident_mistakes"]


def _numpy(a) -> np.ndarray:
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


def plot_learning_curves(history, axes=None, steps: bool = True):
    """Loss (left) and accuracy (right) over the epochs, training against validation.

    The training loss of every step is drawn faintly behind its per-epoch mean (a step of epoch
    ``e`` sits between ``e - 1`` and ``e``); the validation accuracy carries a band for its 95%
    Wilson interval. A validation loss that rises while the training loss falls is overfitting.

    Args:
        history: a :class:`~cnncourse.training.History` returned by ``fit``.
        axes: two axes (loss, accuracy); made when None (default).
        steps: draw the per-step training loss. Default: True.

    Returns:
        The two axes ``[loss_ax, accuracy_ax]``.

    Example:
        >>> from cnncourse.training import History
        >>> h = History()
        >>> for e in (1, 2):
        ...     h.add_epoch(epoch=e, train_loss=1 / e, val_loss=1.2 / e, train_acc=0.8 + e / 20,
        ...                 val_acc=0.8, val_error_low=0.15, val_error_high=0.25)
        >>> loss_ax, acc_ax = plot_learning_curves(h)
        >>> loss_ax.get_ylabel(), acc_ax.get_ylabel()
        ('loss', 'accuracy (%)')
    """
    if not len(history):
        raise ValueError("history has no finished epoch to plot")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9.0, 3.4), layout="constrained")
    loss_ax, acc_ax = list(np.ravel(axes))[:2]
    epoch = history["epoch"]
    if steps and history.steps:
        step_epoch = history.step_values("epoch")
        x = np.empty(len(step_epoch))
        for e in np.unique(step_epoch):  # spread each epoch's steps over (e - 1, e]
            at = np.flatnonzero(step_epoch == e)
            x[at] = e - 1 + np.arange(1, len(at) + 1) / len(at)
        loss_ax.plot(x, history.step_values("loss"), color="C0", alpha=0.25, lw=0.8,
                     label="train (each step)")
    loss_ax.plot(epoch, history["train_loss"], "o-", color="C0", label="train")
    has_val = "val_loss" in history.epochs[-1] and not np.all(np.isnan(history["val_loss"]))
    if has_val:
        loss_ax.plot(epoch, history["val_loss"], "s-", color="C1", label="validation")
    loss_ax.set(xlabel="epoch", ylabel="loss", title="loss")
    acc_ax.plot(epoch, 100 * history["train_acc"], "o-", color="C0", label="train")
    if has_val:
        acc_ax.plot(epoch, 100 * history["val_acc"], "s-", color="C1", label="validation")
        if "val_error_low" in history.epochs[-1]:
            low, high = 100 * (1 - history["val_error_high"]), 100 * (1 - history["val_error_low"])
            if len(epoch) == 1:  # a band over one epoch has no width: an error bar instead
                acc_ax.errorbar(epoch, 100 * history["val_acc"], capsize=4, color="C1",
                                alpha=0.5, yerr=[100 * history["val_acc"] - low,
                                                 high - 100 * history["val_acc"]],
                                fmt="none", label="validation, 95% interval")
            else:
                acc_ax.fill_between(epoch, low, high, color="C1", alpha=0.2,
                                    label="validation, 95% interval")
    acc_ax.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in (loss_ax, acc_ax):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(epoch) == 1:  # one point: an axis from 0 to 2, not 0.945 to 1.05
            ax.set_xlim(0, 2)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return [loss_ax, acc_ax]


def plot_confusion_matrix(cm, class_names=None, ax=None, normalize: bool = False,
                          cmap: str = "viridis"):
    """Draw a confusion matrix (rows: true class, columns: predicted class), each cell labelled.

    Args:
        cm: ``(K, K)`` counts, e.g. from :func:`cnncourse.metrics.confusion_matrix`.
        class_names: ``K`` tick labels. Default: ``0 .. K-1``.
        ax: axis to draw on; made when None (default).
        normalize: show each row as fractions of that class (the per-class recall on the
            diagonal) instead of counts. Default: False.
        cmap: colour map (reads in grayscale). Default: ``"viridis"``.

    Returns:
        The axis.

    Example:
        >>> ax = plot_confusion_matrix(np.array([[5, 1], [0, 4]]), class_names=["cat", "dog"])
        >>> ax.get_xlabel(), ax.get_ylabel()
        ('predicted class', 'true class')
    """
    cm = _numpy(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square (K, K) matrix; got cm.shape={cm.shape}")
    K = cm.shape[0]
    names = [str(k) for k in range(K)] if class_names is None else [str(c) for c in class_names]
    if len(names) != K:
        raise ValueError(f"class_names must have K={K} entries; got {len(names)}")
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    if ax is None:
        side = min(2.5 + 0.45 * K, 8.0)
        _, ax = plt.subplots(figsize=(side + 0.8, side), layout="constrained")
    image = ax.imshow(shown, cmap=cmap, vmin=0, vmax=1 if normalize else max(int(cm.max()), 1))
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    cutoff = (1 if normalize else max(int(cm.max()), 1)) / 2
    for i in range(K):
        for j in range(K):
            text = f"{shown[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
            # dark cells (low values in viridis/cividis) get white text
            ax.text(j, i, text, ha="center", va="center", fontsize="small" if K <= 12 else 6,
                    color="white" if shown[i, j] < cutoff else "black")
    ax.set_xticks(range(K), names)
    ax.set_yticks(range(K), names)
    ax.set(xlabel="predicted class", ylabel="true class",
           title="confusion matrix" + (" (row fractions)" if normalize else ""))
    return ax


def show_confident_mistakes(images, labels, probs, k: int = 12, class_names=None, axes=None,
                            ncols: int = 6):
    """The ``k`` wrong predictions with the highest probability, as a gallery.

    Each title reads ``said 9 (97%)`` / ``true 4 (2%)``: the predicted class with the probability
    the model gave it, then the true class with its probability.

    Args:
        images: ``(N, H, W)``, ``(N, 1, H, W)`` or ``(N, 3, H, W)`` array or tensor.
        labels: ``(N,)`` true classes.
        probs: ``(N, K)`` class probabilities, e.g. from :func:`cnncourse.training.predict`.
        k: how many mistakes to show at most. Default: 12.
        class_names: names for the titles. Default: the class numbers.
        axes: at least ``k`` axes; made when None (default), ``ncols`` per row.
        ncols: images per row when axes are made. Default: 6.

    Returns:
        The list of axes used, one per mistake shown, most confident first (one axis with a note
        when there is no mistake).

    Example:
        >>> probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.2, 0.8]])
        >>> axes = show_confident_mistakes(np.zeros((3, 4, 4)), [0, 0, 1], probs)
        >>> [ax.get_title() for ax in axes]
        ['said 1 (70%)\\ntrue 0 (30%)']
    """
    images, labels, probs = _numpy(images), _numpy(labels), _numpy(probs)
    if probs.ndim != 2 or len(probs) != len(labels) or len(images) != len(labels):
        raise ValueError(f"images, labels and probs must have one entry per example, probs as (N, K); "
                         f"got {len(images)} images, labels.shape={labels.shape}, probs.shape={probs.shape}")
    if images.ndim == 4:  # (N, C, H, W) -> (N, H, W) or (N, H, W, 3) for show_image
        images = images[:, 0] if images.shape[1] == 1 else images.transpose(0, 2, 3, 1)
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != labels)
    order = wrong[np.argsort(-probs[wrong, pred[wrong]], kind="stable")][:k]
    name = (lambda c: str(c)) if class_names is None else (lambda c: str(class_names[c]))
    if len(order) == 0:
        if axes is None:
            _, ax = plt.subplots(figsize=(3.0, 1.0))
        else:
            ax = list(np.ravel(axes))[0]
        ax.text(0.5, 0.5, f"no wrong predictions among {len(labels)}", ha="center", va="center")
        ax.set_axis_off()
        return [ax]
    titles = [f"said {name(pred[i])} ({100 * probs[i, pred[i]]:.0f}%)\n"
              f"true {name(labels[i])} ({100 * probs[i, labels[i]]:.0f}%)" for i in order]
    if axes is None:  # two-line titles need more height than show_images gives
        ncols = min(ncols, len(order))
        nrows = -(-len(order) // ncols)
        side = min(1.8, 10.0 / ncols)
        _, axes = plt.subplots(nrows, ncols, figsize=(side * ncols, (side + 0.6) * nrows),
                               squeeze=False, layout="constrained")
    return show_images([images[i] for i in order], titles=titles, axes=axes)
