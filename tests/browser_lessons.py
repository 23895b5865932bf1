"""What the browser test does with each lesson after Run All (``tests/test_lessons_in_browser.py``).

One entry per lesson, keyed by its notebook's stem. A new lesson adds one ``LESSONS`` entry here
and nothing else; ``test_every_lesson_has_a_browser_entry`` fails, naming the lesson, until it has
one. An entry says:

- ``explorer``: how to move the lesson's explorer: ``Step``s done in order on the controls of
  the widget that holds the first step's control, found by its label (the ``description`` of
  the ipywidget). After them the explorer's picture (its ``img`` bytes) and its text readout
  (its ``HTML`` widgets, not the controls' own readouts) must both have changed.
- ``exercise``: one exercise's id (its solution cell is ``grade_id`` ``<id>-solution``, its
  check cell ``<id>``), ``wrong``: the whole solution cell, written the way a learner gets it
  wrong (taken from ``tests/test_checks_lessonNN.py``), ``mistake``: the key of the diagnosis
  that the check must show for it, and ``right``: a correct solution cell, whose check must pass.
  The text the browser must show is computed from the checks themselves (the same code run
  here), so the table holds no copy of a check's message.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One move on a control, found by its label: ``kind`` is

    - ``"keys"``: focus a slider's handle and press ``value`` (a tuple of keys, e.g.
      ``("ArrowRight",) * 2``; ``Home`` / ``End`` jump to the ends);
    - ``"select"``: choose the option labelled ``value`` in a dropdown;
    - ``"click"``: click the button labelled ``label`` (``value`` unused) or tick a checkbox.
    """
    kind: str
    label: str
    value: object = None


@dataclass(frozen=True)
class BrowserLesson:
    explorer: tuple[Step, ...]
    exercise: str
    mistake: str
    wrong: str
    right: str


