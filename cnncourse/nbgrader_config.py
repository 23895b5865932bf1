"""nbgrader set up to release exactly the learner versions that ``cnncourse start`` writes.

nbgrader replaces every solution region with one fixed code stub, ``raise
NotImplementedError()``. In a prediction cell (``q02_params = ...``) that stub raises as soon as
the cell runs, and Run All stops there. :class:`ClearSolutions` puts the course's stubs instead
(:func:`cnncourse.notebook_tools.student_source`): ``raise NotImplementedError("exercise <id>:
...")`` inside a function body, ``<id> = ...`` for a value. Everything else nbgrader does (locked
cells, checksums, hidden tests, autograding) is unchanged.

Use it in the course's ``nbgrader_config.py``::

    from cnncourse.nbgrader_config import configure
    configure(get_config())

Importing this module needs nbgrader (``pip install -e ".[instructor]"``).
"""
from __future__ import annotations

from nbgrader import utils
from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import ClearSolutions as NbgraderClearSolutions

from .notebook_tools import student_source

__all__ = ["ClearSolutions", "configure"]


class ClearSolutions(NbgraderClearSolutions):
    """nbgrader's ``ClearSolutions`` with the course's stubs for code solution cells."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and utils.is_solution(cell):
            cell.source = student_source(cell)
            return cell, resources
        return super().preprocess_cell(cell, resources, cell_index)


def configure(c) -> None:
    """Make ``nbgrader generate_assignment`` use :class:`ClearSolutions` (``c`` is the config
    object of an ``nbgrader_config.py``)."""
    default = GenerateAssignment.class_traits()["preprocessors"].default()
    if NbgraderClearSolutions not in default:
        raise RuntimeError("this nbgrader's GenerateAssignment has no ClearSolutions step to replace: "
                           f"{default}")
    c.GenerateAssignment.preprocessors = [
        ClearSolutions if p is NbgraderClearSolutions else p for p in default]
