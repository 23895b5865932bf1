"""The "you vs the CNN" quiz of lesson 5: label the hardest test digits yourself and compare
your error rate with the model's on the same digits.

- :func:`hardest_digits` picks the digits a trained model is least sure about (the smallest
  margin between its two most likely classes);
- :func:`score_quiz` counts your errors and the model's;
- :func:`plot_quiz` draws the digits, numbered;
- :func:`digit_quiz` is the ``ipywidgets`` wiring: one box per digit for your answer, a button
  that scores them.
"""
from __future__ import annotations

import numpy as np

__all__ = ["hardest_digits", "score_quiz", "plot_quiz", "digit_quiz"]


def hardest_digits(probs, k: int = 10) -> np.ndarray:
    """Indices of the ``k`` examples with the smallest margin between the two largest class
    probabilities: the ones the model finds hardest. Ties keep the lower index.

    Args:
        probs: ``(N, K)`` class probabilities (``cnncourse.training.predict``), ``K >= 2``.
        k: how many (at most ``N``). Default: 10.

    Returns:
        ``(k,)`` int array, hardest first.

    Example:
        >>> hardest_digits(np.array([[0.9, 0.1], [0.55, 0.45], [0.3, 0.7]]), k=2).tolist()
        [1, 2]
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(f"probs must be (N, K) class probabilities with K >= 2; got shape {probs.shape}")
    if not (isinstance(k, (int, np.integer)) and 1 <= k <= len(probs)):
        raise ValueError(f"k must be an int from 1 to N={len(probs)}; got k={k!r}")
    top2 = np.sort(probs, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    return np.argsort(margin, kind="stable")[:k]


def score_quiz(answers, labels, model_pred) -> dict:
    """Your errors and the model's on the quiz digits.

    Args:
        answers: your label for each digit, an int 0-9, or None where you gave none.
        labels: the true labels.
        model_pred: the model's predicted labels.

    Returns:
        ``dict(n, answered, yours, model)``: the number of digits, how many you answered,
        your errors among those you answered, and the model's errors on all ``n``.

    Example:
        >>> score_quiz([4, None, 7], [4, 9, 1], [4, 4, 1])
        {'n': 3, 'answered': 2, 'yours': 1, 'model': 1}
    """
    labels, model_pred = np.asarray(labels), np.asarray(model_pred)
    if not len(answers) == len(labels) == len(model_pred):
        raise ValueError(f"answers, labels and model_pred need one entry per digit; got "
                         f"{len(answers)}, {len(labels)} and {len(model_pred)}")
    given = [(a, t) for a, t in zip(answers, labels) if a is not None]
    return {"n": len(labels), "answered": len(given),
            "yours": sum(int(a) != int(t) for a, t in given),
            "model": int(np.sum(model_pred != labels))}


def plot_quiz(images, axes=None):
    """The quiz digits in a row, numbered 1, 2, ... (no labels: that is the quiz).

    Returns:
        The list of axes.
    """
    from ..viz import show_images

    images = np.asarray(images)
    if images.ndim == 4:
        images = images[:, 0]
    return show_images(list(images), titles=[f"#{i + 1}" for i in range(len(images))], axes=axes)


def digit_quiz(images, labels, model_pred):
    """The quiz: the digits, a box per digit for your label, and a *score* button.

    Args:
        images: ``(k, 28, 28)`` or ``(k, 1, 28, 28)`` digits (e.g. picked by
            :func:`hardest_digits`).
        labels: their true labels.
        model_pred: the model's predictions for them.

    Returns:
        An ``ipywidgets.VBox``; it also carries ``answers`` (the list of ``Dropdown`` widgets,
        value None until you choose), ``button``, ``result`` (an ``HTML`` line) and ``score()``.
    """
    import ipywidgets as widgets

    from ._figure import figure_to_png, figure_widget, new_figure

    k = len(labels)
    image = figure_widget()
    fig = new_figure(figsize=(1.1 * k, 1.4))
    plot_quiz(images, axes=fig.subplots(1, k, squeeze=False)[0])
    image.value = figure_to_png(fig)
    answers = [widgets.Dropdown(options=[("?", None)] + [(str(d), d) for d in range(10)],
                                description=f"#{i + 1}", style={"description_width": "28px"},
                                layout=widgets.Layout(width="88px")) for i in range(k)]
    button = widgets.Button(description="score", button_style="primary")
    result = widgets.HTML("Choose a label for each digit, then press <b>score</b>.")

    def score(_=None):
        s = score_quiz([a.value for a in answers], labels, model_pred)
        truth = ", ".join(f"#{i + 1}: {int(t)}" for i, t in enumerate(labels))
        result.value = (f"You: {s['yours']} wrong of the {s['answered']} you labelled; the CNN: "
                        f"{s['model']} wrong of {s['n']}. True labels: {truth}.")
        return s

    button.on_click(score)
    rows = [widgets.HBox(answers[i:i + 5]) for i in range(0, k, 5)]
    intro = widgets.HTML(f"<b>You vs the CNN.</b> These are {k} test digits; for each one, choose "
                         f"the digit you read in its menu below, then press <b>score</b>.")
    box = widgets.VBox([intro, image, *rows, button, result])
    box.answers, box.button, box.result, box.score, box.image = answers, button, result, score, image
    return box
