"""Checks for lesson 04 (fully connected layers): the predictions ``q04_dense_params``,
``q04_permuted_mlp`` and ``q04_gap_params``, and the exercises ``flatten``, ``linear``,
``softmax``, ``cross_entropy``, ``mlp_parameters`` and ``small_cnn_forward``.

The trusted references are :mod:`cnncourse.numpy_ops` (PyTorch's semantics: ``linear`` takes
``weight`` as ``(out_features, in_features)``, ``conv2d`` is a cross-correlation, softmax and
cross-entropy are computed stably) and :class:`cnncourse.nn.Linear` for parameter counts. Every
case is small and float64, so a check runs in milliseconds.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import numpy_ops as ops
from .core import Exercise, Variant, distinct, int_values, make_case, register, seeded_rng, when
from .predictions import Prediction, wrong_answer

__all__ = ["Q04_DENSE_PARAMS", "Q04_PERMUTED_MLP", "Q04_GAP_PARAMS", "FLATTEN", "LINEAR",
           "SOFTMAX", "CROSS_ENTROPY", "MLP_PARAMETERS", "SMALL_CNN_FORWARD", "dense_parameters",
           "exp_normalised"]

LESSON = "04_fully_connected"


# ---------------------------------------------------------------- shared helpers
def dense_parameters(sizes) -> int:
    """The number of weights and biases of a stack of :class:`cnncourse.nn.Linear` layers of
    widths ``sizes = [in, h1, ..., out]``, counted on the layers themselves.

    Example:
        >>> dense_parameters([3, 2])
        8
    """
    from ..nn import Linear

    return sum(int(p.data.size) for a, b in zip(sizes[:-1], sizes[1:])
               for p in Linear(int(a), int(b)).parameters())


def exp_normalised(z, axis=-1, shift="slice", normalise=True):
    """``exp(z - m)`` divided by its sum along ``axis`` (softmax), computed the ways learners
    do: ``shift="slice"`` subtracts the maximum of each slice (the stable softmax), ``"global"``
    the maximum of the whole array, ``"none"`` nothing (``exp`` may overflow); with
    ``normalise=False`` the sum is not divided by. Overflow and 0/0 give ``inf`` / ``nan``
    silently, as they would in the learner's code (without the warnings)."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(all="ignore"):
        if shift == "slice":
            z = z - z.max(axis=axis, keepdims=True)
        elif shift == "global":
            z = z - z.max()
        e = np.exp(z)
        return e / e.sum(axis=axis, keepdims=True) if normalise else e


# ---------------------------------------------------------------- predictions
Q04_DENSE_PARAMS = register(Prediction(
    "q04_dense_params", LESSON,
    "LeNet's feature maps before its first dense layer have shape (16, 4, 4). How many "
    "parameters does a dense layer from them to 120 units have?",
    lambda: dense_parameters([16 * 4 * 4, 120]),
    "the maps are flattened into 16*4*4 = 256 inputs; every one of the 120 units has a weight "
    "for each input and one bias: 256*120 + 120 = 30,840.",
    wrong=[
        wrong_answer("bias_counted_once", "one bias is counted for the whole layer",
                     16 * 4 * 4 * 120 + 1, "Every unit has its own bias: 120 of them."),
        wrong_answer("bias_forgotten", "the biases are left out", 16 * 4 * 4 * 120,
                     "Every unit has a bias as well as its weights."),
        wrong_answer("not_flattened", "the 16 channels are taken as the inputs (one number per "
                     "feature map, not flattened)", 16 * 120 + 120,
                     "A dense layer sees the flattened volume: all 16*4*4 numbers are inputs."),
    ]))


def _permuted_mlp() -> int:
    """2 ("about the same"), shown by code: permuting the inputs of a dense layer and the columns
    of its weights by the same permutation gives the same outputs, so a fresh MLP can learn the
    permuted weights exactly as well."""
    rng = np.random.default_rng(4)
    x, weight, bias = rng.normal(size=(5, 12)), rng.normal(size=(3, 12)), rng.normal(size=3)
    perm = rng.permutation(12)
    same = np.allclose(ops.linear(x[:, perm], weight[:, perm], bias), ops.linear(x, weight, bias))
    return 2 if same else 1


