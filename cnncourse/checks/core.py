"""The pieces every exercise check is made of: outcomes, verdicts, exercises and the registry.

A check runs in three separate steps, so that the batch grader can run the learner's code in
another process and still judge it with exactly the same logic:

1. ``exercise.cases()`` — a deterministic list of :class:`Case` (fixed edge cases, then seeded
   random ones): plain arrays, ints, floats, strings, tuples and ``None`` only;
2. :func:`call_case` — calls the learner's function on deep copies of one case's inputs and
   records an :class:`Outcome` (plain data only: arrays, numbers, type names, error text);
3. ``exercise.diagnose(cases, outcomes)`` — pure: compares with the trusted reference
   (:mod:`cnncourse.numpy_ops`) and returns a :class:`Verdict` naming the likely mistake.

:func:`check` does all three in-process; it is what a notebook's test cell calls.

**Adding a lesson's checks adds one file.** The registry imports, the first time an exercise is
looked up, every module of this package named ``lessonNN`` (two digits: ``lesson04.py``) — found
on the package's path, listed nowhere; each registers its exercises and predictions with
:func:`register`. Cases and the helpers that build them are in :mod:`~cnncourse.checks.cases`
(also importable from here).

Two kinds of exercise exist (``Exercise.kind``): ``"function"`` (the learner defines a function
named ``Exercise.function``; it is called once per case) and ``"prediction"`` (the learner sets
a variable named ``Exercise.function``; its value is the output of the single case, which has
no arguments — see :mod:`cnncourse.checks.predictions`).
"""
from __future__ import annotations

import copy
import importlib
import pkgutil
import re
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from .cases import (Case, crop_to, distinct, int_values, make_case, parse_signature, seeded_rng,
                    when)

__all__ = [
    "Case",
    "Outcome",
    "Verdict",
    "Variant",
    "Exercise",
    "LESSON_MODULE",
    "register",
    "get_exercise",
    "exercises",
    "call_case",
    "make_case",
    "seeded_rng",
    "int_values",
    "distinct",
    "when",
    "crop_to",
    "record_value",
    "check",
    "yours_or_reference",
]


@dataclass
class Outcome:
    """What happened when the learner's function was called on one case (plain data only).

    ``output`` is a plain ``np.ndarray``, a tuple of them, a Python int/float, a tuple of Python
    ints (a shape), or ``None`` when the call raised or returned something else;
    ``output_type`` names the type actually returned (``"numpy.ndarray"``, ``"numpy.matrix"``,
    ``"list"``, ``"tuple[int, int]"``...); ``error`` is ``"ExceptionType: message"`` or ``None``;
    ``inputs_after`` holds the case's array arguments (see :func:`array_inputs`) after the call.
    """

    output: object
    output_type: str
    error: str | None = None
    inputs_after: tuple = ()


@dataclass
class Verdict:
    """The result of a check.

    ``message`` is the whole text (the success line, the "not done yet" line or the full
    diagnosis: what ``print(verdict)`` shows and the grader records); ``diagnosis`` is the key of
    the likely mistake (``None`` when passed, ``"not_implemented"`` when not done). The other
    fields are the parts of a failure message, kept apart so that it can be laid out as a block
    (see :mod:`~cnncourse.checks.feedback`): ``headline``, ``mistake`` (what the learner probably
    did), ``case_label`` and ``case`` (the smallest failing case, formatted), ``advice`` (what to
    look at, or what to do).
    """

    passed: bool
    n_cases: int
    message: str
    diagnosis: str | None = None
    exercise: str = ""
    n_failing: int = 0
    headline: str = ""
    mistake: str = ""
    case_label: str = ""
    case: str = ""
    advice: str = ""

    @property
    def status(self) -> str:
        """``"passed"``, ``"not done"`` (the stub is still there) or ``"failed"``."""
        if self.passed:
            return "passed"
        return "not done" if self.diagnosis == "not_implemented" else "failed"

    def _ipython_display_(self) -> None:
        """Show nothing when a check is the last line of a notebook cell: the check has shown
        its verdict already (``print(verdict)`` shows the message again)."""

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Variant:
    """A known wrong implementation: ``compute(case)`` gives its output (or ``None`` where the
    mistake cannot show on that case). ``key`` is the diagnosis, ``title`` says what the learner
    probably did, ``hint`` what to look at."""

    key: str
    title: str
    hint: str
    compute: Callable[[Case], object]


