"""Checks for lesson 05 (training a CNN): the predictions ``q05_lr_too_high`` and
``q05_adam_first_step``, and the exercises ``error_rate``, ``confusion_matrix``,
``sgd_momentum_step``, ``adam_step`` and ``train_step``.

The trusted references are the course's engine: :mod:`cnncourse.metrics` for the error rate
and the confusion matrix, :mod:`cnncourse.optim` (which takes torch's steps exactly) for the
optimizer updates, and :mod:`cnncourse.nn` layers with :class:`cnncourse.optim.SGD` for the
training step. Every case is small and fixed, so a check runs in milliseconds.
"""
from __future__ import annotations

import numpy as np

from .. import metrics
from .core import Exercise, Variant, int_values, make_case, register, seeded_rng, when
from .predictions import Prediction, wrong_answer

__all__ = ["Q05_LR_TOO_HIGH", "Q05_ADAM_FIRST_STEP", "ERROR_RATE", "CONFUSION_MATRIX",
           "SGD_MOMENTUM_STEP", "ADAM_STEP", "TRAIN_STEP", "descend"]

LESSON = "05_training"


# ---------------------------------------------------------------- predictions
def descend(w0: float, lr: float, steps: int, target: float = 3.0) -> float:
    """Gradient descent on ``loss(w) = (w - target)**2`` from ``w0``: ``w -= lr * 2 * (w - target)``."""
    w = w0
    for _ in range(steps):
        w -= lr * 2 * (w - target)
    return w


Q05_LR_TOO_HIGH = register(Prediction(
    "q05_lr_too_high", LESSON,
    "Gradient descent on loss(w) = (w - 3)**2 from w = 0 with learning rate 1.5: what is w "
    "after 3 steps?",
    lambda: descend(0.0, 1.5, 3),
    "each step is w -= 1.5 * 2 * (w - 3), so the distance to 3 is multiplied by 1 - 3 = -2: "
    "-3, then 6, then -12, then 24, and w = 3 + 24 = 27. The steps overshoot the minimum and "
    "grow: the loss explodes.",
    wrong=[
        wrong_answer("converges", "a large learning rate is taken to reach the minimum faster", 3,
                     "A step larger than the valley itself jumps over the minimum."),
        wrong_answer("one_step_overshoot", "only the first step is taken (w = 0 + 1.5 * 6)", 9,
                     "Take all three steps; each starts where the last one ended."),
        wrong_answer("sign_of_step", "the steps go uphill (w += lr * gradient)",
                     descend(0.0, -1.5, 3), "Gradient descent moves against the gradient."),
    ]))


def _adam_first_step(g: float = 0.5, lr: float = 0.01) -> float:
    from ..nn import Parameter
    from ..optim import Adam

    p = Parameter(np.array([1.0]))
    p.grad[...] = g
    Adam([p], lr=lr).step()
    return round(float(1.0 - p.data[0]), 6)


Q05_ADAM_FIRST_STEP = register(Prediction(
    "q05_adam_first_step", LESSON,
    "Adam with lr=0.01 (default betas and eps) takes its first step on a parameter whose "
    "gradient is 0.5: by how much does the parameter decrease?",
    lambda: _adam_first_step(),
    "on the first step the bias-corrected averages are m_hat = g and v_hat = g**2, so the step "
    "is lr * g / (|g| + eps) = lr: 0.01, whatever the size of the gradient.",
    tolerance=1e-4,
    wrong=[
        wrong_answer("sgd_step", "the step is taken to be lr * gradient, as in SGD", 0.005,
                     "Adam divides by the root of the running mean of g**2: the size of g cancels."),
        wrong_answer("no_bias_correction", "the bias correction is left out",
                     0.01 * 0.1 / np.sqrt(0.001),
                     "Without bias correction m = 0.1 * g and sqrt(v) = sqrt(0.001) * |g| on the "
                     "first step; dividing by 1 - beta**t undoes that."),
    ]))


# ---------------------------------------------------------------- error_rate
def _label_cases(exercise_id, hidden, count):
    rng = seeded_rng(exercise_id, hidden)
    cases = [
        make_case("4 digits, 1 wrong", np.array([3, 1, 4, 1]), np.array([3, 1, 4, 7])),
        make_case("all right", np.array([0, 1, 2]), np.array([0, 1, 2])),
        make_case("all wrong", np.array([0, 1]), np.array([1, 0])),
    ]
    for k in range(count if not hidden else 2 * count):
        n = int(rng.integers(5, 13))
        labels = rng.integers(0, 4, n)
        pred = np.where(rng.random(n) < 0.7, labels, rng.integers(0, 4, n))
        cases.append(make_case(f"random: {n} examples of 4 classes, {k}", labels, pred))
    return cases


