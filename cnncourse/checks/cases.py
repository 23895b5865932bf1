"""Cases: what a check calls the learner's function with, and the helpers that build them.

A :class:`Case` is one call ``fn(*args, **kwargs)``. Once its exercise has bound it to the
function's signature (:meth:`Case.bind`, done by ``Exercise.cases()``), every argument can be
read by name, defaults included — ``case.x``, ``case.bias``, ``case.stride`` — so that a known
mistake is written the way a person says it: ``lambda c: conv(c, bias=None)``, not
``_conv_args(c)[2]``.

Helpers every lesson's checks share: :func:`make_case`, :func:`seeded_rng` (cases never change
between runs), :func:`int_values` and :func:`distinct` (small integers stored as floats, easy to
read in a failure message), :func:`parse_signature`, :func:`when` and :func:`crop_to`.
"""
from __future__ import annotations

import ast
import zlib
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

__all__ = ["Case", "make_case", "parse_signature", "seeded_rng", "int_values", "distinct",
           "when", "crop_to"]


@dataclass(frozen=True)
class Case:
    """One call of the learner's function: ``fn(*args, **kwargs)``.

    ``size`` orders cases from small to large (the smallest failing case is the one shown);
    ``names`` and ``defaults`` come from the function's signature (see :meth:`bind`) and make
    the arguments readable as attributes: ``case.weight``, ``case.stride``.
    """

    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    size: int = 0
    names: tuple = ()
    defaults: dict = field(default_factory=dict)

    def bind(self, names, defaults) -> "Case":
        """This case, with the parameter ``names`` (in order) and ``defaults`` of the function."""
        return replace(self, names=tuple(names), defaults=dict(defaults))

    @property
    def arguments(self) -> dict:
        """Every argument by name: the positional ones, the keywords, then the defaults."""
        given = dict(zip(self.names, self.args), **self.kwargs)
        bound = {name: given.get(name, self.defaults.get(name)) for name in self.names
                 if name in given or name in self.defaults}
        bound.update(given)  # keywords the signature does not name
        return bound

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        arguments = self.arguments
        if name in arguments:
            return arguments[name]
        known = ", ".join(arguments) or "none (bind the case to a signature first)"
        raise AttributeError(f"case {self.label!r} has no argument {name!r}; its arguments: {known}")


def make_case(label: str, *args, **kwargs) -> Case:
    """A :class:`Case` whose ``size`` is the total number of array elements in it (its
    exercise adds the size of the expected output; see ``Exercise.cases``)."""
    size = sum(int(np.size(a)) for a in (*args, *kwargs.values()) if isinstance(a, np.ndarray))
    return Case(label, tuple(args), dict(kwargs), size)


def parse_signature(signature: str) -> tuple[tuple[str, ...], dict]:
    """``"x, weight, bias=None, stride=1"`` → ``(("x", "weight", "bias", "stride"),
    {"bias": None, "stride": 1})``. Defaults must be Python literals.

    Example:
        >>> parse_signature("img, factor=2")
        (('img', 'factor'), {'factor': 2})
    """
    args = ast.parse(f"def f({signature}): pass").body[0].args
    if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
        raise ValueError(f"signature {signature!r}: only plain parameters (name or name=literal)")
    names = tuple(a.arg for a in args.args)
    defaults = {name: ast.literal_eval(node)
                for name, node in zip(names[len(names) - len(args.defaults):], args.defaults)}
    return names, defaults


def seeded_rng(exercise_id: str, hidden: bool = False) -> np.random.Generator:
    """A random generator seeded from the exercise id, so cases never change between runs."""
    return np.random.default_rng([zlib.crc32(exercise_id.encode()), int(hidden)])


def int_values(rng: np.random.Generator, shape, dtype=np.float64, low: int = -3,
               high: int = 4) -> np.ndarray:
    """Small integers in ``[low, high)`` stored as ``dtype``: easy to read in a message."""
    return rng.integers(low, high, size=shape).astype(dtype)


def distinct(rng: np.random.Generator, shape, dtype=np.float64) -> np.ndarray:
    """Small distinct integers around 0 stored as ``dtype``: no ties (an arg-max is unique)."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) - size // 2).astype(dtype)


def when(condition: bool, compute: Callable[[], object]):
    """``compute()`` if ``condition`` else ``None``: a variant that cannot show on a case."""
    return compute() if condition else None


def crop_to(out: np.ndarray, like: np.ndarray):
    """``out`` cut to ``like``'s last two sizes (``None`` if it is smaller): a wrong loop inside
    a right-sized output."""
    if out.shape[-2] < like.shape[-2] or out.shape[-1] < like.shape[-1]:
        return None
    return out[..., :like.shape[-2], :like.shape[-1]]
