"""How a verdict reaches the learner: one line, or a formatted block — never a traceback.

In a learner's notebook a check *shows* its verdict and returns it; it raises nothing, so Run All
reaches the end of the lesson whatever is done or not. What is shown is one display output with
three representations:

- ``text/plain``: the verdict's message (what a terminal, ``print`` and the grader show);
- ``text/html``: the same as a block — the likely mistake, the smallest failing case, what to
  do — for Jupyter (deterministic markup with inline styles, so strict nbval can compare it);
- :data:`VERDICT_MIME` (``application/vnd.cnncourse.verdict+json``): the verdict as data
  (:func:`verdict_data`), which ``cnncourse progress`` reads instead of parsing text.

Outside IPython (a plain script) the message is printed.

**When a check raises.** A verdict that is not a pass raises :class:`CheckFailed` (an
``AssertionError`` carrying the message) when

1. the notebook is being graded by nbgrader — ``nbgrader autograde`` and ``validate`` set
   ``NBGRADER_EXECUTION`` in the kernel — so that the test cell fails and scores 0 (nothing can
   turn this off: not an argument, not a setting);
2. or the learner asks for it: ``check(..., raise_on_fail=True)``, or for every check
   ``cnncourse.checks.settings.raise_on_fail = True``, or the environment variable
   ``CNNCOURSE_RAISE_ON_FAIL=1`` (useful in scripts and in a learner's own tests).

``cnncourse grade`` never runs test cells: it judges the learner's functions in its own process.
"""
from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass

__all__ = ["VERDICT_MIME", "CheckFailed", "Settings", "settings", "should_raise", "show",
           "verdict_data", "verdict_html", "Feedback"]

VERDICT_MIME = "application/vnd.cnncourse.verdict+json"
VERDICT_FORMAT = 1  # version of the structure verdict_data() returns

# Read once when the checks are imported (the lesson's setup cell, before any learner code):
# a learner's cell that deletes the variable later does not stop grading.
_GRADED_AT_IMPORT = bool(os.environ.get("NBGRADER_EXECUTION"))


class CheckFailed(AssertionError):
    """A check that did not pass, raised only when raising is asked for (see the module doc).

    ``verdict`` is the :class:`~cnncourse.checks.core.Verdict`; ``str(error)`` its message.
    """

    def __init__(self, verdict):
        super().__init__(verdict.message)
        self.verdict = verdict


@dataclass
class Settings:
    """Switches for every check of this Python session.

    Attributes:
        raise_on_fail: ``True`` makes every failing (or not done) check raise
            :class:`CheckFailed`; ``None`` (the default) leaves it to the environment variable
            ``CNNCOURSE_RAISE_ON_FAIL``; ``False`` never raises outside grading.
    """

    raise_on_fail: bool | None = None


settings = Settings()

_FALSE = ("", "0", "false", "no", "off")


def _graded() -> bool:
    return _GRADED_AT_IMPORT or bool(os.environ.get("NBGRADER_EXECUTION"))


def should_raise(raise_on_fail: bool | None = None) -> bool:
    """Whether a check that does not pass raises here and now.

    Grading (``NBGRADER_EXECUTION``) always raises; otherwise the argument, then
    ``settings.raise_on_fail``, then ``CNNCOURSE_RAISE_ON_FAIL`` decide (default: no).
    """
    if _graded():
        return True
    if raise_on_fail is not None:
        return bool(raise_on_fail)
    if settings.raise_on_fail is not None:
        return bool(settings.raise_on_fail)
    return os.environ.get("CNNCOURSE_RAISE_ON_FAIL", "").strip().lower() not in _FALSE


def verdict_data(verdict) -> dict:
    """The verdict as plain JSON-able data (the :data:`VERDICT_MIME` output).

    Keys: ``format`` (this structure's version), ``exercise``, ``status`` (``"passed"``,
    ``"failed"`` or ``"not done"``), ``diagnosis`` (the mistake's key or ``None``), ``n_cases``,
    ``n_failing``, ``headline``, ``mistake``, ``case_label``, ``case``, ``advice`` (each ``""``
    when it does not apply) and ``message`` (the whole text).
    """
    return {
        "format": VERDICT_FORMAT,
        "exercise": verdict.exercise,
        "status": verdict.status,
        "diagnosis": verdict.diagnosis,
        "n_cases": verdict.n_cases,
        "n_failing": verdict.n_failing,
        "headline": verdict.headline or verdict.message.split("\n", 1)[0],
        "mistake": verdict.mistake,
        "case_label": verdict.case_label,
        "case": verdict.case,
        "advice": verdict.advice,
        "message": verdict.message,
    }


# Okabe-Ito colours (readable by colour-blind readers); the symbol carries the meaning too.
_COLOURS = {"passed": "#009e73", "failed": "#d55e00", "not done": "#999999"}
_BOX = ("border-left: 4px solid {colour}; padding: 4px 10px; margin: 2px 0; "
        "font-family: var(--jp-content-font-family, sans-serif); line-height: 1.45;")
_PRE = ("margin: 4px 0 4px 0; padding: 4px 8px; background: var(--jp-layout-color2, #f5f5f5); "
        "font-family: var(--jp-code-font-family, monospace); font-size: 0.92em; overflow-x: auto;")


def _prose(text: str) -> str:
    """Escaped text, with `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def verdict_html(verdict) -> str:
    """The verdict as an HTML block: headline, likely mistake, smallest failing case, what to do.

    Deterministic (no ids, no timestamps) so that nbval compares it like text.
    """
    esc = _prose
    parts = [f'<div class="cnncourse-verdict" style="{_BOX.format(colour=_COLOURS[verdict.status])}">',
             f"<div><b>{esc(verdict.headline or verdict.message.splitlines()[0])}</b></div>"]
    if verdict.mistake:
        parts.append(f"<div><b>Likely mistake:</b> {esc(verdict.mistake)}</div>")
    if verdict.case:
        parts.append(f'<div><b>Smallest failing case</b> ("{esc(verdict.case_label)}"):</div>'
                     f'<pre style="{_PRE}">{html.escape(verdict.case, quote=False)}</pre>')
    if verdict.advice:
        title = "What to do" if verdict.status == "not done" else "What to look at"
        parts.append(f"<div><b>{title}:</b> {esc(verdict.advice)}</div>")
    parts.append("</div>")
    return "\n".join(parts)


class Feedback:
    """A verdict as a rich display object (``text/plain``, ``text/html``, :data:`VERDICT_MIME`)."""

    def __init__(self, verdict):
        self.verdict = verdict

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": self.verdict.message, "text/html": verdict_html(self.verdict),
                VERDICT_MIME: verdict_data(self.verdict)}

    def __repr__(self) -> str:
        return self.verdict.message


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel, a dependency
        return None
    return get_ipython()


def show(verdict, raise_on_fail: bool | None = None):
    """Show a verdict (or raise :class:`CheckFailed`, see the module doc) and return it."""
    if not verdict.passed and should_raise(raise_on_fail):
        raise CheckFailed(verdict)
    if _ipython() is None:
        print(verdict.message)
    else:
        from IPython.display import display

        display(Feedback(verdict))
    return verdict