Q04_PERMUTED_MLP = register(Prediction(
    "q04_permuted_mlp", LESSON,
    "Every training and test image's pixels are shuffled by the same fixed permutation and a "
    "fresh MLP is trained on the shuffled images. Its test accuracy compared with the MLP trained "
    "on normal images: 1 = much lower, 2 = about the same, 3 = much higher? Answer 1, 2 or 3.",
    _permuted_mlp,
    "a dense layer connects every input to every unit and has no notion of which pixels are "
    "neighbours: permuting the inputs only permutes the columns of the first weight matrix, "
    "which training learns just as well. (A CNN, which relies on neighbours, does suffer.)",
    wrong=[
        wrong_answer("neighbours_assumed", "the MLP is taken to rely on neighbouring pixels, as a "
                     "convolution does", 1, "Only convolution looks at neighbourhoods; a dense "
                     "layer treats its inputs as an unordered list of numbers."),
        wrong_answer("shuffling_helps", "shuffling is taken to add information", 3,
                     "The same permutation everywhere adds and removes nothing: the images hold "
                     "the same numbers in another order."),
    ]))

Q04_GAP_PARAMS = register(Prediction(
    "q04_gap_params", LESSON,
    "With global average pooling, the 16 feature maps become 16 numbers. How many parameters "
    "does a dense layer from them to 10 classes have?",
    lambda: dense_parameters([16, 10]),
    "16 inputs, 10 units: 16*10 weights + 10 biases = 170 (instead of 16*4*4*10 + 10 = 2,570 "
    "without pooling the maps away).",
    wrong=[
        wrong_answer("bias_counted_once", "one bias is counted for the whole layer", 16 * 10 + 1,
                     "Every unit has its own bias: 10 of them."),
        wrong_answer("no_gap", "the 4×4 maps are flattened as they are (no global average "
                     "pooling)", 16 * 4 * 4 * 10 + 10,
                     "Global average pooling replaces each 4×4 map by its mean: 16 inputs."),
    ]))


# ---------------------------------------------------------------- flatten
def _flatten_cases(hidden):
    rng = seeded_rng("flatten", hidden)
    cases = [
        make_case("1 example (N=1), 2 channels, 2×3", distinct(rng, (1, 2, 2, 3))),
        make_case("2 examples, 3 channels, 2×2", distinct(rng, (2, 3, 2, 2))),
        make_case("3-D input: 2 examples, 3 channels, 4 positions", distinct(rng, (2, 3, 4))),
        make_case("3 examples, 2 channels, 3×2", distinct(rng, (3, 2, 3, 2))),
    ]
    for k in range(4 if not hidden else 8):
        shape = tuple(int(v) for v in (rng.integers(1, 4), rng.integers(2, 4),
                                       rng.integers(2, 5), rng.integers(2, 5)))
        cases.append(make_case(f"random: x {shape}, {k}", distinct(rng, shape)))
    return cases


FLATTEN = register(Exercise(
    "flatten", LESSON, "flatten", 1,
    signature="x",
    make_cases=_flatten_cases,
    reference=lambda c: c.x.reshape(c.x.shape[0], -1),
    variants=[
        Variant("batch_flattened", "the batch axis is flattened too: one long vector (N*...,)",
                "keep the first axis: every example becomes one row, x.reshape(N, -1) with "
                "N = x.shape[0] (like torch.flatten(x, 1)), not x.reshape(-1).",
                lambda c: c.x.reshape(-1)),
        Variant("channels_last_order", "the values are flattened channels-last (position by "
                "position, channels inside), so the dense layer's weights no longer line up",
                "flatten in C order: x.reshape(N, -1) reads channel 0's whole map first, then "
                "channel 1's... Do not transpose the channels to the end before reshaping.",
                lambda c: when(c.x.shape[1] > 1, lambda: np.moveaxis(c.x, 1, -1).reshape(
                    c.x.shape[0], -1))),
        Variant("column_major", "each example is flattened in column-major (Fortran) order",
                "use NumPy's default row-major order: x.reshape(N, -1), not order='F' (the last "
                "index changes fastest).",
                lambda c: np.stack([xi.reshape(-1, order="F") for xi in c.x])),
        Variant("column_major", "the whole batch is reshaped in column-major (Fortran) order",
                "use NumPy's default row-major order: x.reshape(N, -1), not order='F'.",
                lambda c: c.x.reshape(c.x.shape[0], -1, order="F")),
    ],
))


# ---------------------------------------------------------------- linear
def _linear_case(rng, label, n, n_in, n_out):
    bias = int_values(rng, n_out, low=1, high=4) * rng.choice([-1.0, 1.0], size=n_out)
    return make_case(label, int_values(rng, (n, n_in)), int_values(rng, (n_out, n_in)), bias)


