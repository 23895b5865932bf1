"""``Module`` and ``Parameter``: what every NumPy layer and model of :mod:`cnncourse.nn` is made of.

A NumPy model works like a ``torch.nn.Module``, except that the gradients are not found by
autograd: every layer writes its own ``backward``.

- ``out = model(x)`` calls ``model.forward(x)``; each layer keeps what its backward will need.
- ``grad_x = model.backward(grad_out)`` sends the gradient of the loss with respect to the
  output back through the layers, and *adds* each parameter's gradient to its ``.grad`` (so
  call ``model.zero_grad()`` -- or ``optimizer.zero_grad()`` -- before each step, as in torch).
- ``model.parameters()`` yields :class:`Parameter` objects, each with a ``.data`` and a
  ``.grad`` array of the same shape; ``named_parameters()`` names them like the keys of
  ``torch.nn.Module.state_dict()`` (``"0.weight"``, ``"features.0.bias"``, ...).
- ``state_dict()`` / ``load_state_dict()`` exchange plain arrays (parameters and buffers such as
  batch norm's running statistics) with the same ``torch.nn`` model, both ways::

      ours.load_state_dict(theirs.state_dict())                  # tensors are converted
      theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})

- ``train()`` / ``eval()`` switch dropout and batch norm between training and evaluation.

Parameters are ``float32`` unless a layer is built with ``dtype=np.float64`` (or the model is
converted with ``model.double()``); a layer refuses input of another float dtype, as torch does.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

__all__ = ["Parameter", "Module"]


class Parameter:
    """A learnable array: ``data`` and the ``grad`` that backward passes add into.

    Args:
        data: the values; kept as given (no copy), so it must be a float array.

    Attributes:
        data: ``np.ndarray`` of the values.
        grad: ``np.ndarray`` of the same shape and dtype, zeros to start with.

    Example:
        >>> p = Parameter(np.ones((2, 3), dtype=np.float32))
        >>> p.shape, p.grad.sum(), p
        ((2, 3), np.float32(0.0), Parameter(shape=(2, 3), dtype=float32))
    """

    __slots__ = ("data", "grad")

    def __init__(self, data):
        self.data = np.asarray(data)
        if self.data.dtype.kind != "f":
            raise TypeError(f"a Parameter holds floating-point values; got dtype {self.data.dtype}")
        self.grad = np.zeros_like(self.data)

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of every NumPy layer and model; mirrors ``torch.nn.Module``.

    A subclass sets its parameters (:class:`Parameter`), buffers (:meth:`register_buffer`) and
    sub-layers (other modules) as attributes in ``__init__``, and writes ``forward(x)`` and
    ``backward(grad_out)``.

    Example:
        >>> class Scale(Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.factor = Parameter(np.full(1, 2.0))
        ...     def forward(self, x):
        ...         self.x = x
        ...         return self.factor.data * x
        ...     def backward(self, grad_out):
        ...         self.factor.grad += (grad_out * self.x).sum(keepdims=True).reshape(1)
        ...         return grad_out * self.factor.data
        >>> m = Scale()
        >>> m(np.array([1.0, 3.0])), m.backward(np.ones(2)), m.factor.grad
        (array([2., 6.]), array([2., 2.]), array([4.]))
    """

    training: bool

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())

    # --- attributes: parameters, buffers and sub-modules are registered by assignment -----------
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(
                f"call super().__init__() at the start of {type(self).__name__}.__init__, "
                f"before assigning self.{name}")
        if isinstance(value, Parameter):
            target = d["_parameters"]
        elif isinstance(value, Module):
            target = d["_modules"]
        elif name in d.get("_buffer_names", ()):
            target = d["_buffers"]
        else:
            target = None                        # a plain attribute (most assignments)
        if target is not None or name in d["_parameters"] or name in d["_modules"]:
            for registry in (d["_parameters"], d["_buffers"], d["_modules"]):
                if registry is not target:
                    registry.pop(name, None)     # e.g. self.bias = None drops the parameter
            if target is not None:
                target[name] = value             # an existing name keeps its place
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, value) -> None:
        """Keep ``value`` (an array that is not learned, e.g. a running mean) in the state dict."""
        if "_buffer_names" not in self.__dict__:
            object.__setattr__(self, "_buffer_names", set())
        self._buffer_names.add(name)
        setattr(self, name, value)

    # --- forward and backward ---------------------------------------------------------------------
    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        """Compute the output; keep what :meth:`backward` will need."""
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def backward(self, grad_out):
        """Return the gradient with respect to the input of the last ``forward``; add the
        parameters' gradients to their ``.grad``."""
        raise NotImplementedError(f"{type(self).__name__} must define backward(grad_out)")

    # --- walking the model -----------------------------------------------------------------------
    def children(self):
        """The direct sub-modules, in the order they were assigned."""
        return iter(self._modules.values())

    def named_children(self):
        return iter(self._modules.items())

    def named_modules(self, prefix: str = ""):
        """``(name, module)`` for this module (name ``prefix``) and every module inside it."""
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (module for _, module in self.named_modules())

    def named_parameters(self, prefix: str = ""):
        """``(name, Parameter)`` pairs, named like ``torch.nn.Module.state_dict()``'s keys."""
        for path, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                yield (f"{path}.{name}" if path else name), p

    def parameters(self):
        """Every :class:`Parameter` of the model, in ``state_dict`` order (give them to an
        optimizer)."""
        return (p for _, p in self.named_parameters())

    def named_buffers(self, prefix: str = ""):
        for path, module in self.named_modules(prefix):
            for name, b in module._buffers.items():
                yield (f"{path}.{name}" if path else name), b

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero (in place)."""
        for p in self.parameters():
            p.grad.fill(0)

    # --- training and evaluation mode ------------------------------------------------------------
    def train(self, mode: bool = True):
        """Training mode (dropout drops, batch norm uses the batch's statistics); returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``; returns self."""
        return self.train(False)

    # --- state dicts -----------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict:
        """Copies of every parameter and buffer, keyed like ``torch.nn.Module.state_dict()``.

        Example:
            >>> from cnncourse.nn import Linear
            >>> {k: v.shape for k, v in Linear(3, 2).state_dict().items()}
            {'weight': (2, 3), 'bias': (2,)}
        """
        state = OrderedDict()
        for path, module in self.named_modules():
            for name, p in module._parameters.items():
                state[f"{path}.{name}" if path else name] = p.data.copy()
            for name, b in module._buffers.items():
                state[f"{path}.{name}" if path else name] = np.array(b, copy=True)
        return state

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy the values of ``state_dict`` (arrays or torch tensors) into the model.

        Args:
            state_dict: ``{name: array}``, e.g. from :meth:`state_dict` or from the same
                ``torch.nn`` model's ``state_dict()``.
            strict: every key must match (no key missing, none left over). Default: True.

        Raises:
            ValueError: naming each missing, unexpected or mis-shaped entry.
        """
        own = self._named_state()
        given = {name: _as_array(value, name) for name, value in state_dict.items()}
        problems = []
        for name, (module, attr, current) in own.items():
            if name not in given:
                if strict and not attr == "num_batches_tracked":  # absent in old torch files
                    problems.append(f"missing {name!r} {tuple(np.shape(current))}")
                continue
            if tuple(given[name].shape) != tuple(np.shape(current)):
                problems.append(f"{name!r} has shape {tuple(given[name].shape)} in the state dict "
                                f"but {tuple(np.shape(current))} in the model")
        if strict:
            problems += [f"unexpected {name!r} {tuple(v.shape)} (the model has no such entry)"
                         for name, v in given.items() if name not in own]
        if problems:
            raise ValueError(
                f"the state dict does not fit this {type(self).__name__}: "
                + "; ".join(problems)
                + ". It comes from a different architecture: build the model it was saved from.")
        for name, (module, attr, current) in own.items():
            if name in given:
                if isinstance(current, Parameter):
                    current.data[...] = given[name]
                else:
                    module._buffers[attr][...] = given[name]

    def _named_state(self) -> dict:
        """``{state_dict key: (module, attribute name, Parameter or buffer array)}``."""
        own = {}
        for path, module in self.named_modules():
            for registry in (module._parameters, module._buffers):
                for name, value in registry.items():
                    own[f"{path}.{name}" if path else name] = (module, name, value)
        return own

    # --- dtype -----------------------------------------------------------------------------------
    def to(self, dtype):
        """Convert every parameter (and its gradient) and float buffer to ``dtype``; returns self."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"dtype must be a floating-point type (np.float32, np.float64); "
                            f"got {dtype}")
        for module in self.modules():
            for p in module._parameters.values():
                p.data, p.grad = p.data.astype(dtype), p.grad.astype(dtype)
            for name, b in module._buffers.items():
                if np.asarray(b).dtype.kind == "f":
                    module._buffers[name] = np.asarray(b).astype(dtype)
                    object.__setattr__(module, name, module._buffers[name])
        return self

    def double(self):
        """Parameters and float buffers as float64 (for gradient checks); returns self."""
        return self.to(np.float64)

    def float(self):
        """Parameters and float buffers as float32 (the default); returns self."""
        return self.to(np.float32)

    # --- printing --------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The arguments shown between the parentheses of ``repr`` (as in torch)."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ")
                 for name, child in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ")" if not lines else head + "\n  " + "\n  ".join(lines) + "\n)"


def _as_array(value, name) -> np.ndarray:
    """An entry of a state dict as a NumPy array (torch tensors are detached and copied)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):           # a torch.Tensor
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"state dict entry {name!r} is not an array ({err})") from None
