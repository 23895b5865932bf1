"""Plot helpers for lesson 4: from feature maps to a class.

- :func:`show_layer_outputs`: the feature maps one image produces as it passes from layer to
  layer (one row per layer), ending with the class probabilities;
- :func:`show_probabilities`: a bar chart of the class probabilities, the predicted class
  highlighted;
- :func:`show_error_rates`: error rates with their confidence intervals, one bar per model;
- :func:`plot_accuracy_vs_shift`: accuracy as the input is shifted, one line per model, with an
  optional band (e.g. a Wilson interval);
- :func:`show_dense_weights`: the weights of a first dense layer drawn as images, what each unit
  looks at.

Every helper takes an optional ``ax`` (or ``fig``), returns it, and never calls ``plt.show()``.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .conv import _new_ax

__all__ = ["show_layer_outputs", "show_probabilities", "show_error_rates",
           "plot_accuracy_vs_shift", "show_dense_weights"]

#: Bar colours: the predicted class stands out, the others stay quiet (both read in grayscale).
PREDICTED_COLOR, OTHER_COLOR = "tab:orange", "0.65"


def _softmax(z) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


def show_probabilities(probs, ax=None, label=None):
    """Bar chart of class probabilities, the most likely class highlighted.

    Args:
        probs: ``(K,)`` probabilities (e.g. ``class_probabilities(model, image)``).
        ax: axes to draw on. Default: a new ``(4, 2.4)`` figure.
        label: a name for the model, put in the title. Default: none.

    Returns:
        The axes: ``K`` bars (``ax.patches``), y from 0 to 1, title
        ``"<label>: predicted k (p = 0.98)"``.

    Example:
        >>> ax = show_probabilities(np.full(10, 0.1), label="uniform")
        >>> len(ax.patches), ax.get_title()
        (10, 'uniform: predicted 0 (p = 0.10)')
    """
    from ..model_outputs import prediction_text

    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 1 or len(probs) < 2:
        raise ValueError(f"probs must be (K,) class probabilities with K >= 2; got shape "
                         f"{probs.shape}")
    ax = _new_ax(ax, (4, 2.4))
    k = int(probs.argmax())
    colors = [PREDICTED_COLOR if i == k else OTHER_COLOR for i in range(len(probs))]
    ax.bar(np.arange(len(probs)), probs, color=colors, edgecolor="0.3", linewidth=0.5)
    ax.set_xticks(np.arange(len(probs)))
    ax.set_ylim(0, 1)
    ax.set_xlabel("class", fontsize=8)
    ax.set_ylabel("probability", fontsize=8)
    ax.tick_params(labelsize=7)
    text = prediction_text(probs)
    ax.set_title(f"{label}: {text}" if label else text, fontsize=9)
    return ax


def _tile(maps) -> np.ndarray:
    """Feature maps ``(C, H, W)`` side by side, one pixel apart, each scaled to ``[0, 1]`` on its
    own (a constant map is drawn black); the gaps are NaN (drawn blank)."""
    C, H, W = maps.shape
    row = np.full((H, C * (W + 1) - 1), np.nan)
    for c in range(C):
        m = maps[c]
        span = m.max() - m.min()
        row[:, c * (W + 1):c * (W + 1) + W] = (m - m.min()) / span if span > 0 else 0.0
    return row


def show_layer_outputs(outputs, max_channels: int = 6, fig=None, probabilities=None):
    """The feature maps one image produces as it passes from layer to layer.

    One row per layer that outputs maps ``(C, H, W)``: its first ``max_channels`` channels side
    by side, each scaled to its own range (title ``"conv1 (6, 24, 24), first 4 channels"``). Vectors ``(K,)`` in between (flatten, dense
    layers) get a row each, drawn as a strip of ``K`` cells. The last row is the class
    probabilities: the softmax of the last output, or ``probabilities``.

    Args:
        outputs: ``[(name, array), ...]`` as :func:`cnncourse.model_outputs.layer_outputs`
            returns: arrays ``(C, H, W)`` or ``(K,)``, the last being the logits.
        max_channels: channels shown per row. Default: 6.
        fig: a figure to draw on (``matplotlib.figure.Figure``); without a layout engine it gets
            fixed margins (faster to draw than constrained layout). Default: a new pyplot
            figure, constrained layout.
        probabilities: ``{label: (K,) probabilities}`` to draw in the last row instead (one bar
            chart each, e.g. two models on the same image). Default: the softmax of the last
            output.

    Returns:
        The figure; ``fig.axes`` in order: one per map row, one per vector row, then one per
        bar chart.

    Example:
        >>> fig = show_layer_outputs([("input", np.zeros((1, 4, 4))), ("fc", np.zeros(10))])
        >>> len(fig.axes), fig.axes[-1].get_title()
        (2, 'probabilities: predicted 0 (p = 0.10)')
    """
    if not outputs:
        raise ValueError("outputs must list at least one (name, array) pair, as layer_outputs "
                         "returns")
    if isinstance(max_channels, bool) or not isinstance(max_channels, (int, np.integer)) \
            or max_channels < 1:
        raise ValueError(f"max_channels must be a positive int; got max_channels={max_channels!r}")
    arrays = []
    for name, a in outputs:
        a = np.asarray(a, dtype=np.float64)
        if a.ndim not in (1, 3):
            raise ValueError(f"outputs[{name!r}] must be feature maps (C, H, W) or a vector (K,) "
                             f"(batch dimension dropped); got shape {a.shape}")
        arrays.append((str(name), a))
    if probabilities is None:
        last_name, last = arrays[-1]
        if last.ndim != 1:
            raise ValueError(f"the last output ({last_name!r}) must be the logits (K,) to draw "
                             f"probabilities; got shape {last.shape}: pass probabilities=")
        probabilities = {"probabilities": _softmax(last)}
        arrays = arrays[:-1]
    maps = [(n, a) for n, a in arrays if a.ndim == 3]
    vectors = [(n, a) for n, a in arrays if a.ndim == 1]
    n_cols = max(max_channels, len(probabilities))
    if fig is None:
        fig = plt.figure(figsize=(1.3 * n_cols, 1.3 * len(maps) + 0.5 * len(vectors) + 2.0),
                         layout="constrained")
    heights = [1.0] * len(maps) + [0.3] * len(vectors) + [1.6]
    margins = {}
    if fig.get_layout_engine() is None:  # no layout engine (faster): fixed margins, in inches
        w, h = fig.get_size_inches()
        margins = dict(left=0.6 / w, right=1 - 0.1 / w, top=1 - 0.25 / h, bottom=0.45 / h,
                       hspace=0.9 * len(heights) * 0.3 / max(h - 0.7, 0.1))
    grid = fig.add_gridspec(len(heights), 1, height_ratios=heights, **margins)
    for row, (name, a) in enumerate(maps):
        ax = fig.add_subplot(grid[row])
        ax.imshow(_tile(a[:max_channels]), cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{name} {a.shape}" + (f", first {max_channels} channels"
                                            if a.shape[0] > max_channels else ""),
                     fontsize=8, loc="left")
    for row, (name, a) in enumerate(vectors, start=len(maps)):
        ax = fig.add_subplot(grid[row])
        ax.imshow(a[None], cmap="viridis", aspect="auto", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{name} ({len(a)},)", fontsize=8, loc="left")
    bars = grid[-1].subgridspec(1, len(probabilities), wspace=0.35).subplots(squeeze=False)[0]
    for ax, (label, p) in zip(bars, probabilities.items()):
        show_probabilities(p, ax=ax, label=label)
    return fig


def show_error_rates(rates, ax=None):
    """Error rates with their confidence intervals, one bar per model.

    Args:
        rates: ``{name: ErrorRate}`` (what :func:`cnncourse.metrics.error_rate` returns: ``rate``,
            ``low``, ``high``), or ``{name: (rate, low, high)}``.
        ax: axes to draw on. Default: a new figure.

    Returns:
        The axes: one bar per model (``ax.patches``), its interval as an error bar, the x tick
        labels the names, the y axis in percent.

    Example:
        >>> ax = show_error_rates({"MLP": (0.07, 0.06, 0.08), "CNN": (0.03, 0.025, 0.04)})
        >>> [t.get_text() for t in ax.get_xticklabels()], len(ax.patches)
        (['MLP', 'CNN'], 2)
    """
    if not rates:
        raise ValueError("rates must hold at least one {name: ErrorRate} entry")
    names, values = list(rates), []
    for name in names:
        r = rates[name]
        try:
            rate, low, high = (r.rate, r.low, r.high) if hasattr(r, "rate") else tuple(r)
        except (TypeError, ValueError):
            raise ValueError(f"rates[{name!r}] must be an ErrorRate or (rate, low, high); got "
                             f"{r!r}") from None
        if not 0 <= low <= rate <= high <= 1:
            raise ValueError(f"rates[{name!r}] must satisfy 0 <= low <= rate <= high <= 1; got "
                             f"rate={rate}, low={low}, high={high}")
        values.append((rate, low, high))
    rate, low, high = (100 * np.array(v) for v in zip(*values))
    ax = _new_ax(ax, (1.2 + 1.1 * len(names), 2.8))
    x = np.arange(len(names))
    colors = plt.get_cmap("viridis")(np.linspace(0.2, 0.8, len(names)))
    ax.bar(x, rate, color=colors, edgecolor="0.3", linewidth=0.5)
    ax.errorbar(x, rate, yerr=[rate - low, high - rate], fmt="none", ecolor="black", capsize=4)
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylabel("test error rate (%)", fontsize=8)
    ax.set_ylim(0, 1.15 * high.max())
    ax.set_title("error rate, 95% interval", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    return ax


def plot_accuracy_vs_shift(shifts, accuracies, bands=None, ax=None):
    """Accuracy as the input digits are shifted, one line per model.

    Args:
        shifts: the shifts in pixels, length ``S``.
        accuracies: ``{name: (S,) accuracies}``.
        bands: ``{name: ((S,) low, (S,) high)}`` to shade around a line (e.g. a Wilson interval
            per shift, from :func:`cnncourse.metrics.wilson_interval`), for some or all names.
            Default: no bands.
        ax: axes to draw on. Default: a new figure.

    Returns:
        The axes; line ``k`` is ``list(accuracies)[k]`` (label and y data), one shaded
        ``PolyCollection`` per band, y from 0 to 1.

    Example:
        >>> ax = plot_accuracy_vs_shift([0, 2], {"MLP": [0.95, 0.6], "CNN": [0.97, 0.85]})
        >>> [line.get_label() for line in ax.get_lines()]
        ['MLP', 'CNN']
    """
    shifts = np.asarray(shifts)
    if not accuracies:
        raise ValueError("accuracies must hold at least one {name: accuracies} entry")
    bands = bands or {}
    unknown = sorted(set(bands) - set(accuracies))
    if unknown:
        raise ValueError(f"bands names models that accuracies does not have: {unknown}; "
                         f"accuracies has {list(accuracies)}")
    ax = _new_ax(ax, (6, 3.2))
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.8, len(accuracies)))
    for k, (name, acc) in enumerate(accuracies.items()):
        acc = np.asarray(acc, dtype=np.float64)
        if acc.shape != shifts.shape:
            raise ValueError(f"accuracies[{name!r}] must have one value per shift ({len(shifts)}); "
                             f"got shape {acc.shape}")
        ax.plot(shifts, acc, marker="osD^v"[k % 5], color=colors[k], label=name)
        if name in bands:
            low, high = (np.asarray(b, dtype=np.float64) for b in bands[name])
            if low.shape != shifts.shape or high.shape != shifts.shape:
                raise ValueError(f"bands[{name!r}] must be (low, high), each with one value per "
                                 f"shift ({len(shifts)}); got shapes {low.shape}, {high.shape}")
            ax.fill_between(shifts, low, high, color=colors[k], alpha=0.2, linewidth=0)
    ax.set_xticks(shifts)
    ax.set_xlabel("shift of the input (pixels)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def show_dense_weights(weight, image_shape=(28, 28), n: int = 10, fig=None, axes=None):
    """The first dense layer's weights as images: what each unit looks at.

    Row ``i`` of ``weight`` (``(units, H*W)``) is unit ``i``'s template: its output is the dot
    product of that template with the flattened image. Drawn with a diverging colour map centred
    on 0 (red positive, blue negative, white 0), each unit on its own symmetric scale.

    Args:
        weight: ``(units, H*W)`` array (``mlp.fc1.weight``; a torch tensor is converted).
        image_shape: ``(H, W)`` the inputs were flattened from. Default: ``(28, 28)``.
        n: how many units to show (the first ``n``). Default: 10.
        fig: a figure to draw on. Default: a new pyplot figure (ignored when ``axes`` is given).
        axes: ``n`` axes to draw on. Default: one row in ``fig``.

    Returns:
        The list of axes, titled ``"unit 0"``, ``"unit 1"``, ...

    Example:
        >>> axes = show_dense_weights(np.eye(4, 16), image_shape=(4, 4), n=3)
        >>> [ax.get_title() for ax in axes]
        ['unit 0', 'unit 1', 'unit 2']
    """
    if hasattr(weight, "detach"):
        weight = weight.detach().cpu().numpy()
    weight = np.asarray(weight, dtype=np.float64)
    H, W = image_shape
    if weight.ndim != 2 or weight.shape[1] != H * W:
        raise ValueError(f"weight must be (units, H*W) = (units, {H * W}) for image_shape="
                         f"{tuple(image_shape)}; got shape {weight.shape}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= len(weight):
        raise ValueError(f"n must be an int from 1 to the number of units ({len(weight)}); "
                         f"got n={n!r}")
    if axes is None:
        fig = fig if fig is not None else plt.figure(figsize=(1.2 * n, 1.5), layout="constrained")
        axes = list(fig.subplots(1, n, squeeze=False)[0])
    if len(axes) < n:
        raise ValueError(f"axes must hold n={n} axes; got {len(axes)}")
    for i, ax in enumerate(axes[:n]):
        template = weight[i].reshape(H, W)
        limit = np.abs(template).max() or 1.0
        ax.imshow(template, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"unit {i}", fontsize=8)
    return list(axes[:n])
