"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay
(``torch.optim.SGD``, same arguments, same steps)."""
from __future__ import annotations

from .optimizer import Optimizer, check_hyper

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum and weight decay.

    The update of every parameter ``p`` with gradient ``g``, as in torch::

        g = g + weight_decay * p                          (an L2 penalty on the weights)
        buf = g  (first step),  buf = momentum * buf + (1 - dampening) * g  (later steps)
        g = g + momentum * buf   (nesterov)    or    g = buf   (momentum)
        p = p - lr * g

    Args:
        params: ``model.parameters()``, or a list of parameter groups (dicts).
        lr: learning rate. Default: 1e-3 (as torch).
        momentum: momentum factor. Default: 0.
        dampening: share of the new gradient held back from the momentum. Default: 0.
        weight_decay: L2 penalty. Default: 0.
        nesterov: Nesterov momentum (needs ``momentum > 0`` and ``dampening = 0``).
            Default: False.

    Example:
        >>> import numpy as np
        >>> from cnncourse.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     w.grad[...] = 2 * w.data          # the gradient of w**2
        ...     opt.step()
        >>> w.data                                # 1 - 0.2 = 0.8, then 0.8 - 0.1*(0.9*2 + 1.6)
        array([0.46])
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False):
        defaults = dict(lr=check_hyper("lr", lr), momentum=check_hyper("momentum", momentum),
                        dampening=check_hyper("dampening", dampening),
                        weight_decay=check_hyper("weight_decay", weight_decay),
                        nesterov=bool(nesterov))
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Nesterov momentum needs momentum > 0 and dampening = 0; got "
                             f"momentum={momentum}, dampening={dampening}")
        super().__init__(params, defaults)

    def update(self, p, state, group):
        """One SGD step of parameter ``p`` (its momentum buffer lives in ``state``)."""
        g, momentum = p.grad, group["momentum"]
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p.data
        if momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.copy()
            else:
                buf = state["momentum_buffer"]
                buf *= momentum
                buf += (1 - group["dampening"]) * g
            buf = state["momentum_buffer"]
            g = g + momentum * buf if group["nesterov"] else buf
        p.data -= group["lr"] * g