def _linear_cases(hidden):
    rng = seeded_rng("linear", hidden)
    cases = [
        _linear_case(rng, "1 example, 3 inputs, 2 outputs", 1, 3, 2),
        _linear_case(rng, "2 examples, 2 inputs, 2 outputs (square weight)", 2, 2, 2),
        _linear_case(rng, "3 examples, 4 inputs, 4 outputs (square weight)", 3, 4, 4),
        _linear_case(rng, "4 examples, 5 inputs, 3 outputs", 4, 5, 3),
        _linear_case(rng, "2 examples, 2 inputs, 5 outputs", 2, 2, 5),
    ]
    for k in range(4 if not hidden else 8):
        n, n_in = int(rng.integers(1, 5)), int(rng.integers(2, 6))
        n_out = n_in if k % 2 == 0 else int(rng.integers(2, 6))
        cases.append(_linear_case(rng, f"random: {n} examples, {n_in} inputs, {n_out} outputs",
                                  n, n_in, n_out))
    return cases


LINEAR = register(Exercise(
    "linear", LESSON, "linear", 1,
    signature="x, weight, bias",
    make_cases=_linear_cases,
    reference=lambda c: ops.linear(c.x, c.weight, c.bias),
    variants=[
        Variant("bias_missing", "the bias is not added", "every output unit adds its bias: "
                "x @ weight.T + bias.", lambda c: c.x @ c.weight.T),
        Variant("bias_subtracted", "the bias is subtracted instead of added",
                "add the bias: x @ weight.T + bias.", lambda c: c.x @ c.weight.T - c.bias),
        Variant("weight_not_transposed", "x is multiplied by weight, not by weight.T",
                "weight has PyTorch's layout (out_features, in_features): one row per output "
                "unit, so the product is x @ weight.T (it only runs without .T when weight is "
                "square, and then gives the wrong numbers).",
                lambda c: c.x @ c.weight + c.bias),
    ],
))


# ---------------------------------------------------------------- softmax
def _softmax_cases(hidden):
    rng = seeded_rng("softmax", hidden)
    iv = lambda *shape: int_values(rng, shape)  # noqa: E731
    near = np.array([[1000.0, 1001.0, 999.0, 1002.0], [1003.0, 1000.0, 1000.0, 998.0]])
    apart = np.array([[1000.0, 1002.0, 1001.0], [0.0, 2.0, 1.0]])
    apart_3d = np.stack([apart, apart[::-1] - 3.0]).transpose(0, 2, 1)  # (2, 3, 2), axis 1
    cases = [
        make_case("2×3 logits, default axis", iv(2, 3)),
        make_case("2×3 logits, axis=1", iv(2, 3), axis=1),
        make_case("3×4 logits, axis=-1", iv(3, 4), axis=-1),
        make_case("2×3×4 logits, axis=1", iv(2, 3, 4), axis=1),
        make_case("logits near 1000 (exp overflows)", near),
        make_case("one row 1000 below the other", apart),
        make_case("2×3×2, axis=1, slices 1000 apart", apart_3d, axis=1),
    ]
    for k in range(4 if not hidden else 8):
        if k % 2:
            shape, kw = (int(rng.integers(2, 4)), int(rng.integers(2, 5)), int(rng.integers(2, 4))), \
                dict(axis=1)
        else:
            shape, kw = (int(rng.integers(2, 5)), int(rng.integers(2, 6))), {}
        cases.append(make_case(f"random: z {shape}, axis {kw.get('axis', -1)}",
                               np.round(3 * rng.normal(size=shape), 2), **kw))
    return cases


def _other_axis(c, axis):
    """Softmax over ``axis`` instead of the case's (None where they are the same)."""
    ndim = c.z.ndim
    return when(axis % ndim != c.axis % ndim, lambda: ops.softmax(c.z, dim=axis))


_AXIS_HINT = ("normalise along the axis you are given: z.max(axis=axis, keepdims=True) and "
              "e.sum(axis=axis, keepdims=True), so that softmax(z, axis).sum(axis) is all ones.")