ERROR_RATE = register(Exercise(
    "error_rate", LESSON, "error_rate", 1,
    signature="labels, pred",
    make_cases=lambda hidden: _label_cases("error_rate", hidden, 5),
    reference=lambda c: metrics.error_rate(c.pred, c.labels).rate,
    output_kind="value",
    variants=[
        Variant("accuracy_not_error", "computes the accuracy (the share right), not the error rate",
                "the error rate is the share of examples predicted wrongly: "
                "np.mean(pred != labels) = 1 - accuracy.",
                lambda c: float(np.mean(c.pred == c.labels))),
        Variant("percent", "returns a percentage (0-100) instead of a fraction (0-1)",
                "return the fraction, e.g. 0.25 for one error in four; print it as a percentage "
                "with f'{rate:.1%}'.", lambda c: 100 * float(np.mean(c.pred != c.labels))),
        Variant("count_not_rate", "returns the number of errors, not divided by the number of "
                "examples", "divide the number of errors by len(labels).",
                lambda c: float(np.sum(c.pred != c.labels))),
    ],
))


# ---------------------------------------------------------------- confusion_matrix
def _confusion_cases(hidden):
    cases = [
        make_case("3 classes, every kind of mistake once", np.array([0, 0, 1, 2, 2, 2]),
                  np.array([0, 1, 1, 2, 0, 2]), 3),
        make_case("the same mistake twice (the counts must add up)", np.array([1, 1, 1, 0]),
                  np.array([0, 0, 1, 0]), 2),
        make_case("class 3 never seen (num_classes=4)", np.array([0, 1, 2, 0]),
                  np.array([0, 2, 2, 1]), 4),
    ]
    rng = seeded_rng("confusion_matrix", hidden)
    for k in range(5 if not hidden else 10):
        n = int(rng.integers(6, 15))
        labels = rng.integers(0, 4, n)
        pred = np.where(rng.random(n) < 0.5, labels, rng.integers(0, 4, n))
        cases.append(make_case(f"random: {n} examples, 5 classes, {k}", labels, pred, 5))
    return cases


def _no_accumulate(c):
    cm = np.zeros((c.num_classes, c.num_classes), dtype=np.int64)
    cm[c.labels, c.pred] += 1            # fancy indexing: repeated pairs count once
    return cm


CONFUSION_MATRIX = register(Exercise(
    "confusion_matrix", LESSON, "confusion_matrix", 2,
    signature="labels, pred, num_classes",
    make_cases=_confusion_cases,
    reference=lambda c: metrics.confusion_matrix(c.labels, c.pred, c.num_classes),
    variants=[
        Variant("transposed", "the matrix is transposed: rows are predictions, columns true classes",
                "M[i, j] counts examples of TRUE class i PREDICTED as j: M[labels[k], pred[k]] += 1, "
                "rows first by the true label.",
                lambda c: metrics.confusion_matrix(c.labels, c.pred, c.num_classes).T.copy()),
        Variant("fancy_index_no_accumulate", "repeated (true, predicted) pairs are counted once "
                "(M[labels, pred] += 1 with arrays)",
                "with index arrays, M[labels, pred] += 1 adds 1 once per distinct pair, not once per "
                "example: loop over the examples, or use np.add.at(M, (labels, pred), 1).",
                _no_accumulate),
        Variant("num_classes_ignored", "the size comes from the largest label seen, not num_classes",
                "make the matrix (num_classes, num_classes): a class missing from this batch still "
                "has its row and column.",
                lambda c: when(max(c.labels.max(), c.pred.max()) + 1 < c.num_classes,
                               lambda: metrics.confusion_matrix(c.labels, c.pred))),
    ],
    hints={"wrong_dtype": "counts are integers: np.zeros((num_classes, num_classes), dtype=np.int64)."},
))


