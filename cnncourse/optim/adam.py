"""Adam and AdamW (``torch.optim.Adam``, ``torch.optim.AdamW``: same arguments, same steps)."""
from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer, check_hyper

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam: momentum on the gradient, divided by the root of its running square.

    The update of every parameter ``p`` with gradient ``g`` at step ``t = 1, 2, ...``::

        g = g + weight_decay * p              (Adam; AdamW instead shrinks p: p = p * (1 - lr * weight_decay))
        m = beta1 * m + (1 - beta1) * g       (running mean of the gradient)
        v = beta2 * v + (1 - beta2) * g**2    (running mean of its square)
        m_hat = m / (1 - beta1**t),   v_hat = v / (1 - beta2**t)     (undo the start at 0)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    Args:
        params: ``model.parameters()``, or a list of parameter groups (dicts).
        lr: learning rate. Default: 1e-3.
        betas: ``(beta1, beta2)``, each in ``[0, 1)``. Default: (0.9, 0.999).
        eps: added to the denominator. Default: 1e-8.
        weight_decay: L2 penalty. Default: 0.
        amsgrad: divide by the largest ``v_hat`` seen so far. Default: False.

    Example:
        >>> from cnncourse.nn import Parameter
        >>> w = Parameter(np.array([1.0, -2.0]))
        >>> opt = Adam([w], lr=0.1)
        >>> w.grad[...] = [3.0, 0.5]
        >>> opt.step()
        >>> w.data                                # the first step is lr * sign(g)
        array([ 0.9, -2.1])
    """

    decoupled_weight_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False):
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise TypeError(f"betas must be a pair (beta1, beta2); got {betas!r}") from None
        defaults = dict(lr=check_hyper("lr", lr),
                        betas=(check_hyper("betas[0]", beta1, 0.0, 1.0, high_open=True),
                               check_hyper("betas[1]", beta2, 0.0, 1.0, high_open=True)),
                        eps=check_hyper("eps", eps),
                        weight_decay=check_hyper("weight_decay", weight_decay),
                        amsgrad=bool(amsgrad))
        super().__init__(params, defaults)

    def update(self, p, state, group):
        """One Adam step of parameter ``p`` (its averages and step count live in ``state``)."""
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p.data), exp_avg_sq=np.zeros_like(p.data))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
        (beta1, beta2), lr, wd = group["betas"], group["lr"], group["weight_decay"]
        state["step"] += 1
        t, g, m, v = state["step"], p.grad, state["exp_avg"], state["exp_avg_sq"]
        if wd and self.decoupled_weight_decay:
            p.data *= 1 - lr * wd
        elif wd:
            g = g + wd * p.data
        m += (1 - beta1) * (g - m)
        v *= beta2
        v += (1 - beta2) * g * g
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        step_size = lr / (1 - beta1 ** t)
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + group["eps"]
        p.data -= step_size * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: each step first shrinks ``p`` to
    ``p * (1 - lr * weight_decay)`` instead of adding ``weight_decay * p`` to the gradient.

    Args:
        params, lr, betas, eps, amsgrad: as for :class:`Adam`.
        weight_decay: decoupled decay. Default: 1e-2 (as torch).

    Example:
        >>> from cnncourse.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
        >>> w.grad[...] = 1.0
        >>> opt.step()
        >>> w.data                                # 1 * (1 - 0.05) - 0.1
        array([0.85])
    """

    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
