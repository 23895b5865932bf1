"""Tests for the training plots: each returns its axes and draws exactly the numbers it claims."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from cnncourse.training import History
from cnncourse.viz import plot_confusion_matrix, plot_learning_curves, show_confident_mistakes


@pytest.fixture(autouse=True)
def close_figures_and_forbid_show(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("a plot helper called plt.show()"))
    yield
    plt.close("all")


def make_history(with_val=True, epochs=3, steps_per_epoch=4):
    rng = np.random.default_rng(0)
    h = History()
    step = 0
    for e in range(1, epochs + 1):
        for _ in range(steps_per_epoch):
            step += 1
            h.add_step(step=step, epoch=e, loss=float(rng.random()), acc=0.5, lr=0.1)
        val = dict(val_loss=1.0 / e, val_acc=0.9 + e / 100, val_error=0.1 - e / 100,
                   val_error_low=0.05, val_error_high=0.12) if with_val else \
            dict(val_loss=np.nan, val_acc=np.nan, val_error=np.nan, val_error_low=np.nan,
                 val_error_high=np.nan)
        h.add_epoch(epoch=e, train_loss=2.0 / e, train_acc=0.8 + e / 50, **val)
    return h


def line(ax, label):
    found = [l for l in ax.get_lines() if l.get_label() == label]
    assert len(found) == 1, f"expected one line {label!r}, got {[l.get_label() for l in ax.get_lines()]}"
    return found[0]


def test_learning_curves_draw_train_and_validation_per_epoch_and_each_step():
    h = make_history()
    loss_ax, acc_ax = plot_learning_curves(h)
    np.testing.assert_allclose(line(loss_ax, "train").get_ydata(), h["train_loss"])
    np.testing.assert_allclose(line(loss_ax, "validation").get_ydata(), h["val_loss"])
    np.testing.assert_allclose(line(acc_ax, "train").get_ydata(), 100 * h["train_acc"])
    np.testing.assert_allclose(line(acc_ax, "validation").get_ydata(), 100 * h["val_acc"])
    steps = line(loss_ax, "train (each step)")
    np.testing.assert_allclose(steps.get_ydata(), h.step_values("loss"))
    np.testing.assert_allclose(steps.get_xdata()[:4], [0.25, 0.5, 0.75, 1.0])
    band = acc_ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(88) and band.max() == pytest.approx(95)  # 1 - [0.05, 0.12]
    assert loss_ax.get_xlabel() == "epoch" and acc_ax.get_ylabel() == "accuracy (%)"


def test_one_epoch_gets_an_error_bar_and_a_readable_epoch_axis():
    loss_ax, acc_ax = plot_learning_curves(make_history(epochs=1))
    bars = [c for c in acc_ax.containers if c.get_label() == "validation, 95% interval"]
    assert len(bars) == 1                                    # not a zero-width band
    segment = bars[0].lines[2][0].get_segments()[0][:, 1]   # the bar's two ends
    np.testing.assert_allclose(sorted(segment), [88, 95])    # 1 - [0.12, 0.05]
    for ax in (loss_ax, acc_ax):
        assert ax.get_xlim() == (0, 2)
        assert [t for t in ax.get_xticks() if 0 <= t <= 2] == [0, 1, 2]
    three = plot_learning_curves(make_history(epochs=3))[1]
    assert not three.containers and three.get_xlim() != (0, 2)  # more epochs: the band, autoscaled


def test_learning_curves_without_validation_or_steps_and_on_given_axes():
    _, given = plt.subplots(1, 2)
    axes = plot_learning_curves(make_history(with_val=False), axes=given, steps=False)
    assert list(axes) == list(given)
    assert [l.get_label() for l in axes[0].get_lines()] == ["train"]
    assert not axes[1].collections
    with pytest.raises(ValueError, match="no finished epoch"):
        plot_learning_curves(History())


def test_confusion_matrix_shows_counts_or_row_fractions():
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 4]])
    ax = plot_confusion_matrix(cm, class_names=["a", "b", "c"])
    np.testing.assert_array_equal(ax.images[0].get_array(), cm)
    assert [t.get_text() for t in ax.texts] == [str(v) for v in cm.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.images[0].get_cmap().name == "viridis"
    ax = plot_confusion_matrix(torch.tensor(cm), normalize=True, cmap="cividis")
    np.testing.assert_allclose(ax.images[0].get_array(), cm / cm.sum(1, keepdims=True))
    assert ax.texts[0].get_text() == "0.83" and ax.images[0].get_cmap().name == "cividis"
    _, mine = plt.subplots()
    assert plot_confusion_matrix(cm, ax=mine) is mine
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="K=3 entries"):
        plot_confusion_matrix(cm, class_names=["a", "b"])


def test_confident_mistakes_are_the_wrong_ones_most_confident_first():
    rng = np.random.default_rng(0)
    images = rng.random((6, 1, 5, 5))
    labels = np.array([0, 1, 2, 0, 1, 2])
    probs = np.array([[0.9, 0.05, 0.05],   # right
                      [0.6, 0.3, 0.1],     # wrong, said 0 at 60%
                      [0.05, 0.9, 0.05],   # wrong, said 1 at 90%
                      [0.2, 0.7, 0.1],     # wrong, said 1 at 70%
                      [0.1, 0.8, 0.1],     # right
                      [0.1, 0.1, 0.8]])    # right
    axes = show_confident_mistakes(images, labels, probs, class_names=["zero", "one", "two"])
    assert [ax.get_title() for ax in axes] == [
        "said one (90%)\ntrue two (5%)", "said one (70%)\ntrue zero (20%)",
        "said zero (60%)\ntrue one (30%)"]
    np.testing.assert_allclose(axes[0].images[0].get_array(), images[2, 0])
    assert len(show_confident_mistakes(images, labels, probs, k=2)) == 2
    rgb = show_confident_mistakes(rng.random((6, 3, 5, 5)), labels, probs, k=1)
    assert rgb[0].images[0].get_array().shape == (5, 5, 3)


def test_no_mistakes_gives_a_note_and_bad_shapes_an_error():
    axes = show_confident_mistakes(np.zeros((2, 4, 4)), [0, 1], np.eye(2))
    assert len(axes) == 1 and "no wrong predictions among 2" in axes[0].texts[0].get_text()
    with pytest.raises(ValueError, match="one entry per example"):
        show_confident_mistakes(np.zeros((3, 4, 4)), [0, 1], np.eye(2))