# ---------------------------------------------------------------- sgd_momentum_step
def _sgd_cases(hidden):
    rng = seeded_rng("sgd_momentum_step", hidden)
    cases = [
        make_case("first step (velocity 0)", np.array([1.0, -2.0]), np.array([0.5, 1.0]),
                  np.zeros(2), 0.1, 0.9),
        make_case("a later step", np.array([1.0, -2.0]), np.array([0.5, 1.0]),
                  np.array([2.0, -1.0]), 0.1, 0.9),
        make_case("momentum 0.5, a 2×2 weight", np.array([[1.0, 0.0], [2.0, -1.0]]),
                  np.array([[1.0, -1.0], [0.0, 2.0]]), np.array([[1.0, 1.0], [-2.0, 0.0]]), 0.5, 0.5),
    ]
    for k in range(5 if not hidden else 10):
        shape = tuple(int(s) for s in rng.integers(1, 4, size=int(rng.integers(1, 3))))
        cases.append(make_case(f"random {shape}, {k}", int_values(rng, shape), int_values(rng, shape),
                               int_values(rng, shape), float(rng.choice([0.1, 0.01, 0.5])),
                               float(rng.choice([0.9, 0.5, 0.99]))))
    return cases


def _sgd(c):
    """The course's optim.SGD, its momentum buffer set to ``velocity`` (as after earlier steps;
    a zero velocity is the first step, where torch starts the buffer at the gradient)."""
    from ..nn import Parameter
    from ..optim import SGD

    p = Parameter(c.param.copy())
    p.grad[...] = c.grad
    opt = SGD([p], lr=c.lr, momentum=c.momentum)
    if np.any(c.velocity):
        opt.state[p] = {"momentum_buffer": c.velocity.copy()}
    opt.step()
    return p.data, opt.state[p]["momentum_buffer"].copy()


SGD_MOMENTUM_STEP = register(Exercise(
    "sgd_momentum_step", LESSON, "sgd_momentum_step", 2,
    signature="param, grad, velocity, lr, momentum",
    make_cases=_sgd_cases,
    reference=_sgd,
    output_kind="value",
    variants=[
        Variant("momentum_after_update", "the parameter moves with the OLD velocity, updated "
                "only afterwards", "first update the velocity, then move: velocity = momentum * "
                "velocity + grad; param = param - lr * velocity (the new velocity).",
                lambda c: (c.param - c.lr * c.velocity, c.momentum * c.velocity + c.grad)),
        Variant("momentum_after_update", "the parameter moves with the gradient only; the velocity "
                "is updated but never used", "the step uses the velocity: param - lr * velocity, "
                "after velocity = momentum * velocity + grad.",
                lambda c: (c.param - c.lr * c.grad, c.momentum * c.velocity + c.grad)),
        Variant("ema_velocity", "the velocity is an average: momentum * velocity + (1 - momentum) "
                "* grad", "torch's (and the course's) momentum adds the whole gradient: "
                "velocity = momentum * velocity + grad (that is dampening=0).",
                lambda c: (c.param - c.lr * (c.momentum * c.velocity + (1 - c.momentum) * c.grad),
                           c.momentum * c.velocity + (1 - c.momentum) * c.grad)),
        Variant("lr_in_velocity", "the learning rate is folded into the velocity (velocity = "
                "momentum * velocity + lr * grad)", "here the velocity is in gradient units, as in "
                "torch: velocity = momentum * velocity + grad; the learning rate multiplies it only "
                "in the update, param - lr * velocity.",
                lambda c: (c.param - (c.momentum * c.velocity + c.lr * c.grad),
                           c.momentum * c.velocity + c.lr * c.grad)),
        Variant("velocity_not_updated", "the old velocity is returned instead of the new one",
                "return the velocity you computed, so that the next step builds on it.",
                lambda c: (c.param - c.lr * (c.momentum * c.velocity + c.grad), c.velocity.copy())),
    ],
    hints={"input_modified": "param -= ... or velocity *= ... changes the caller's arrays; build "
                             "new ones: param = param - lr * velocity."},
))


