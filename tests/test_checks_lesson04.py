"""Tests of cnncourse.checks.lesson04: every diagnosis of ``flatten``, ``linear``, ``softmax``,
``cross_entropy``, ``mlp_parameters`` and ``small_cnn_forward`` is triggered by a learner-style
wrong implementation; correct ones (NumPy only, as the lesson's solutions) pass."""
from __future__ import annotations

import numpy as np
import pytest

from _checks import assert_diagnosis, lesson_tests, verdict_of

LESSON = "04_fully_connected"


# ------------------------------------------------------------------ flatten
def flatten_impl(mistake=None):
    def flatten(x):
        n = x.shape[0]
        if mistake == "batch_flattened":
            return x.reshape(-1)
        if mistake == "channels_last_order":
            return np.moveaxis(x, 1, -1).reshape(n, -1)
        if mistake == "column_major":
            return np.stack([x[i].reshape(-1, order="F") for i in range(n)])
        return x.reshape(n, -1)
    return flatten


def flatten_loops(x):
    """Correct, with loops: C order, the last index fastest."""
    out = np.zeros((x.shape[0], int(np.prod(x.shape[1:]))))
    for n in range(x.shape[0]):
        for j, index in enumerate(np.ndindex(*x.shape[1:])):
            out[n, j] = x[(n, *index)]
    return out


# ------------------------------------------------------------------ linear
def linear_impl(mistake=None):
    def linear(x, weight, bias):
        if mistake == "weight_not_transposed":
            return x @ weight + bias
        out = x @ weight.T
        if mistake == "bias_missing":
            return out
        return out - bias if mistake == "bias_subtracted" else out + bias
    return linear


def linear_loops(x, weight, bias):
    out = np.zeros((x.shape[0], weight.shape[0]))
    for n in range(x.shape[0]):
        for o in range(weight.shape[0]):
            out[n, o] = bias[o] + sum(x[n, i] * weight[o, i] for i in range(x.shape[1]))
    return out


# ------------------------------------------------------------------ softmax
def softmax_impl(mistake=None):
    def softmax(z, axis=-1):
        if mistake == "wrong_axis":
            axis = 0
        if mistake == "input_modified":
            z -= z.max(axis=axis, keepdims=True)
            shifted = z
        elif mistake == "no_max_subtraction":
            shifted = z
        elif mistake == "global_max":
            shifted = z - np.max(z)
        else:
            shifted = z - z.max(axis=axis, keepdims=True)
        e = np.exp(shifted)
        if mistake == "not_normalised":
            return e
        return e / e.sum(axis=axis, keepdims=True)
    return softmax