SOFTMAX = register(Exercise(
    "softmax", LESSON, "softmax", 2,
    signature="z, axis=-1",
    make_cases=_softmax_cases,
    reference=lambda c: ops.softmax(c.z, dim=c.axis),
    variants=[
        Variant("not_normalised", "exp(z - max) is not divided by its sum",
                "softmax divides each exponential by the sum of the exponentials along the axis: "
                "e / e.sum(axis=axis, keepdims=True); the results sum to 1.",
                lambda c: exp_normalised(c.z, c.axis, normalise=False)),
        Variant("no_max_subtraction", "the maximum is not subtracted, so exp overflows: large "
                "logits give inf / inf = nan",
                "exp(1000) is inf in float64. Subtract the maximum along the axis first: "
                "e = np.exp(z - z.max(axis=axis, keepdims=True)); softmax does not change, "
                "because the factor exp(-max) cancels.",
                lambda c: exp_normalised(c.z, c.axis, shift="none")),
        Variant("global_max", "the maximum of the whole array is subtracted, not the maximum of "
                "each slice: a slice far below the largest one underflows to 0 / 0 = nan",
                "subtract each slice's own maximum: z.max(axis=axis, keepdims=True), not "
                "z.max(); then every slice has an exp(0) = 1 in its sum.",
                lambda c: exp_normalised(c.z, c.axis, shift="global")),
        Variant("wrong_axis", "softmax is taken over axis 0 instead of the axis given",
                _AXIS_HINT, lambda c: _other_axis(c, 0)),
        Variant("wrong_axis", "softmax is always taken over the last axis (the axis argument is "
                "ignored)", _AXIS_HINT, lambda c: _other_axis(c, -1)),
        Variant("wrong_axis", "softmax is taken over axis 1 instead of the axis given",
                _AXIS_HINT, lambda c: _other_axis(c, 1)),
    ],
    hints={"input_modified": "z -= z.max(...) changes the caller's array; write "
                             "shifted = z - z.max(axis=axis, keepdims=True) instead."},
))


# ---------------------------------------------------------------- cross_entropy
def _ce_cases(hidden):
    rng = seeded_rng("cross_entropy", hidden)
    t = lambda *values: np.array(values, dtype=np.int64)  # noqa: E731
    cases = [
        make_case("1 example, 3 classes", np.array([[2.0, -1.0, 0.0]]), t(1)),
        make_case("2 examples, 3 classes", np.array([[1.0, 3.0, 0.0], [2.0, 0.0, -1.0]]), t(0, 2)),
        make_case("4 examples, 5 classes", int_values(rng, (4, 5)), t(4, 0, 2, 1)),
        make_case("logit gaps of 800: the right class far below", np.array(
            [[0.0, 800.0, -5.0], [3.0, -1.0, 0.0]]), t(0, 1)),
        make_case("logit gaps of 800 in two examples", np.array(
            [[-400.0, 400.0, 0.0], [1.0, 2.0, 3.0], [0.0, 0.0, 810.0]]), t(0, 2, 1)),
        make_case("logits near 1000 (exp overflows)", np.array(
            [[1000.0, 1001.0, 999.0], [1002.0, 1000.0, 1001.0]]), t(2, 1)),
        make_case("logits near 1000, 3 examples", np.array(
            [[998.0, 1000.0, 1003.0, 999.0], [1001.0, 1001.0, 1000.0, 1004.0],
             [1000.0, 999.0, 1002.0, 998.0]]), t(0, 2, 3)),
    ]
    for k in range(4 if not hidden else 8):
        n, classes = int(rng.integers(2, 7)), int(rng.integers(3, 6))
        cases.append(make_case(f"random: {n} examples, {classes} classes",
                               np.round(2 * rng.normal(size=(n, classes)), 2),
                               rng.integers(0, classes, size=n).astype(np.int64)))
    return cases


def _losses(c, target=None):
    """The per-example losses ``-log softmax(logits)[n, target[n]]`` (stable)."""
    target = c.target if target is None else target
    return -ops.log_softmax(c.logits, dim=1)[np.arange(len(target)), target]


def _picked(p, c):
    with np.errstate(all="ignore"):
        return float(-np.log(p[np.arange(len(c.target)), c.target]).mean())


def _lse_without_max(c):
    """log(sum(exp(logits))) - logits[target], without the max: log(inf) = inf."""
    with np.errstate(all="ignore"):
        lse = np.log(np.exp(c.logits).sum(axis=1))
        return float((lse - c.logits[np.arange(len(c.target)), c.target]).mean())