LESSONS: dict[str, BrowserLesson] = {
    "01_pixels_as_matrices": BrowserLesson(
        explorer=(Step("keys", "row", ("ArrowRight",) * 3),),
        exercise="normalize", mistake="not_scaled",
        wrong="def normalize(img):\n    return img.astype(np.float32)\n",
        right="def normalize(img):\n    return (img / 255).astype(np.float32)\n"),
    "02_convolution": BrowserLesson(
        explorer=(Step("keys", "padding", ("ArrowRight",)),),
        exercise="correlate2d", mistake="kernel_flipped",
        wrong=("def correlate2d(image, kernel):\n"
               "    H, W = image.shape\n"
               "    KH, KW = kernel.shape\n"
               "    kernel = kernel[::-1, ::-1]\n"
               "    out = np.zeros((H - KH + 1, W - KW + 1), dtype=image.dtype)\n"
               "    for i in range(H - KH + 1):\n"
               "        for j in range(W - KW + 1):\n"
               "            out[i, j] = np.sum(image[i:i + KH, j:j + KW] * kernel)\n"
               "    return out\n"),
        right=("def correlate2d(image, kernel):\n"
               "    H, W = image.shape\n"
               "    KH, KW = kernel.shape\n"
               "    out = np.zeros((H - KH + 1, W - KW + 1), dtype=image.dtype)\n"
               "    for i in range(H - KH + 1):\n"
               "        for j in range(W - KW + 1):\n"
               "            out[i, j] = np.sum(image[i:i + KH, j:j + KW] * kernel)\n"
               "    return out\n")),
    "03_pooling": BrowserLesson(
        explorer=(Step("keys", "stride", ("ArrowRight",)),),
        exercise="max_pool2d", mistake="min_instead_of_max",
        wrong=("def max_pool2d(x, kernel_size, stride=None):\n"
               "    k = kernel_size\n"
               "    s = k if stride is None else stride\n"
               "    N, C, H, W = x.shape\n"
               "    out = np.zeros((N, C, (H - k) // s + 1, (W - k) // s + 1), dtype=x.dtype)\n"
               "    for i in range(out.shape[2]):\n"
               "        for j in range(out.shape[3]):\n"
               "            out[:, :, i, j] = x[:, :, i*s:i*s + k, j*s:j*s + k].min(axis=(2, 3))\n"
               "    return out\n"),
        right=("def max_pool2d(x, kernel_size, stride=None):\n"
               "    k = kernel_size\n"
               "    s = k if stride is None else stride\n"
               "    N, C, H, W = x.shape\n"
               "    out = np.zeros((N, C, (H - k) // s + 1, (W - k) // s + 1), dtype=x.dtype)\n"
               "    for i in range(out.shape[2]):\n"
               "        for j in range(out.shape[3]):\n"
               "            out[:, :, i, j] = x[:, :, i*s:i*s + k, j*s:j*s + k].max(axis=(2, 3))\n"
               "    return out\n")),
    "04_fully_connected": BrowserLesson(
        explorer=(Step("keys", "start from test digit #", ("ArrowRight",) * 2),),
        exercise="softmax", mistake="no_max_subtraction",
        wrong=("def softmax(z, axis=-1):\n"
               "    e = np.exp(z)\n"
               "    return e / e.sum(axis=axis, keepdims=True)\n"),
        right=("def softmax(z, axis=-1):\n"
               "    e = np.exp(z - z.max(axis=axis, keepdims=True))\n"
               "    return e / e.sum(axis=axis, keepdims=True)\n")),
    "05_training": BrowserLesson(
        # the training dashboard: one epoch fewer, then train again
        explorer=(Step("keys", "epochs", ("ArrowLeft",)), Step("click", "train")),
        exercise="error_rate", mistake="accuracy_not_error",
        wrong="def error_rate(labels, pred):\n    return float(np.mean(pred == labels))\n",
        right=("def error_rate(labels, pred):\n"
               "    wrong = sum(1 for t, p in zip(labels, pred) if t != p)\n"
               "    return wrong / len(labels)\n")),
    "06_faces_and_documents": BrowserLesson(
        explorer=(Step("keys", "score threshold", ("Home",)),),
        exercise="read_number", mistake="right_to_left",
        wrong=("def read_number(boxes, digits):\n"
               "    order = np.argsort(-boxes[:, 0], kind='stable')\n"
               "    return int(''.join(str(int(d)) for d in digits[order]))\n"),
        right=("def read_number(boxes, digits):\n"
               "    pairs = sorted(zip(boxes[:, 0].tolist(), digits.tolist()), key=lambda p: p[0])\n"
               "    number = 0\n"
               "    for _, d in pairs:\n"
               "        number = 10 * number + int(d)\n"
               "    return number\n")),
    "07_cells_and_satellites": BrowserLesson(
        explorer=(Step("keys", "threshold", ("ArrowRight",) * 3),),
        exercise="count_matches", mistake="nucleus_matched_twice",
        wrong=("def count_matches(detections, truth, max_distance):\n"
               "    tp = 0\n"
               "    for d in detections:\n"
               "        distance = np.sqrt(((truth - d) ** 2).sum(axis=1))\n"
               "        if len(truth) and distance.min() <= max_distance:\n"
               "            tp += 1\n"
               "    return tp, len(detections) - tp, len(truth) - tp\n"),
        right=("def count_matches(detections, truth, max_distance):\n"
               "    taken = np.zeros(len(truth), dtype=bool)\n"
               "    tp = 0\n"
               "    for d in detections:\n"
               "        distance = np.sqrt(((truth - d) ** 2).sum(axis=1))\n"
               "        distance[taken] = np.inf\n"
               "        if len(truth) and distance.min() <= max_distance:\n"
               "            taken[int(np.argmin(distance))] = True\n"
               "            tp += 1\n"
               "    return tp, len(detections) - tp, len(truth) - tp\n")),
}
