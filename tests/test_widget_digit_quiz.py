"""Tests for lesson 5's "you vs the CNN" quiz: picking the hardest digits, scoring, the widget."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnncourse.widgets import digit_quiz
from cnncourse.widgets.digit_quiz import hardest_digits, plot_quiz, score_quiz


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@given(st.integers(2, 30), st.integers(2, 10), st.integers(0, 2**16))
def test_hardest_digits_have_the_smallest_margins(n, K, seed):
    probs = np.random.default_rng(seed).dirichlet(np.ones(K), size=n)
    k = max(1, n // 3)
    picked = hardest_digits(probs, k)
    top2 = np.sort(probs, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    assert len(set(picked.tolist())) == k
    assert margin[picked].max() <= np.delete(margin, picked).min(initial=np.inf)
    assert np.all(np.diff(margin[picked]) >= 0)


def test_hardest_digits_bad_input():
    with pytest.raises(ValueError, match="K >= 2"):
        hardest_digits(np.ones((3, 1)))
    with pytest.raises(ValueError, match="k must be an int from 1 to N=2"):
        hardest_digits(np.full((2, 2), 0.5), k=3)


def test_score_counts_only_answered_digits_for_you():
    assert score_quiz([1, 2, None, 4], [1, 3, 5, 4], [1, 2, 5, 0]) == dict(
        n=4, answered=3, yours=1, model=2)
    with pytest.raises(ValueError, match="one entry per digit"):
        score_quiz([1], [1, 2], [1, 2])


def test_plot_numbers_the_digits_without_their_labels():
    axes = plot_quiz(np.zeros((3, 1, 28, 28)))
    assert [ax.get_title() for ax in axes] == ["#1", "#2", "#3"]


def test_widget_scores_the_answers_given():
    labels, pred = np.array([3, 5, 8]), np.array([3, 3, 8])
    box = digit_quiz(np.zeros((3, 28, 28)), labels, pred)
    assert bytes(box.image.value).startswith(b"\x89PNG")
    box.answers[0].value, box.answers[1].value = 3, 6
    box.button.click()
    assert "You: 1 wrong of the 2 you labelled; the CNN: 1 wrong of 3" in box.result.value
    assert "#3: 8" in box.result.value
