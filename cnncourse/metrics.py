"""How good is a classifier? Accuracy, error rate with its uncertainty, confusion matrix, per-class
precision and recall, top-k accuracy.

Every function takes NumPy arrays or torch tensors (on any device) and returns NumPy values.
``labels`` are the true class indices ``(N,)``; ``pred`` are predicted class indices ``(N,)`` or,
wherever it says *scores*, the model's ``(N, K)`` logits or probabilities (the prediction is then
their arg-max).

Where scikit-learn already does the job well it is used, and the docstring says so:
:func:`confusion_matrix` is ``sklearn.metrics.confusion_matrix``, :func:`precision_recall` is
``sklearn.metrics.precision_recall_fscore_support`` and :func:`top_k_accuracy` is
``sklearn.metrics.top_k_accuracy_score``, each with the class list made explicit so that a class
missing from a small test set still gets its row.

Why an interval for the error rate: a test set is a finite sample. 20 errors in 2,000 digits is a
1.0% error rate, but another 2,000 digits from the same source could easily give 0.7% or 1.4%:
two models 0.2 points apart on 2,000 images are usually not distinguishable.
"""
from __future__ import annotations

import math
from statistics import NormalDist
from typing import NamedTuple

import numpy as np

__all__ = [
    "accuracy",
    "error_rate",
    "ErrorRate",
    "wilson_interval",
    "clopper_pearson_interval",
    "confusion_matrix",
    "precision_recall",
    "top_k_accuracy",
]


def _numpy(a, name: str) -> np.ndarray:
    """A NumPy copy of an array or a tensor (on any device, detached from autograd)."""
    if hasattr(a, "detach"):  # a torch tensor
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def _labels_and_pred(labels, pred) -> tuple[np.ndarray, np.ndarray]:
    """Check ``labels`` (N,) against ``pred`` ((N,) classes or (N, K) scores); return both as (N,) ints."""
    labels, pred = _numpy(labels, "labels"), _numpy(pred, "pred")
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D class indices (N,); got labels.shape={labels.shape}")
    if pred.ndim == 2:
        pred = pred.argmax(axis=1)
    if pred.ndim != 1:
        raise ValueError("pred must be class indices (N,) or scores (N, K); "
                         f"got pred.shape={pred.shape}")
    if pred.shape[0] != labels.shape[0]:
        raise ValueError(f"pred and labels must have one entry per example: got {pred.shape[0]} "
                         f"predictions for {labels.shape[0]} labels")
    if labels.shape[0] == 0:
        raise ValueError("labels is empty (N=0): a metric needs at least one example")
    return labels, pred


def accuracy(pred, labels) -> float:
    """Fraction of examples classified correctly.

    Formula: ``accuracy = (1/N) * sum_i [pred_i == labels_i]``.

    Args:
        pred: predicted classes ``(N,)``, or scores ``(N, K)`` (logits or probabilities).
        labels: true classes ``(N,)``.

    Returns:
        A float in ``[0, 1]``.

    Example:
        >>> accuracy([0, 1, 1, 2], [0, 1, 2, 2])
        0.75
    """
    labels, pred = _labels_and_pred(labels, pred)
    return float(np.mean(pred == labels))


class ErrorRate(NamedTuple):
    """An error rate with its confidence interval: ``rate`` in ``[low, high]`` at ``confidence``."""

    rate: float
    low: float
    high: float
    errors: int
    n: int
    confidence: float

    def __str__(self) -> str:
        pct = round(100 * self.confidence)
        return (f"{100 * self.rate:.2f}% ({self.errors}/{self.n}), {pct}% CI "
                f"[{100 * self.low:.2f}%, {100 * self.high:.2f}%]")