_MAX_HINT = ("exp(1000) is inf in float64. Compute log-softmax stably: shifted = logits - "
             "logits.max(axis=1, keepdims=True), then log_p = shifted - "
             "np.log(np.exp(shifted).sum(axis=1, keepdims=True)).")

CROSS_ENTROPY = register(Exercise(
    "cross_entropy", LESSON, "cross_entropy", 2,
    signature="logits, target",
    make_cases=_ce_cases,
    reference=lambda c: float(_losses(c).mean()),
    output_kind="value",
    variants=[
        Variant("log_of_zero", "log(softmax(...)) is taken: a probability that underflows to 0 "
                "gives log(0) = -inf, an infinite loss where the right one is finite",
                "do not take the log of the probabilities; compute log-softmax directly: "
                "log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)) with "
                "shifted = logits - logits.max(axis=1, keepdims=True). It is finite even where "
                "softmax underflows.", lambda c: _picked(exp_normalised(c.logits, 1), c)),
        Variant("no_max_subtraction", "the maximum is not subtracted, so exp overflows: large "
                "logits give nan", _MAX_HINT,
                lambda c: _picked(exp_normalised(c.logits, 1, shift="none"), c)),
        Variant("no_max_subtraction", "the maximum is not subtracted, so exp overflows: "
                "log(sum(exp(logits))) is inf for large logits", _MAX_HINT, _lse_without_max),
        Variant("sum_not_mean", "the losses are summed over the batch, not averaged",
                "cross-entropy (like torch.nn.functional.cross_entropy) is the MEAN over the "
                "batch: divide the sum by N, or use .mean().",
                lambda c: float(_losses(c).sum())),
        Variant("per_example_losses", "the per-example losses are returned, not their mean",
                "return one number, the mean of the N per-example losses: losses.mean().",
                lambda c: _losses(c)),
        Variant("no_minus_sign", "the minus sign is missing: the loss is negative",
                "the loss is MINUS the log-probability of the right class, -log p >= 0: "
                "-log_p[np.arange(N), target].mean().", lambda c: float(-_losses(c).mean())),
        Variant("wrong_class", "the probability of the predicted (arg-max) class is used, not "
                "that of the target class",
                "pick each example's target class: log_p[np.arange(N), target], not the largest "
                "logit or logits.argmax(axis=1).",
                lambda c: float(_losses(c, c.logits.argmax(axis=1)).mean())),
    ],
))


# ---------------------------------------------------------------- mlp_parameters
def _mlp_cases(hidden):
    rng = seeded_rng("mlp_parameters", hidden)
    cases = [make_case(str(sizes), sizes) for sizes in (
        [784, 256, 128, 10], [3, 2], [256, 120, 84, 10], [2, 5, 3], [100, 10])]
    for k in range(4 if not hidden else 8):
        sizes = [int(v) for v in rng.integers(1, 300, size=int(rng.integers(2, 6)))]
        cases.append(make_case(f"random: {sizes}", sizes))
    return cases


def _per_layer(count):
    return lambda c: sum(count(a, b) for a, b in zip(c.sizes[:-1], c.sizes[1:]))


MLP_PARAMETERS = register(Exercise(
    "mlp_parameters", LESSON, "mlp_parameters", 1,
    signature="sizes",
    make_cases=_mlp_cases,
    reference=lambda c: dense_parameters(c.sizes),
    output_kind="int",
    variants=[
        Variant("bias_counted_once", "each layer is counted with one bias (a*b + 1)",
                "a layer from a inputs to b units has a*b weights and b biases, one per unit: "
                "a*b + b.", _per_layer(lambda a, b: a * b + 1)),
        Variant("bias_forgotten", "the biases are left out (a*b per layer)",
                "every unit also has a bias: a*b + b per layer.", _per_layer(lambda a, b: a * b)),
        Variant("bias_on_inputs", "the biases are counted per input (a*b + a), not per unit",
                "the bias belongs to the output unit: a layer from a to b has b biases, a*b + b.",
                _per_layer(lambda a, b: a * b + a)),
    ],
))


# ---------------------------------------------------------------- small_cnn_forward
def _cnn_case(rng, label, n, channels, size, filters, classes, k=3, bias_shift=0.0):
    """A case ``(x, params)``; its size counts the arrays of ``params`` too."""
    h, w = size
    ph, pw = (h - k + 1) // 2, (w - k + 1) // 2
    params = {
        "conv.weight": int_values(rng, (filters, channels, k, k), low=-2, high=3),
        "conv.bias": int_values(rng, filters, low=1, high=4) * rng.choice([-1.0, 1.0], filters)
        + bias_shift,
        "fc.weight": int_values(rng, (classes, filters * ph * pw), low=-2, high=3),
        "fc.bias": int_values(rng, classes, low=1, high=4) * rng.choice([-1.0, 1.0], classes),
    }
    case = make_case(label, int_values(rng, (n, channels, h, w), low=-2, high=3), params)
    return replace(case, size=case.size + sum(v.size for v in params.values()))