# ---------------------------------------------------------------- adam_step
def _adam_cases(hidden):
    rng = seeded_rng("adam_step", hidden)
    cases = [
        make_case("first step (t=1, m = v = 0)", np.array([1.0, -1.0, 0.5]),
                  np.array([0.5, -2.0, 1.0]), np.zeros(3), np.zeros(3), 1),
        make_case("first step, a large eps = 0.5 (where eps is added shows)",
                  np.array([1.0, -1.0, 0.5]), np.array([0.5, -2.0, 1.0]), np.zeros(3),
                  np.zeros(3), 1, lr=0.1, eps=0.5),
        make_case("second step", np.array([1.0, -1.0]), np.array([1.0, 2.0]),
                  np.array([0.1, 0.2]), np.array([0.001, 0.004]), 2, lr=0.1),
        make_case("step 10, eps = 0.25", np.array([0.5, 2.0]), np.array([1.0, -2.0]),
                  np.array([0.5, -1.0]), np.array([0.01, 0.04]), 10, lr=0.1, eps=0.25),
    ]
    for k in range(4 if not hidden else 8):
        n = int(rng.integers(2, 5))
        t = int(rng.choice([1, 2, 3, 50]))
        v = np.abs(int_values(rng, n)) / 100 if t > 1 else np.zeros(n)
        m = int_values(rng, n) / 10 if t > 1 else np.zeros(n)
        cases.append(make_case(f"random: {n} values, step {t}, {k}", int_values(rng, n),
                               int_values(rng, n) / 2, m, v, t, lr=float(rng.choice([0.1, 0.01]))))
    return cases


def _adam(c, correct=True, eps_inside=False, t_shift=0, swap=False):
    """One Adam step as torch takes it (``correct``: bias correction), or a named variant."""
    b1, b2 = (c.beta2, c.beta1) if swap else (c.beta1, c.beta2)
    t = c.t + t_shift
    m = b1 * c.m + (1 - b1) * c.grad
    v = b2 * c.v + (1 - b2) * c.grad ** 2
    m_hat, v_hat = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if correct else (m, v)
    denom = np.sqrt(v_hat + c.eps) if eps_inside else np.sqrt(v_hat) + c.eps
    return c.param - c.lr * m_hat / denom, m, v


def _adam_reference(c):
    """The course's optim.Adam from the state (m, v, t - 1) it would have after t - 1 steps."""
    from ..nn import Parameter
    from ..optim import Adam

    p = Parameter(c.param.copy())
    p.grad[...] = c.grad
    opt = Adam([p], lr=c.lr, betas=(c.beta1, c.beta2), eps=c.eps)
    opt.state[p] = dict(step=c.t - 1, exp_avg=c.m.copy(), exp_avg_sq=c.v.copy())
    opt.step()
    state = opt.state[p]
    return p.data, state["exp_avg"], state["exp_avg_sq"]


ADAM_STEP = register(Exercise(
    "adam_step", LESSON, "adam_step", 3,
    signature="param, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08",
    make_cases=_adam_cases,
    reference=_adam_reference,
    output_kind="value",
    variants=[
        Variant("no_bias_correction", "the bias correction is missing (m and v used as they are)",
                "m and v start at 0, so early on they are too small by the factors 1 - beta1**t "
                "and 1 - beta2**t: divide by them, m_hat = m / (1 - beta1**t), "
                "v_hat = v / (1 - beta2**t), and step by lr * m_hat / (sqrt(v_hat) + eps).",
                lambda c: _adam(c, correct=False)),
        Variant("eps_inside_sqrt", "eps is added inside the square root", "eps is added after "
                "the root: sqrt(v_hat) + eps, not sqrt(v_hat + eps) (it matters for tiny gradients).",
                lambda c: _adam(c, eps_inside=True)),
        Variant("step_off_by_one", "the bias correction uses t + 1 (t counted up once too often)",
                "t is already the number of this step (1 for the first): use beta1**t and "
                "beta2**t as given, without adding 1.", lambda c: _adam(c, t_shift=1)),
        Variant("betas_swapped", "beta1 and beta2 are swapped", "beta1 (0.9) averages the "
                "gradient m, beta2 (0.999) its square v.", lambda c: _adam(c, swap=True)),
    ],
    hints={"input_modified": "m *= beta1 or param -= ... changes the caller's arrays; build new "
                             "ones: m = beta1 * m + (1 - beta1) * grad."},
))


