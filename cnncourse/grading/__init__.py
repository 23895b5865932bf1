"""Batch grading that a submission cannot fool: ``cnncourse grade``.

Layout (one concept per module):

- :mod:`~cnncourse.grading.notebooks`      source notebooks, submissions, which cells run
- :mod:`~cnncourse.grading.kernel_harness` code injected into the learner's kernel (runs there)
- :mod:`~cnncourse.grading.transport`      cases in, outcomes out, as plain data only
- :mod:`~cnncourse.grading.session`        one learner kernel under time and memory limits
- :mod:`~cnncourse.grading.integrity`      flags solutions that call the reference implementation
- :mod:`~cnncourse.grading.runner`         grading one notebook into rows
- :mod:`~cnncourse.grading.gradebook`      rows, resumable journal, CSV and feedback files
- :mod:`~cnncourse.grading.batch`          grading a class with N kernels at once
- :mod:`~cnncourse.grading.cli`            the ``cnncourse grade`` command
"""
from __future__ import annotations

import importlib

__all__ = ["grade", "Row", "Limits"]

_LAZY = {"grade": "batch", "Row": "gradebook", "Limits": "session"}


def __getattr__(name: str):
    # Imported on first use, so that `cnncourse --help` does not load nbclient and the checks.
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
