"""``Optimizer``: what SGD, Adam and AdamW for the NumPy models share (``torch.optim.Optimizer``).

An optimizer holds the model's parameters in ``param_groups`` -- a list of dicts, each with its
``"params"`` and hyper-parameters such as ``"lr"`` (a learning-rate schedule changes
``group["lr"]``) -- and a ``state`` per parameter (momentum buffers, Adam's averages). Each
subclass writes the update of one parameter in :meth:`Optimizer.update`; ``step()`` applies it
to every parameter, using the gradient that ``model.backward`` left in ``.grad``::

    optimizer.zero_grad()                 # set every .grad to 0
    loss = criterion(model(x), y)
    model.backward(criterion.backward())  # fill .grad
    optimizer.step()                      # move every parameter against its gradient
"""
from __future__ import annotations

import copy
import numbers

import numpy as np

__all__ = ["Optimizer", "check_hyper"]


def check_hyper(name: str, value, low=0.0, high=None, high_open=False) -> float:
    """``value`` as a float if it is a number in ``[low, high]`` (``[low, high)`` with
    ``high_open``), else a ``ValueError`` naming the argument."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number; got {value!r}")
    above = high is None or (value < high if high_open else value <= high)
    if value < low or not above:
        bounds = f"[{low}, {high}{')' if high_open else ']'}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be in {bounds}; got {name}={value!r}")
    return float(value)


class Optimizer:
    """Base class of the optimizers for :mod:`cnncourse.nn` models.

    Args:
        params: the parameters to update, e.g. ``model.parameters()``; or a list of dicts
            ``{"params": [...], "lr": ...}``, one per group with its own hyper-parameters.
        defaults: the hyper-parameters a group takes when it does not set them.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.param_groups: list[dict] = []
        self.state: dict = {}
        if hasattr(params, "parameters") and callable(params.parameters):
            raise TypeError(f"{type(self).__name__} takes the model's parameters: "
                            f"{type(self).__name__}(model.parameters(), ...), not the model")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list: the model has "
                             f"no parameters, or model.parameters() was used up already")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add a group of parameters, with hyper-parameters that override the defaults."""
        group = dict(group)
        params = group["params"]
        params = [params] if hasattr(params, "grad") else list(params)
        for p in params:
            if not (hasattr(p, "data") and hasattr(p, "grad") and isinstance(p.data, np.ndarray)):
                hint = (" -- for a torch model use torch.optim"
                        if type(p).__module__.startswith("torch") else "")
                raise TypeError(f"{type(self).__name__} updates cnncourse.nn Parameters (with "
                                f".data and .grad arrays); got {type(p).__name__}{hint}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params) or len({id(p) for p in params}) < len(params):
            raise ValueError("a parameter appears twice in the optimizer's groups")
        for name, value in self.defaults.items():
            group.setdefault(name, value)
        group["params"] = params
        self.param_groups.append(group)

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to zero (in place), before the next backward."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad.fill(0)

    def step(self) -> None:
        """Update every parameter from its gradient (:meth:`update`)."""
        for group in self.param_groups:
            for p in group["params"]:
                self.update(p, self.state.setdefault(p, {}), group)

    def update(self, p, state: dict, group: dict) -> None:
        """Change ``p.data`` in place from ``p.grad``; ``state`` persists between steps."""
        raise NotImplementedError(f"{type(self).__name__} must define update(p, state, group)")

    # --- checkpoints ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}`` with
        copies of the arrays, in the layout of ``torch.optim.Optimizer.state_dict()``."""
        index, groups = {}, []
        for group in self.param_groups:
            ids = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[id(p)]: copy.deepcopy(s) for p, s in self.state.items() if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state saved by :meth:`state_dict` (of an optimizer of
        the same model: the groups must have the same sizes, the arrays the same shapes)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(g["params"]) != len(own["params"]) for g, own in zip(groups, self.param_groups)):
            raise ValueError(
                f"the optimizer state has {len(groups)} group(s) of "
                f"{[len(g['params']) for g in groups]} parameters but this optimizer has "
                f"{[len(g['params']) for g in self.param_groups]}: it was saved for another model")
        by_index = {}
        for saved, own in zip(groups, self.param_groups):
            by_index.update(zip(saved["params"], own["params"]))
        new_state = {}
        for i, saved in state_dict["state"].items():
            p = by_index[int(i)]
            entry = {}
            for key, value in saved.items():
                value = np.asarray(value) if not isinstance(value, numbers.Number) else value
                if isinstance(value, np.ndarray) and value.ndim:
                    if value.shape != p.shape:
                        raise ValueError(f"optimizer state {key!r} of parameter {i} has shape "
                                         f"{value.shape}, the parameter {p.shape}: it was saved "
                                         f"for another model")
                    value = value.astype(p.dtype, copy=True)
                elif isinstance(value, np.ndarray):
                    value = value.item()
                entry[key] = value
            new_state[p] = entry
        for saved, own in zip(groups, self.param_groups):
            own.update({k: v for k, v in saved.items() if k != "params"})
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])
