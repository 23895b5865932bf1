"""Batch grading that a submission cannot fool: ``cnncourse grade``.

Layout (one concept per module):

- :mod:`~cnncourse.grading.submissions`    finding and reading submissions (regular files only)
- :mod:`~cnncourse.grading.notebooks`      source notebooks, which of a learner's cells run
- :mod:`~cnncourse.grading.analysis`       the static pass over a submission, in a capped process
- :mod:`~cnncourse.grading.integrity`      reading the learner's code for solutions not their own
- :mod:`~cnncourse.grading.forbidden`      what a solution may not call, computed from the package
- :mod:`~cnncourse.grading.wire`           the one wire format between grader and kernel, with caps
- :mod:`~cnncourse.grading.kernel_harness` code the grader runs in the learner's kernel
- :mod:`~cnncourse.grading.transport`      cases in, outcomes out (the grader's side of the wire)
- :mod:`~cnncourse.grading.sandbox`        the bubblewrap sandbox around every kernel
- :mod:`~cnncourse.grading.session`        one learner kernel under time and memory limits
- :mod:`~cnncourse.grading.runner`         grading one notebook into rows
- :mod:`~cnncourse.grading.gradebook`      rows, authenticated journal, CSV and feedback files
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