def wilson_interval(errors: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``errors / n``.

    Formula: with ``p = errors / n`` and ``z`` the normal quantile (1.96 for 95%),
    ``(p + z^2/(2n) -+ z * sqrt(p(1-p)/n + z^2/(4n^2))) / (1 + z^2/n)``; it is the set of
    true rates ``q`` for which ``|p - q| <= z * sqrt(q(1-q)/n)``.

    Example:
        >>> [round(v, 4) for v in wilson_interval(20, 2000)]
        [0.0065, 0.0154]
    """
    _check_counts(errors, n, confidence)
    p, z = errors / n, NormalDist().inv_cdf(0.5 + confidence / 2)
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    low = 0.0 if errors == 0 else max(0.0, (centre - half) / denominator)  # exact ends, no rounding
    high = 1.0 if errors == n else min(1.0, (centre + half) / denominator)
    return low, high


def clopper_pearson_interval(errors: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval: the rates for which ``errors`` is not in either 2.5% tail.

    Formula: ``low = Beta(alpha/2; errors, n - errors + 1)``, ``high = Beta(1 - alpha/2;
    errors + 1, n - errors)`` (quantiles of the beta distribution), with ``alpha = 1 - confidence``.

    Example:
        >>> [round(v, 4) for v in clopper_pearson_interval(20, 2000)]
        [0.0061, 0.0154]
    """
    _check_counts(errors, n, confidence)
    from scipy.stats import beta

    alpha = 1 - confidence
    low = 0.0 if errors == 0 else float(beta.ppf(alpha / 2, errors, n - errors + 1))
    high = 1.0 if errors == n else float(beta.ppf(1 - alpha / 2, errors + 1, n - errors))
    return low, high


def _check_counts(errors, n, confidence) -> None:
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ValueError(f"n must be an int >= 1 (the number of test examples); got n={n!r}")
    if not (isinstance(errors, (int, np.integer)) and 0 <= errors <= n):
        raise ValueError(f"errors must be an int in [0, n={n}]; got errors={errors!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95; got confidence={confidence!r}")


def error_rate(pred, labels, confidence: float = 0.95, method: str = "wilson") -> ErrorRate:
    """Error rate ``1 - accuracy`` with a confidence interval, because a test set is finite.

    The default interval is Wilson's score interval: its coverage stays close to the promised 95%
    even for a handful of errors (Brown, Cai & DasGupta, 2001, recommend it), it never leaves
    ``[0, 1]`` and, unlike the textbook ``p +- 1.96 sqrt(p(1-p)/n)``, it does not shrink to zero
    width when there are no errors. ``method="clopper-pearson"`` gives the exact interval: it
    guarantees at least 95% coverage, so it is wider than it needs to be (its lower end for 20 of
    2,000 is 0.61% against Wilson's 0.65%).

    Args:
        pred: predicted classes ``(N,)`` or scores ``(N, K)``.
        labels: true classes ``(N,)``.
        confidence: the interval's confidence level. Default: 0.95.
        method: ``"wilson"`` (default) or ``"clopper-pearson"``.

    Returns:
        An :class:`ErrorRate` ``(rate, low, high, errors, n, confidence)``; ``str()`` of it reads
        ``1.00% (20/2000), 95% CI [0.65%, 1.54%]``.

    Example:
        >>> print(error_rate([0, 1, 1, 1], [0, 1, 1, 2]))
        25.00% (1/4), 95% CI [4.56%, 69.94%]
    """
    labels, pred = _labels_and_pred(labels, pred)
    errors, n = int(np.sum(pred != labels)), int(labels.shape[0])
    intervals = {"wilson": wilson_interval, "clopper-pearson": clopper_pearson_interval}
    if method not in intervals:
        raise ValueError(f"method must be 'wilson' or 'clopper-pearson'; got method={method!r}")
    low, high = intervals[method](errors, n, confidence)
    return ErrorRate(errors / n, low, high, errors, n, confidence)


def _num_classes(labels, pred, num_classes) -> int:
    if num_classes is None:
        return int(max(labels.max(), pred.max())) + 1
    largest = int(max(labels.max(), pred.max()))
    if largest >= num_classes or min(labels.min(), pred.min()) < 0:
        raise ValueError(f"labels and predictions must lie in 0..{num_classes - 1} "
                         f"(num_classes={num_classes}); got values from "
                         f"{int(min(labels.min(), pred.min()))} to {largest}")
    return int(num_classes)


def confusion_matrix(labels, pred, num_classes: int | None = None) -> np.ndarray:
    """Count matrix ``M[i, j]`` = examples of true class ``i`` predicted as class ``j``.

    This is ``sklearn.metrics.confusion_matrix`` with ``labels=range(num_classes)``, so every
    class has its row and column even when the test set lacks it. The diagonal holds the correct
    predictions; ``M.sum(axis=1)`` is the number of examples of each class.

    Args:
        labels: true classes ``(N,)``.
        pred: predicted classes ``(N,)`` or scores ``(N, K)``.
        num_classes: ``K``. Default: ``N_classes = max class seen + 1``, or ``K`` of the scores.

    Shape:
        Returns ``(K, K)`` ``int64``; rows are true classes, columns predictions.

    Example:
        >>> confusion_matrix([0, 1, 1], [0, 1, 0]).tolist()
        [[1, 0], [1, 1]]
    """
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    scores = _numpy(pred, "pred")
    labels, pred = _labels_and_pred(labels, pred)
    if num_classes is None and scores.ndim == 2:
        num_classes = scores.shape[1]
    K = _num_classes(labels, pred, num_classes)
    return sk_confusion_matrix(labels, pred, labels=np.arange(K)).astype(np.int64)


def precision_recall(labels, pred, num_classes: int | None = None) -> dict[str, np.ndarray]:
    """Per-class precision, recall, F1 and support.

    Formulas, for class ``k``: precision ``= TP / (TP + FP)`` (of the examples predicted ``k``,
    how many are ``k``), recall ``= TP / (TP + FN)`` (of the examples of class ``k``, how many were
    found), ``F1 = 2 P R / (P + R)``, support = examples of class ``k``. A class never predicted
    (or absent) has an undefined precision (or recall): it is ``nan``, not a misleading 0.
    Computed by ``sklearn.metrics.precision_recall_fscore_support(..., zero_division=nan)``.

    Returns:
        ``{"precision": (K,), "recall": (K,), "f1": (K,), "support": (K,)}``.

    Example:
        >>> pr = precision_recall([0, 0, 1, 1], [0, 1, 1, 1])
        >>> pr["precision"].tolist(), pr["recall"].tolist()
        ([1.0, 0.6666666666666666], [0.5, 1.0])
    """
    from sklearn.metrics import precision_recall_fscore_support

    scores = _numpy(pred, "pred")
    labels, pred = _labels_and_pred(labels, pred)
    if num_classes is None and scores.ndim == 2:
        num_classes = scores.shape[1]
    K = _num_classes(labels, pred, num_classes)
    p, r, f1, support = precision_recall_fscore_support(
        labels, pred, labels=np.arange(K), average=None, zero_division=np.nan)
    return {"precision": p, "recall": r, "f1": f1, "support": support.astype(np.int64)}


def top_k_accuracy(scores, labels, k: int = 5) -> float:
    """Fraction of examples whose true class is among the ``k`` highest scores.

    ``k = 1`` is the plain accuracy. Computed by ``sklearn.metrics.top_k_accuracy_score`` with
    ``labels=range(K)``.

    Args:
        scores: ``(N, K)`` logits or probabilities.
        labels: true classes ``(N,)``.
        k: how many guesses count, ``1 <= k <= K``. Default: 5.

    Example:
        >>> top_k_accuracy([[0.1, 0.5, 0.4], [0.8, 0.1, 0.1]], [2, 1], k=2)
        0.5
    """
    from sklearn.metrics import top_k_accuracy_score

    scores = _numpy(scores, "scores")
    if scores.ndim != 2:
        raise ValueError(f"scores must be (N, K) logits or probabilities; got scores.shape={scores.shape}")
    labels, _ = _labels_and_pred(labels, scores)
    K = scores.shape[1]
    if not (isinstance(k, (int, np.integer)) and 1 <= k <= K):
        raise ValueError(f"k must be an int in [1, K={K}] (the number of classes); got k={k!r}")
    _num_classes(labels, labels, K)
    if k == K:  # every class is among the guesses
        return 1.0
    if K == 2:  # sklearn reads two-column scores as a binary problem; top-1 of 2 is plain accuracy
        return float(np.mean(scores.argmax(axis=1) == labels))
    return float(top_k_accuracy_score(labels, scores, k=k, labels=np.arange(K)))
