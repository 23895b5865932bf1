"""Tests for lesson 4's plots: each returns its axes (or figure) and draws what it claims."""
import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from cnncourse.data import load_mnist
from cnncourse.metrics import error_rate, wilson_interval
from cnncourse.models import lenet
from cnncourse.viz.dense import (plot_accuracy_vs_shift, show_dense_weights, show_error_rates,
                                 show_layer_outputs, show_probabilities)
from cnncourse.widgets.draw_digit import layer_outputs


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_probabilities_highlight_the_predicted_class():
    probs = np.array([0.05, 0.05, 0.6, 0.3] + [0.0] * 6)
    ax = show_probabilities(probs, label="CNN")
    bars = ax.patches
    assert len(bars) == 10 and [b.get_height() for b in bars] == pytest.approx(probs)
    colors = [b.get_facecolor() for b in bars]
    assert colors.count(colors[2]) == 1 and len(set(colors)) == 2       # class 2 stands out
    assert ax.get_title() == "CNN: predicted 2 (p = 0.60)" and ax.get_ylim() == (0, 1)
    with pytest.raises(ValueError, match=r"probs must be \(K,\) .* got shape \(2, 5\)"):
        show_probabilities(np.full((2, 5), 0.1))


@pytest.mark.parametrize("fig", [None, Figure(figsize=(6, 10))], ids=["pyplot", "no layout engine"])
def test_layer_outputs_one_row_per_layer_ending_with_bars(fig):
    torch.manual_seed(0)
    x, _ = load_mnist("test")
    outputs = layer_outputs(lenet("torch"), x[0] / 255.0)
    fig = show_layer_outputs(outputs, max_channels=3, fig=fig)
    maps = [n for n, a in outputs if a.ndim == 3]                      # input, conv1 ... pool2
    vectors = [n for n, a in outputs[:-1] if a.ndim == 1]              # flatten ... relu4
    assert len(fig.axes) == len(maps) + len(vectors) + 1
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[0] == "input (1, 28, 28)"
    assert titles[1] == "conv1 (6, 24, 24), first 3 channels"
    assert titles[len(maps)] == "flatten (256,)"
    tile = fig.axes[1].images[0].get_array()
    assert tile.shape == (24, 3 * 25 - 1)                              # 3 maps, 1-pixel gaps
    assert np.nanmax(tile) == pytest.approx(1) and np.nanmin(tile) == pytest.approx(0)
    assert np.ma.getmaskarray(tile)[:, 24].all()                       # the gap is blank (NaN)
    bars = fig.axes[-1]
    p = np.exp(outputs[-1][1] - outputs[-1][1].max())
    assert [b.get_height() for b in bars.patches] == pytest.approx(p / p.sum())
    assert bars.get_title().startswith("probabilities: predicted ")
    fig.savefig(io.BytesIO(), format="png")                            # it draws


def test_layer_outputs_with_given_probabilities_and_errors():
    outputs = [("input", np.zeros((1, 4, 4))), ("maps", np.arange(32.0).reshape(2, 4, 4))]
    fig = show_layer_outputs(outputs, probabilities={"a": np.full(10, 0.1),
                                                     "b": np.eye(10)[3]})
    assert [ax.get_title() for ax in fig.axes[-2:]] == ["a: predicted 0 (p = 0.10)",
                                                         "b: predicted 3 (p > 0.99)"]
    with pytest.raises(ValueError, match=r"the last output \('maps'\) must be the logits"):
        show_layer_outputs(outputs)
    with pytest.raises(ValueError, match=r"outputs\['x'\] must be feature maps .* got shape \(2, 3\)"):
        show_layer_outputs([("x", np.zeros((2, 3)))])
    with pytest.raises(ValueError, match="max_channels must be a positive int; got max_channels=0"):
        show_layer_outputs(outputs, max_channels=0)


def test_error_rates_bars_with_intervals():
    labels = np.arange(200) % 10
    rates = {"MLP": error_rate(np.where(np.arange(200) < 20, 0, labels), labels),
             "CNN": (0.03, 0.02, 0.05)}
    ax = show_error_rates(rates)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["MLP", "CNN"]
    assert [b.get_height() for b in ax.patches] == pytest.approx([100 * rates["MLP"].rate, 3.0])
    (_, _, (bars,)) = ax.containers[1]                                  # the error bar
    segments = bars.get_segments()
    assert segments[0][:, 1] == pytest.approx([100 * rates["MLP"].low, 100 * rates["MLP"].high])
    assert segments[1][:, 1] == pytest.approx([2.0, 5.0])
    with pytest.raises(ValueError, match=r"rates\['x'\] must satisfy 0 <= low <= rate <= high"):
        show_error_rates({"x": (0.5, 0.6, 0.7)})


def test_accuracy_vs_shift_lines_and_bands():
    shifts = [0, 1, 2, 3, 4]
    acc = {"MLP": [0.95, 0.9, 0.7, 0.45, 0.3], "CNN": [0.97, 0.96, 0.88, 0.7, 0.5]}
    n = 2000
    low, high = zip(*(wilson_interval(round((1 - a) * n), n) for a in acc["CNN"]))
    band = (1 - np.array(high), 1 - np.array(low))
    ax = plot_accuracy_vs_shift(shifts, acc, bands={"CNN": band})
    assert [line.get_label() for line in ax.get_lines()] == ["MLP", "CNN"]
    assert list(ax.get_lines()[1].get_ydata()) == acc["CNN"]
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 1
    assert ax.get_ylim() == (0, 1)
    with pytest.raises(ValueError, match=r"accuracies\['MLP'\] must have one value per shift \(5\)"):
        plot_accuracy_vs_shift(shifts, {"MLP": [1, 2]})
    with pytest.raises(ValueError, match=r"bands names models that accuracies does not have: \['x'\]"):
        plot_accuracy_vs_shift(shifts, acc, bands={"x": band})


def _roughness(ax) -> float:
    """Mean absolute difference between neighbouring pixels, relative to the mean magnitude."""
    a = np.asarray(ax.images[0].get_array(), dtype=float)
    return (np.abs(np.diff(a, axis=0)).mean() + np.abs(np.diff(a, axis=1)).mean()) / np.abs(a).mean()


def test_dense_weights_are_templates_and_permuted_ones_look_like_noise():
    x, y = load_mnist("train")
    x = x[:2000].reshape(2000, -1) / 255.0
    weight = np.stack([x[y[:2000] == k].mean(axis=0) - x.mean(axis=0) for k in range(10)])
    axes = show_dense_weights(torch.tensor(weight), n=4)
    assert [ax.get_title() for ax in axes] == ["unit 0", "unit 1", "unit 2", "unit 3"]
    image = axes[0].images[0]
    np.testing.assert_array_equal(image.get_array(), weight[0].reshape(28, 28))
    assert image.get_clim() == pytest.approx((-np.abs(weight[0]).max(), np.abs(weight[0]).max()))
    perm = np.random.default_rng(0).permutation(784)
    shuffled = show_dense_weights(weight[:, perm], n=4)
    assert min(_roughness(ax) for ax in shuffled) > 2 * max(_roughness(ax) for ax in axes)
    with pytest.raises(ValueError, match=r"weight must be \(units, H\*W\) = \(units, 784\) .* "
                                         r"got shape \(10, 100\)"):
        show_dense_weights(np.zeros((10, 100)))
    with pytest.raises(ValueError, match="n must be an int from 1 to the number of units"):
        show_dense_weights(weight, n=11)