def _elements(value) -> int:
    """How many numbers a value holds (arrays, and tuples of them; anything else: 0)."""
    if isinstance(value, np.ndarray):
        return int(value.size)
    if isinstance(value, tuple):
        return sum(_elements(v) for v in value)
    return 0


class Exercise:
    """One exercise: its cases, its trusted reference, and the mistakes it recognises.

    Args:
        id: the exercise id (= nbgrader ``grade_id`` of its test cell), e.g. ``"conv2d"``.
        lesson: the notebook stem, e.g. ``"02_convolution"``.
        function: the name the learner defines (function or variable).
        points: nbgrader points of the test cell.
        signature: the learner's function's parameters, e.g.
            ``"x, weight, bias=None, stride=1, padding=0, dilation=1"``: the cases are bound to
            it, so that ``reference``, ``variants`` and messages read ``case.bias``.
        arg_names: names of the positional arguments, when no ``signature`` is given.
        make_cases: ``make_cases(hidden: bool) -> list[Case]``, deterministic.
        reference: ``reference(case) -> expected output``.
        variants: known wrong implementations, most specific first.
        hints: what to look at, per generic diagnosis key (overrides the defaults).
        output_kind: ``"array"`` (exactly an ``np.ndarray``), ``"int"`` or ``"value"``.
        kind: ``"function"`` or ``"prediction"``.
        question: for a prediction, the question as the lesson asks it.
    """

    def __init__(self, id, lesson, function, points, *, signature=None, arg_names=(), make_cases,
                 reference, variants=(), hints=None, output_kind="array", kind="function",
                 question=""):
        self.id = id
        self.lesson = lesson
        self.function = function
        self.points = float(points)
        self.signature = signature
        names, self.defaults = parse_signature(signature) if signature else (tuple(arg_names), {})
        self.arg_names = tuple(names)
        self._make_cases = make_cases
        self.reference = reference
        self.variants = tuple(variants)
        self.hints = dict(hints or {})
        self.output_kind = output_kind
        self.kind = kind
        self.question = question

    def __repr__(self) -> str:
        return f"<Exercise {self.id!r} ({self.kind}) of lesson {self.lesson!r}>"

    def cases(self, hidden: bool = False) -> list[Case]:
        """The cases, bound to the signature and sorted from smallest to largest (input and
        expected output together); ``hidden=True`` gives other seeded ones."""
        cases = [case.bind(self.arg_names, self.defaults) for case in self._make_cases(hidden)]
        sized = [replace(case, size=case.size + _elements(self.reference(case))) for case in cases]
        return sorted(sized, key=lambda case: case.size)

    @property
    def diagnoses(self) -> dict[str, str]:
        """Every diagnosis key this exercise can report that is specific to it, with its title
        (a generic one such as ``wrong_dtype`` counts when the exercise gives a hint for it;
        not done, wrong type and error apply to every exercise)."""
        from .diagnose import GENERIC

        keys = {v.key: v.title for v in self.variants}
        keys.update({k: GENERIC[k][0] for k in self.hints if k in GENERIC and k not in keys})
        return keys

    def diagnose(self, cases: list[Case], outcomes: list[Outcome]) -> Verdict:
        """Judge the outcomes of ``cases`` (pure: never calls learner code)."""
        from .diagnose import diagnose

        return diagnose(self, cases, outcomes)


_REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    """Add an exercise to the registry (ids are unique across all lessons)."""
    if exercise.id in _REGISTRY and _REGISTRY[exercise.id] is not exercise:
        raise ValueError(f"exercise id {exercise.id!r} is registered twice")
    _REGISTRY[exercise.id] = exercise
    return exercise


LESSON_MODULE = re.compile(r"^lesson\d\d$")
_LOADED_FROM: tuple = ()


def _load_all() -> None:
    """Import every ``lessonNN`` module of this package (once per state of its path)."""
    global _LOADED_FROM
    package = importlib.import_module(__package__)
    paths = tuple(package.__path__)
    if paths == _LOADED_FROM:
        return
    found = sorted(m.name for m in pkgutil.iter_modules(paths) if LESSON_MODULE.match(m.name))
    for name in found:
        importlib.import_module(f"{__package__}.{name}")  # each registers its exercises
    _LOADED_FROM = paths


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise with this id; ``ValueError`` listing the valid ids otherwise."""
    _load_all()
    try:
        return _REGISTRY[exercise_id]
    except (KeyError, TypeError):
        raise ValueError(
            f"no exercise with id {exercise_id!r}; valid ids are: {', '.join(sorted(_REGISTRY))}"
        ) from None


def exercises(lesson: str | None = None) -> list[Exercise]:
    """All registered exercises (of one lesson if given), in lesson order."""
    _load_all()
    found = [e for e in _REGISTRY.values() if lesson is None or e.lesson == lesson]
    return sorted(found, key=lambda e: e.lesson)


def _type_name(value) -> str:
    t = type(value)
    if t.__module__ in ("builtins", "__main__"):
        return t.__qualname__
    return f"{t.__module__}.{t.__qualname__}"


_MAX_ITEMS = 16  # longer lists/tuples are not a shape nor a tuple of gradients


def record_value(value) -> tuple[object, str]:
    """Turn whatever the learner returned into ``(plain output, type name)``.

    Only exact ``np.ndarray`` objects (not subclasses), tuples of them, Python ints and floats
    (NumPy scalars become Python numbers) and tuples/lists of up to 16 ints are kept; anything else is
    recorded as ``None`` with its type name, so that ``diagnose`` can say what came back.
    """
    if type(value) is np.ndarray:
        return value.copy(), "numpy.ndarray"
    if isinstance(value, (bool, np.bool_)):
        return None, _type_name(value)
    if type(value) in (int, float):
        return value, type(value).__name__
    if isinstance(value, (np.integer, np.floating)):
        return value.item(), _type_name(value)
    if type(value) in (tuple, list):
        brief = f"{type(value).__name__}[{{}}, ... ({len(value)} items)]"
        if len(value) > _MAX_ITEMS:  # e.g. an array turned into nested lists: name it briefly
            return None, brief.format(record_value(value[0])[1])
        inner = [record_value(v) for v in value]
        name = f"{type(value).__name__}[{', '.join(n for _, n in inner)}]"
        if len(name) > 100:
            name = brief.format(inner[0][1])
        if all(n == "numpy.ndarray" for _, n in inner) and type(value) is tuple and inner:
            return tuple(v for v, _ in inner), name
        if all(type(v) is int for v, _ in inner):
            return tuple(int(v) for v, _ in inner), name
        return None, name
    return None, _type_name(value)


def array_inputs(case: Case) -> list[tuple[int | str, np.ndarray]]:
    """The array arguments of a case as ``(position or keyword, array)``, in call order."""
    found = [(i, a) for i, a in enumerate(case.args) if isinstance(a, np.ndarray)]
    found += [(k, v) for k, v in case.kwargs.items() if isinstance(v, np.ndarray)]
    return found


def call_case(fn, case: Case) -> Outcome:
    """Call ``fn(*case.args, **case.kwargs)`` on deep copies and record what happened.

    Exceptions (``NotImplementedError`` included) are recorded, not raised; the copies of the
    array arguments are kept after the call to detect in-place modification.
    """
    args = copy.deepcopy(case.args)
    kwargs = copy.deepcopy(case.kwargs)
    try:
        value = fn(*args, **kwargs)
    except Exception as exc:  # the learner's code may raise anything
        output, type_name = None, "nothing (it raised)"
        error = f"{type(exc).__name__}: {exc}"
    else:
        output, type_name = record_value(value)
        error = None
    after = tuple(a for _, a in array_inputs(Case(case.label, args, kwargs, case.size)))
    return Outcome(output, type_name, error, after)


def check(exercise_id: str, fn, hidden: bool = False, *, raise_on_fail: bool | None = None) -> Verdict:
    """Check the learner's function for one exercise, in this process, and show the verdict.

    Shows one line ``✓ <id>: N cases passed``, a "not done yet" line, or the diagnosis (the
    likely mistake, the smallest failing case, what to look at) — as a block in Jupyter, as
    text elsewhere — and returns the :class:`Verdict`. It raises nothing, so a notebook runs on,
    except when the notebook is graded by nbgrader or raising is asked for
    (``raise_on_fail=True``, ``settings.raise_on_fail``, ``CNNCOURSE_RAISE_ON_FAIL=1``): then a
    verdict that is not a pass raises :class:`~cnncourse.checks.feedback.CheckFailed`, an
    ``AssertionError``. ``hidden=True`` runs another seeded set of cases (hidden tests).

    Example:
        >>> check("conv_output_size", lambda n, k, stride=1, padding=0, dilation=1:
        ...       (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1)
        ✓ conv_output_size: 16 cases passed
        Verdict(passed=True, ...)
    """
    from .diagnose import not_done
    from .feedback import show

    exercise = get_exercise(exercise_id)
    if exercise.kind != "function":
        raise ValueError(f"{exercise_id!r} is a prediction: use check_prediction({exercise_id!r}, answer)")
    cases = exercise.cases(hidden=hidden)
    if fn is Ellipsis:  # a stub written as `name = ...`
        verdict = not_done(exercise, len(cases))
    elif not callable(fn):
        headline = f"✗ {exercise_id}: check expects your function {exercise.function} itself"
        advice = (f"it got {_type_name(fn)} {fn!r:.60}. Pass the name without calling it: "
                  f"check({exercise_id!r}, {exercise.function})")
        verdict = Verdict(False, len(cases), f"{headline}; {advice}", "not_a_function",
                          exercise_id, len(cases), headline=headline + ".", advice=advice)
    else:
        verdict = exercise.diagnose(cases, [call_case(fn, case) for case in cases])
    return show(verdict, raise_on_fail)


def yours_or_reference(exercise_id: str, fn):
    """The learner's function if it passes its check, else the course's reference (with a note).

    For a lesson cell *after* an exercise that uses the learner's function (``downsample(x, 16)``):
    with this the cell still runs — and shows the right picture — while the exercise is not done
    or not right yet, and says so in one printed line.

    Example:
        >>> downsample = yours_or_reference("downsample", ...)
        Your downsample is not done yet: this cell uses the course's version (run it again when your check passes).
        >>> downsample(np.arange(16.0).reshape(4, 4), 2)
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """
    exercise = get_exercise(exercise_id)
    status = "not done"
    if callable(fn):
        cases = exercise.cases()
        verdict = exercise.diagnose(cases, [call_case(fn, case) for case in cases])
        if verdict.passed:
            return fn
        status = verdict.status
    print(f"Your {exercise.function} is {'not done yet' if status == 'not done' else 'not right yet'}: "
          f"this cell uses the course's version (run it again when your check passes).")

    def reference(*args, **kwargs):
        return exercise.reference(make_case("your call", *args, **kwargs).bind(
            exercise.arg_names, exercise.defaults))

    reference.__name__ = reference.__qualname__ = exercise.function
    reference.__doc__ = f"The course's {exercise.function} (the reference of exercise {exercise_id!r})."
    return reference
