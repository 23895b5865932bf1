"""Tests for cnncourse.metrics against scikit-learn, scipy's binomial distribution and the defining
equations of the intervals."""
import math
from statistics import NormalDist

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binom
from sklearn import metrics as sk

from cnncourse import metrics

RNG = np.random.default_rng(0)


def random_predictions(n=300, k=5):
    labels = RNG.integers(0, k, n)
    scores = RNG.normal(size=(n, k))
    scores[np.arange(n), labels] += 1.0  # better than chance, with mistakes
    return labels, scores


def test_accuracy_matches_sklearn_for_classes_scores_and_tensors():
    labels, scores = random_predictions()
    pred = scores.argmax(1)
    expected = sk.accuracy_score(labels, pred)
    assert metrics.accuracy(pred, labels) == pytest.approx(expected)
    assert metrics.accuracy(scores, labels) == pytest.approx(expected)
    assert metrics.accuracy(torch.from_numpy(scores), torch.from_numpy(labels)) == pytest.approx(expected)


def test_error_rate_counts_and_formats():
    labels, scores = random_predictions()
    e = metrics.error_rate(scores, labels)
    assert e.errors == int(np.sum(scores.argmax(1) != labels)) and e.n == len(labels)
    assert e.rate == pytest.approx(1 - sk.accuracy_score(labels, scores.argmax(1)))
    assert e.low < e.rate < e.high
    assert f"({e.errors}/{e.n})" in str(e) and "95% CI" in str(e)


@given(st.integers(1, 5000), st.data(), st.sampled_from([0.8, 0.95, 0.99]))
def test_wilson_interval_solves_its_defining_equation(n, data, confidence):
    errors = data.draw(st.integers(0, n))
    low, high = metrics.wilson_interval(errors, n, confidence)
    p, z = errors / n, NormalDist().inv_cdf(0.5 + confidence / 2)
    assert 0 <= low <= p <= high <= 1
    # each end q is a root of |p - q| = z sqrt(q (1 - q) / n) (or the boundary 0 / 1)
    for q in (low, high):
        if 0 < q < 1:
            assert abs(p - q) == pytest.approx(z * math.sqrt(q * (1 - q) / n), rel=1e-6, abs=1e-12)


@given(st.integers(1, 3000), st.data())
def test_clopper_pearson_ends_leave_2_5_percent_in_each_binomial_tail(n, data):
    errors = data.draw(st.integers(0, n))
    low, high = metrics.clopper_pearson_interval(errors, n)
    if errors > 0:  # P(X >= errors | low) = 2.5%
        assert binom.sf(errors - 1, n, low) == pytest.approx(0.025, rel=1e-4)
    else:
        assert low == 0.0
    if errors < n:  # P(X <= errors | high) = 2.5%
        assert binom.cdf(errors, n, high) == pytest.approx(0.025, rel=1e-4)
    else:
        assert high == 1.0


def test_clopper_pearson_is_wider_than_wilson_at_the_low_end():
    w, cp = metrics.wilson_interval(20, 2000), metrics.clopper_pearson_interval(20, 2000)
    assert cp[0] < w[0]
    assert metrics.error_rate([0, 1], [0, 0], method="clopper-pearson").low == pytest.approx(
        metrics.clopper_pearson_interval(1, 2)[0])


def test_wilson_interval_is_not_degenerate_with_no_errors():
    low, high = metrics.wilson_interval(0, 2000)
    assert low == 0 and 0.001 < high < 0.003  # the textbook interval would be [0, 0]


def test_confusion_matrix_is_sklearns_and_keeps_absent_classes():
    labels, scores = random_predictions(k=6)
    cm = metrics.confusion_matrix(labels, scores)
    np.testing.assert_array_equal(cm, sk.confusion_matrix(labels, scores.argmax(1)))
    cm = metrics.confusion_matrix([0, 0, 1], [0, 1, 1], num_classes=4)
    assert cm.shape == (4, 4) and cm[3].sum() == 0 and cm.trace() == 2


def test_precision_recall_matches_sklearn_and_marks_undefined_as_nan():
    labels, scores = random_predictions(k=4)
    pred = scores.argmax(1)
    got = metrics.precision_recall(labels, pred)
    p, r, f1, s = sk.precision_recall_fscore_support(labels, pred, average=None)
    for key, expected in (("precision", p), ("recall", r), ("f1", f1), ("support", s)):
        np.testing.assert_allclose(got[key], expected)
    never_predicted = metrics.precision_recall([0, 1, 2], [0, 0, 1], num_classes=3)
    assert np.isnan(never_predicted["precision"][2]) and never_predicted["recall"][2] == 0


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_top_k_accuracy_matches_sklearn(k):
    labels, scores = random_predictions(k=5)
    assert metrics.top_k_accuracy(scores, labels, 5) == 1.0
    assert metrics.top_k_accuracy(scores, labels, k) == pytest.approx(
        sk.top_k_accuracy_score(labels, scores, k=k, labels=np.arange(5)))
    if k == 1:
        assert metrics.top_k_accuracy(scores, labels, 1) == pytest.approx(metrics.accuracy(scores, labels))


def test_top_k_with_two_classes():
    scores = np.array([[0.2, 0.8], [0.9, 0.1], [0.4, 0.6]])
    assert metrics.top_k_accuracy(scores, [1, 1, 0], k=1) == pytest.approx(1 / 3)
    assert metrics.top_k_accuracy(scores, [1, 1, 0], k=2) == 1.0


@pytest.mark.parametrize("call, match", [
    (lambda: metrics.accuracy([0, 1], [0, 1, 2]), "one entry per example"),
    (lambda: metrics.accuracy([], []), "empty"),
    (lambda: metrics.accuracy(np.zeros((2, 2, 2)), [0, 1]), "pred must be"),
    (lambda: metrics.error_rate([0], [0], method="wald"), "method"),
    (lambda: metrics.wilson_interval(5, 3), "errors must be"),
    (lambda: metrics.wilson_interval(1, 3, confidence=95), "confidence"),
    (lambda: metrics.confusion_matrix([0, 5], [0, 1], num_classes=3), "0..2"),
    (lambda: metrics.top_k_accuracy(np.zeros((2, 3)), [0, 1], k=4), "k must be"),
    (lambda: metrics.top_k_accuracy(np.zeros((2, 3)), [0, 3], k=1), "0..2"),
])
def test_bad_input_names_the_problem(call, match):
    with pytest.raises(ValueError, match=match):
        call()