def softmax_last_axis_only(z, axis=-1):
    """Ignores ``axis``: right on 2-D inputs, wrong on the 3-D ones."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_moveaxis(z, axis=-1):
    """Correct, written differently: move the axis to the end, one slice at a time."""
    moved = np.moveaxis(z, axis, -1)
    out = np.empty_like(moved)
    for index in np.ndindex(*moved.shape[:-1]):
        row = moved[index]
        e = np.exp(row - row.max())
        out[index] = e / e.sum()
    return np.moveaxis(out, -1, axis)


# ------------------------------------------------------------------ cross_entropy
def ce_impl(mistake=None):
    def cross_entropy(logits, target):
        n = logits.shape[0]
        rows = np.arange(n)
        if mistake in ("log_of_zero", "no_max_subtraction"):
            shifted = logits if mistake == "no_max_subtraction" else \
                logits - logits.max(axis=1, keepdims=True)
            p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
            return -np.mean(np.log(p[rows, target]))
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        if mistake == "wrong_class":
            return -np.mean(log_p.max(axis=1))
        losses = -log_p[rows, target]
        if mistake == "sum_not_mean":
            return losses.sum()
        if mistake == "per_example_losses":
            return losses
        if mistake == "no_minus_sign":
            return np.mean(log_p[rows, target])
        return losses.mean()
    return cross_entropy


def ce_logsumexp_without_max(logits, target):
    """no_max_subtraction in its other form: log(sum(exp(logits))) overflows to inf."""
    lse = np.log(np.exp(logits).sum(axis=1))
    return float(np.mean(lse - logits[np.arange(len(target)), target]))


def ce_loop(logits, target):
    """Correct, one example at a time, as a Python float."""
    total = 0.0
    for row, t in zip(logits, target):
        m = row.max()
        total += m + np.log(np.sum(np.exp(row - m))) - row[t]
    return float(total / len(target))


# ------------------------------------------------------------------ mlp_parameters
def mlp_impl(mistake=None):
    def mlp_parameters(sizes):
        total = 0
        for a, b in zip(sizes[:-1], sizes[1:]):
            if mistake == "bias_counted_once":
                total += a * b + 1
            elif mistake == "bias_forgotten":
                total += a * b
            elif mistake == "bias_on_inputs":
                total += a * b + a
            else:
                total += a * b + b
        return total
    return mlp_parameters


def mlp_numpy(sizes):
    s = np.array(sizes)
    return int(np.sum(s[:-1] * s[1:] + s[1:]))


# ------------------------------------------------------------------ small_cnn_forward
def cnn_impl(mistake=None):
    def small_cnn_forward(x, params):
        w, b = params["conv.weight"], params["conv.bias"]
        if mistake == "kernel_flipped":
            w = w[:, :, ::-1, ::-1]
        n, _, height, width = x.shape
        f, _, k, _ = w.shape
        oh, ow = height - k + 1, width - k + 1
        h = np.zeros((n, f, oh, ow))
        for i in range(oh):
            for j in range(ow):
                window = x[:, :, i:i + k, j:j + k]
                h[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
        if mistake != "conv_bias_missing":
            h += b[None, :, None, None]
        if mistake != "relu_missing":
            h = np.maximum(h, 0)
        ph, pw = oh // 2, ow // 2
        pooled = h[:, :, :2 * ph, :2 * pw].reshape(n, f, ph, 2, pw, 2).max(axis=(3, 5))
        if mistake == "wrong_flatten_order":
            flat = pooled.transpose(0, 2, 3, 1).reshape(n, -1)
        else:
            flat = pooled.reshape(n, -1)
        logits = flat @ params["fc.weight"].T
        if mistake != "fc_bias_missing":
            logits = logits + params["fc.bias"]
        if mistake == "softmax_applied":
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        return logits
    return small_cnn_forward


def cnn_loops(x, params):
    """Correct, written with explicit loops over every output."""
    w, b = params["conv.weight"], params["conv.bias"]
    n, c, height, width = x.shape
    f, _, k, _ = w.shape
    oh, ow = height - k + 1, width - k + 1
    ph, pw = oh // 2, ow // 2
    pooled = np.zeros((n, f, ph, pw))
    for m in range(n):
        conv = np.zeros((f, oh, ow))
        for g in range(f):
            for i in range(oh):
                for j in range(ow):
                    conv[g, i, j] = max(0.0, b[g] + np.sum(x[m, :, i:i + k, j:j + k] * w[g]))
        for g in range(f):
            for i in range(ph):
                for j in range(pw):
                    pooled[m, g, i, j] = conv[g, 2 * i:2 * i + 2, 2 * j:2 * j + 2].max()
    return pooled.reshape(n, -1) @ params["fc.weight"].T + params["fc.bias"]


# ------------------------------------------------------------------ the lesson's solutions
# NumPy only (the grader's integrity check flags a solution that calls the course's reference).
def flatten_solution(x):
    return x.reshape(x.shape[0], -1)


def linear_solution(x, weight, bias):
    return x @ weight.T + bias


def softmax_solution(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def cross_entropy_solution(logits, target):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(target)), target].mean()


def mlp_parameters_solution(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def small_cnn_forward_solution(x, params):
    w, b = params["conv.weight"], params["conv.bias"]
    n, k = x.shape[0], w.shape[-1]
    oh, ow = x.shape[2] - k + 1, x.shape[3] - k + 1
    h = np.zeros((n, w.shape[0], oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, i:i + k, j:j + k]                      # (N, C, K, K)
            h[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    h = np.maximum(h + b[None, :, None, None], 0)                 # bias, ReLU
    ph, pw = oh // 2, ow // 2
    h = h[:, :, :2 * ph, :2 * pw].reshape(n, -1, ph, 2, pw, 2).max(axis=(3, 5))  # 2×2 max-pool
    return h.reshape(n, -1) @ params["fc.weight"].T + params["fc.bias"]


WRONG = {
    "flatten": {k: flatten_impl(k) for k in (
        "batch_flattened", "channels_last_order", "column_major")},
    "linear": {k: linear_impl(k) for k in (
        "bias_missing", "weight_not_transposed", "bias_subtracted")},
    "softmax": {k: softmax_impl(k) for k in (
        "wrong_axis", "no_max_subtraction", "global_max", "not_normalised", "input_modified")},
    "cross_entropy": {k: ce_impl(k) for k in (
        "log_of_zero", "sum_not_mean", "per_example_losses", "no_minus_sign", "wrong_class",
        "no_max_subtraction")},
    "mlp_parameters": {k: mlp_impl(k) for k in (
        "bias_counted_once", "bias_forgotten", "bias_on_inputs")},
    "small_cnn_forward": {k: cnn_impl(k) for k in (
        "wrong_flatten_order", "relu_missing", "kernel_flipped", "conv_bias_missing",
        "fc_bias_missing", "softmax_applied")},
}

CORRECT = {
    "flatten": [flatten_solution, flatten_impl(), flatten_loops],
    "linear": [linear_solution, linear_impl(), linear_loops],
    "softmax": [softmax_solution, softmax_impl(), softmax_moveaxis],
    "cross_entropy": [cross_entropy_solution, ce_impl(), ce_loop],
    "mlp_parameters": [mlp_parameters_solution, mlp_impl(), mlp_numpy],
    "small_cnn_forward": [small_cnn_forward_solution, cnn_impl(), cnn_loops],
}

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow mistakes warn

(test_wrong_implementation_gets_its_diagnosis, test_correct_implementations_pass,
 test_every_exercise_and_diagnosis_is_tested) = lesson_tests(LESSON, WRONG, CORRECT)


# ------------------------------------------------------------------ the other forms of mistakes
@pytest.mark.parametrize("exercise_id, fn, key", [
    ("flatten", lambda x: x.reshape(x.shape[0], -1, order="F"), "column_major"),
    ("softmax", softmax_last_axis_only, "wrong_axis"),
    ("cross_entropy", ce_logsumexp_without_max, "no_max_subtraction"),
], ids=["flatten-whole-batch-F", "softmax-axis-ignored", "cross_entropy-logsumexp-no-max"])
def test_other_forms_of_a_mistake_get_its_diagnosis(exercise_id, fn, key):
    assert_diagnosis(exercise_id, fn, key)


def test_stable_mistakes_show_on_the_large_logit_cases():
    """The overflow cases are there: the unstable softmax gives nan where the right one is finite,
    the stable softmax followed by log gives an infinite loss where the right one is finite."""
    from cnncourse.checks import get_exercise

    softmax = get_exercise("softmax")
    with np.errstate(all="ignore"):
        broken = [c for c in softmax.cases() if np.isnan(softmax_impl("no_max_subtraction")(c.z, c.axis)).any()]
    assert len(broken) >= 2 and all(np.isfinite(softmax.reference(c)).all() for c in broken)
    ce = get_exercise("cross_entropy")
    with np.errstate(all="ignore"):
        infinite = [c for c in ce.cases() if np.isinf(ce_impl("log_of_zero")(c.logits, c.target))]
    assert len(infinite) >= 2 and all(np.isfinite(ce.reference(c)) for c in infinite)


def test_every_cnn_mistake_shows_on_one_case():
    from cnncourse.checks import get_exercise
    from cnncourse.checks.diagnose import same

    ex = get_exercise("small_cnn_forward")
    showing = [c for c in ex.cases() if all(not same(v.compute(c), ex.reference(c))
                                            for v in ex.variants)]
    assert showing, "no case on which every known mistake of small_cnn_forward shows"


def test_reference_matches_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    from cnncourse.checks import get_exercise

    t = torch.from_numpy
    for c in get_exercise("small_cnn_forward").cases():
        p = {k: t(v.copy()) for k, v in c.params.items()}
        h = F.max_pool2d(F.relu(F.conv2d(t(c.x), p["conv.weight"], p["conv.bias"])), 2)
        want = F.linear(torch.flatten(h, 1), p["fc.weight"], p["fc.bias"]).numpy()
        np.testing.assert_allclose(get_exercise("small_cnn_forward").reference(c), want, rtol=1e-12)
    for c in get_exercise("cross_entropy").cases():
        want = F.cross_entropy(t(c.logits), t(c.target)).item()
        assert np.isclose(get_exercise("cross_entropy").reference(c), want, rtol=1e-12)
    for c in get_exercise("softmax").cases():
        np.testing.assert_allclose(get_exercise("softmax").reference(c),
                                   torch.softmax(t(c.z), dim=c.axis).numpy(), rtol=1e-12)
    for c in get_exercise("flatten").cases():
        np.testing.assert_array_equal(get_exercise("flatten").reference(c),
                                      torch.flatten(t(c.x), 1).numpy())


def test_parameter_counts_are_those_of_torch_layers():
    torch = pytest.importorskip("torch")
    from cnncourse.checks import get_exercise

    for c in get_exercise("mlp_parameters").cases():
        layers = [torch.nn.Linear(a, b) for a, b in zip(c.sizes[:-1], c.sizes[1:])]
        assert get_exercise("mlp_parameters").reference(c) == sum(
            p.numel() for layer in layers for p in layer.parameters())
    assert get_exercise("q04_dense_params").reference(None) == 30_840
    assert get_exercise("q04_gap_params").reference(None) == 170


def test_numbers_and_dicts_are_compared_as_lesson_4_needs():
    """cross_entropy's answer is a number: a 0-d array counts as one, nan matches nan (so the
    overflow mistake is named), and an array of losses is a wrong answer, not a crash;
    small_cnn_forward's params, a dict of arrays, compare key by key."""
    from cnncourse.checks.diagnose import same

    assert same(np.array(0.5), 0.5) and same(float("nan"), float("nan"))
    assert not same(np.array([0.5, 0.5]), 0.5) and not same(float("nan"), 0.5)
    params = {"w": np.ones(2), "b": np.zeros(1)}
    assert same(dict(params), params) and not same({"w": np.ones(2)}, params)
    assert not same({"w": np.ones(2), "b": np.ones(1)}, params)
    assert verdict_of("cross_entropy", lambda logits, target: np.array(ce_loop(logits, target))).passed


@pytest.mark.parametrize("hidden", [False, True])
def test_every_case_crosses_the_grader_wire(hidden):
    """The batch grader sends the cases to the learner's kernel: small_cnn_forward's params dict
    arrives as the same dict of arrays."""
    from cnncourse.checks import exercises
    from cnncourse.checks.diagnose import same
    from cnncourse.grading import wire
    from cnncourse.grading.transport import encode_cases

    for ex in exercises(LESSON):
        cases = ex.cases(hidden=hidden)
        reader = wire.Reader(encode_cases(cases))
        assert reader.next() == {"cases": len(cases)}
        for case in cases:
            header = reader.next()
            args = tuple(wire.decode(s, reader) for s in header["args"])
            kwargs = {k: wire.decode(s, reader) for k, s in header["kwargs"].items()}
            assert same(args, case.args) and same(kwargs, case.kwargs), (ex.id, case.label)