# ---------------------------------------------------------------- train_step
def _train_cases(hidden):
    rng = seeded_rng("train_step", hidden)
    cases = []
    sizes = [(2, 3, 2), (4, 3, 3), (3, 4, 2)] + [(int(rng.integers(2, 6)), int(rng.integers(2, 5)),
                                                  int(rng.integers(2, 4))) for _ in range(4 if not hidden else 8)]
    for k, (N, D, K) in enumerate(sizes):
        x = int_values(rng, (N, D)) / 2
        y = rng.integers(0, K, N)
        weight, bias = int_values(rng, (K, D)) / 4, int_values(rng, K) / 4
        old_gw, old_gb = int_values(rng, (K, D)) / 2, int_values(rng, K) / 2
        if k == 0:
            old_gw, old_gb = np.zeros_like(old_gw), np.zeros_like(old_gb)
        label = (f"batch of {N}, {D} features, {K} classes" + (", .grad still zero" if k == 0 else
                 ", .grad holds the last step's gradients"))
        wd = 0.0 if k in (0, 2) else float(rng.choice([0.1, 0.5]))
        cases.append(make_case(label, x, y, weight, bias, old_gw, old_gb, float(rng.choice([0.1, 0.5])),
                               weight_decay=wd))
    return cases


def _grads(c):
    """This batch's gradients of the mean cross-entropy of logits = x @ weight.T + bias."""
    logits = c.x @ c.weight.T + c.bias
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(c.y)), c.y] -= 1
    d = p / len(c.y)
    return d.T @ c.x, d.sum(axis=0)


def _train_variant(c, scale=1.0, accumulate=False, decay_bias=False, sign=1.0):
    gw, gb = _grads(c)
    gw, gb = gw * scale, gb * scale
    if accumulate:
        gw, gb = gw + c.grad_weight, gb + c.grad_bias
    w = c.weight - sign * c.lr * (gw + c.weight_decay * c.weight)
    b = c.bias - sign * c.lr * (gb + (c.weight_decay * c.bias if decay_bias else 0))
    return w, b, gw, gb


def _train_reference(c):
    """cnncourse.nn.Linear + CrossEntropyLoss + optim.SGD, weight decay on the weight only."""
    from .. import nn, optim

    layer = nn.Linear(c.weight.shape[1], c.weight.shape[0], dtype=np.float64)
    layer.weight.data[...], layer.bias.data[...] = c.weight, c.bias
    layer.weight.grad[...], layer.bias.grad[...] = c.grad_weight, c.grad_bias
    opt = optim.SGD([{"params": [layer.weight], "weight_decay": c.weight_decay},
                     {"params": [layer.bias], "weight_decay": 0.0}], lr=c.lr)
    criterion = nn.CrossEntropyLoss()
    opt.zero_grad()
    criterion(layer(c.x), c.y)
    layer.backward(criterion.backward())
    grads = layer.weight.grad.copy(), layer.bias.grad.copy()
    opt.step()
    return layer.weight.data.copy(), layer.bias.data.copy(), *grads


TRAIN_STEP = register(Exercise(
    "train_step", LESSON, "train_step", 3,
    signature="x, y, weight, bias, grad_weight, grad_bias, lr, weight_decay=0.0",
    make_cases=_train_cases,
    reference=_train_reference,
    output_kind="value",
    variants=[
        Variant("zero_grad_forgotten", "the gradients are added to what .grad held: zero_grad "
                "was forgotten, so they accumulate from step to step",
                "backward ADDS into .grad; start every step from zero (optimizer.zero_grad()): "
                "the new gradients are this batch's only, not grad_weight + ...",
                lambda c: when(bool(np.any(c.grad_weight)), lambda: _train_variant(c, accumulate=True))),
        Variant("loss_averaged_twice", "the gradients are divided by the batch size twice",
                "the loss is the MEAN over the batch, so its gradient with respect to the logits is "
                "(softmax - one_hot) / N once; do not divide again (e.g. .mean() after / N).",
                lambda c: _train_variant(c, scale=1 / len(c.y))),
        Variant("loss_summed", "the gradients are those of the summed loss (not divided by the "
                "batch size)", "the loss is the mean over the batch: divide "
                "(softmax - one_hot) by N.", lambda c: _train_variant(c, scale=len(c.y))),
        Variant("weight_decay_on_bias", "weight decay is applied to the bias too",
                "weight decay shrinks the weights only: weight -= lr * (grad_weight + "
                "weight_decay * weight), bias -= lr * grad_bias.",
                lambda c: when(c.weight_decay > 0, lambda: _train_variant(c, decay_bias=True))),
        Variant("gradient_ascent", "the parameters move WITH the gradient (uphill)",
                "gradient descent subtracts: weight - lr * gradient.",
                lambda c: _train_variant(c, sign=-1.0)),
    ],
    hints={"input_modified": "weight -= ... or grad_weight[...] = 0 changes the caller's arrays; "
                             "compute new ones (weight = weight - lr * ...) and return them."},
))
