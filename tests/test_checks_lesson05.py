"""Tests of cnncourse.checks.lesson05: every diagnosis of ``error_rate``, ``confusion_matrix``,
``sgd_momentum_step``, ``adam_step`` and ``train_step`` is triggered by a learner-style wrong
implementation; correct ones, written differently from the references, pass."""
from __future__ import annotations

import numpy as np
import torch

from _checks import lesson_tests

LESSON = "05_training"


# ------------------------------------------------------------------ error_rate
def error_rate_impl(mistake=None):
    def error_rate(labels, pred):
        wrong = 0
        for t, p in zip(labels, pred):
            if (t == p) if mistake == "accuracy_not_error" else (t != p):
                wrong += 1
        if mistake == "count_not_rate":
            return wrong
        rate = wrong / len(labels)
        return 100 * rate if mistake == "percent" else rate
    return error_rate


# ------------------------------------------------------------------ confusion_matrix
def confusion_impl(mistake=None):
    def confusion_matrix(labels, pred, num_classes):
        K = int(max(labels.max(), pred.max())) + 1 if mistake == "num_classes_ignored" else num_classes
        M = np.zeros((K, K), dtype=float if mistake == "wrong_dtype" else np.int64)
        if mistake == "fancy_index_no_accumulate":
            M[labels, pred] += 1
            return M
        for t, p in zip(labels, pred):
            if mistake == "transposed":
                M[p, t] += 1
            else:
                M[t, p] += 1
        return M
    return confusion_matrix


# ------------------------------------------------------------------ sgd_momentum_step
def sgd_impl(mistake=None):
    def sgd_momentum_step(param, grad, velocity, lr, momentum):
        if mistake == "input_modified":
            velocity *= momentum
            velocity += grad
            return param - lr * velocity, velocity.copy()
        if mistake == "momentum_after_update":
            new_param = param - lr * velocity
            return new_param, momentum * velocity + grad
        if mistake == "ema_velocity":
            v = momentum * velocity + (1 - momentum) * grad
        elif mistake == "lr_in_velocity":
            v = momentum * velocity + lr * grad
            return param - v, v
        else:
            v = momentum * velocity + grad
        if mistake == "velocity_not_updated":
            return param - lr * v, velocity
        return param - lr * v, v
    return sgd_momentum_step


def sgd_with_torch(param, grad, velocity, lr, momentum):
    """Correct, differently: torch.optim.SGD with its buffer set to the velocity."""
    p = torch.tensor(param, requires_grad=True)
    p.grad = torch.tensor(grad)
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum)
    if np.any(velocity):
        opt.state[p]["momentum_buffer"] = torch.tensor(velocity)
    opt.step()
    return p.detach().numpy().copy(), opt.state[p]["momentum_buffer"].numpy().copy()


# ------------------------------------------------------------------ adam_step
def adam_impl(mistake=None):
    def adam_step(param, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08):
        if mistake == "betas_swapped":
            beta1, beta2 = beta2, beta1
        if mistake == "input_modified":
            m *= beta1
            m += (1 - beta1) * grad
            m = m.copy()
        else:
            m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad * grad
        if mistake == "step_off_by_one":
            t += 1
        if mistake == "no_bias_correction":
            m_hat, v_hat = m, v
        else:
            m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        if mistake == "eps_inside_sqrt":
            return param - lr * m_hat / np.sqrt(v_hat + eps), m, v
        return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
    return adam_step


def adam_with_torch(param, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08):
    """Correct, differently: torch.optim.Adam from the state it has after t - 1 steps."""
    p = torch.tensor(param, requires_grad=True)
    p.grad = torch.tensor(grad)
    opt = torch.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps, foreach=False)
    opt.state[p].update(step=torch.tensor(float(t - 1)), exp_avg=torch.tensor(m),
                        exp_avg_sq=torch.tensor(v))
    opt.step()
    s = opt.state[p]
    return p.detach().numpy().copy(), s["exp_avg"].numpy().copy(), s["exp_avg_sq"].numpy().copy()


# ------------------------------------------------------------------ train_step
def train_impl(mistake=None):
    def train_step(x, y, weight, bias, grad_weight, grad_bias, lr, weight_decay=0.0):
        N = len(y)
        logits = x @ weight.T + bias
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
        one_hot = np.zeros_like(probs)
        one_hot[np.arange(N), y] = 1
        d = probs - one_hot
        if mistake != "loss_summed":
            d = d / N
        gw, gb = d.T @ x, d.sum(axis=0)
        if mistake == "loss_averaged_twice":
            gw, gb = gw / N, gb / N
        if mistake == "zero_grad_forgotten":
            gw, gb = grad_weight + gw, grad_bias + gb
        if mistake == "input_modified":
            grad_weight[...] = 0
        sign = -1 if mistake == "gradient_ascent" else 1
        new_w = weight - sign * lr * (gw + weight_decay * weight)
        decay_b = weight_decay * bias if mistake == "weight_decay_on_bias" else 0
        new_b = bias - sign * lr * (gb + decay_b)
        return new_w, new_b, gw, gb
    return train_step


def train_with_torch(x, y, weight, bias, grad_weight, grad_bias, lr, weight_decay=0.0):
    """Correct, differently: torch autograd and torch.optim.SGD with two parameter groups."""
    w = torch.tensor(weight, requires_grad=True)
    b = torch.tensor(bias, requires_grad=True)
    w.grad, b.grad = torch.tensor(grad_weight), torch.tensor(grad_bias)
    opt = torch.optim.SGD([{"params": [w], "weight_decay": weight_decay},
                           {"params": [b], "weight_decay": 0.0}], lr=lr)
    opt.zero_grad()
    torch.nn.functional.cross_entropy(torch.tensor(x) @ w.T + b, torch.tensor(y)).backward()
    grads = w.grad.numpy().copy(), b.grad.numpy().copy()
    opt.step()
    return w.detach().numpy().copy(), b.detach().numpy().copy(), *grads


WRONG = {
    "error_rate": {k: error_rate_impl(k) for k in ("accuracy_not_error", "percent", "count_not_rate")},
    "confusion_matrix": {k: confusion_impl(k) for k in (
        "transposed", "fancy_index_no_accumulate", "num_classes_ignored", "wrong_dtype")},
    "sgd_momentum_step": {k: sgd_impl(k) for k in (
        "momentum_after_update", "ema_velocity", "lr_in_velocity", "velocity_not_updated",
        "input_modified")},
    "adam_step": {k: adam_impl(k) for k in (
        "no_bias_correction", "eps_inside_sqrt", "step_off_by_one", "betas_swapped",
        "input_modified")},
    "train_step": {k: train_impl(k) for k in (
        "zero_grad_forgotten", "loss_averaged_twice", "loss_summed", "weight_decay_on_bias",
        "gradient_ascent", "input_modified")},
}
CORRECT = {
    "error_rate": [error_rate_impl(), lambda labels, pred: float(np.mean(labels != pred))],
    "confusion_matrix": [confusion_impl(), lambda labels, pred, num_classes: np.bincount(
        labels * num_classes + pred, minlength=num_classes ** 2).reshape(num_classes, num_classes)],
    "sgd_momentum_step": [sgd_impl(), sgd_with_torch],
    "adam_step": [adam_impl(), adam_with_torch],
    "train_step": [train_impl(), train_with_torch],
}

(test_wrong_implementation_gets_its_diagnosis, test_correct_implementations_pass,
 test_every_exercise_and_diagnosis_is_tested) = lesson_tests(LESSON, WRONG, CORRECT)