def _cnn_cases(hidden):
    rng = seeded_rng("small_cnn_forward", hidden)
    cases = [
        _cnn_case(rng, "1 image, 1 channel, 6×6, 2 filters, 3 classes", 1, 1, (6, 6), 2, 3),
        _cnn_case(rng, "2 images, 2 channels, 7×7 (the pool drops a row and a column), "
                  "3 filters, 4 classes", 2, 2, (7, 7), 3, 4),
        _cnn_case(rng, "1 image, 1 channel, 6×8, 2 filters, 3 classes", 1, 1, (6, 8), 2, 3),
        _cnn_case(rng, "2 images, 2 channels, 8×8, 3 filters, 3 classes, negative conv biases",
                  2, 2, (8, 8), 3, 3, bias_shift=-3.0),
    ]
    for k in range(3 if not hidden else 6):
        n, channels, filters = (int(v) for v in rng.integers(1, 3, size=3))
        filters += 1
        size = (int(rng.integers(6, 9)), int(rng.integers(6, 9)))
        classes = int(rng.integers(3, 5))
        cases.append(_cnn_case(rng, f"random: {n} images, {channels} channels, {size[0]}×{size[1]}, "
                               f"{filters} filters, {classes} classes", n, channels, size, filters,
                               classes))
    return cases


def _cnn(c, flip=False, conv_bias=True, relu=True, channels_last=False, fc_bias=True,
         probabilities=False):
    """The reference forward pass, or one of the known mistakes."""
    p = c.params
    weight = p["conv.weight"][..., ::-1, ::-1] if flip else p["conv.weight"]
    h = ops.conv2d(c.x, weight, p["conv.bias"] if conv_bias else None)
    h = ops.relu(h) if relu else h
    h = ops.max_pool2d(h, 2, 2)
    h = np.moveaxis(h, 1, -1) if channels_last else h
    logits = ops.linear(h.reshape(h.shape[0], -1), p["fc.weight"], p["fc.bias"] if fc_bias else None)
    return ops.softmax(logits, dim=1) if probabilities else logits


SMALL_CNN_FORWARD = register(Exercise(
    "small_cnn_forward", LESSON, "small_cnn_forward", 3,
    signature="x, params",
    make_cases=_cnn_cases,
    reference=_cnn,
    variants=[
        Variant("softmax_applied", "softmax is applied: the output is probabilities, not logits",
                "return the raw scores (logits) of the last linear layer; softmax (and the "
                "loss) come after the network, as with torch.nn.functional.cross_entropy.",
                lambda c: _cnn(c, probabilities=True)),
        Variant("kernel_flipped", "the kernel is flipped: a true convolution, not a "
                "cross-correlation", "conv2d (like torch's) uses the kernel as it is: "
                "out[n, f, i, j] = bias[f] + sum over c, u, v of x[n, c, i + u, j + v] * "
                "weight[f, c, u, v]. Do not flip it.", lambda c: _cnn(c, flip=True)),
        Variant("wrong_flatten_order", "the pooled maps are flattened channels-last, so the "
                "fc weights no longer line up", "flatten the (N, F, PH, PW) maps in C order: "
                "h.reshape(N, -1), channel 0's whole map first; do not move the channels to "
                "the end first.", lambda c: _cnn(c, channels_last=True)),
        Variant("relu_missing", "there is no ReLU after the convolution",
                "apply ReLU, np.maximum(h, 0), to the convolution's output before pooling.",
                lambda c: _cnn(c, relu=False)),
        Variant("conv_bias_missing", "the convolution's bias is not added",
                "add params['conv.bias'][f] to every output of filter f (before the ReLU): "
                "out += bias[None, :, None, None].", lambda c: _cnn(c, conv_bias=False)),
        Variant("fc_bias_missing", "the dense layer's bias is not added",
                "the logits are h @ params['fc.weight'].T + params['fc.bias'].",
                lambda c: _cnn(c, fc_bias=False)),
    ],
))
