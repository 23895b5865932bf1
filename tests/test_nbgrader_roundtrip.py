"""nbgrader round trip: ``nbgrader generate_assignment`` (configured with
:mod:`cnncourse.nbgrader_config`) makes the same student versions as ``cnncourse start``, and
``nbgrader autograde`` gives full marks to the complete notebooks and zero to the blank student
versions — whose checks, under nbgrader (``NBGRADER_EXECUTION``), raise instead of only showing.

Skipped without nbgrader (install the ``instructor`` extra). The fixture lesson always goes
through the whole round trip; the real lessons in ``notebooks/`` are compared after
``generate_assignment`` and, being slower to execute, autograded in a test marked ``slow``.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

from cnncourse.notebook_tools import lesson_paths, read_notebook, student_version  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "lessons" / "90_fixture.ipynb"
LESSONS = lesson_paths(Path(__file__).parents[1] / "notebooks")
ASSIGNMENT = "course"
# The course's nbgrader configuration (cnncourse.nbgrader_config) makes nbgrader write the same
# stubs as `cnncourse start`: stubs that do not raise when their cell runs.
CONFIG = """
from cnncourse.nbgrader_config import configure
c = get_config()
configure(c)
c.CourseDirectory.course_id = "cnncourse"
c.Execute.timeout = 300
"""


def _nbgrader(root: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _course(tmp_path: Path, notebooks: list[Path]) -> Path:
    root = tmp_path / "nbgrader-course"
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(CONFIG)
    for path in notebooks:
        student_version(read_notebook(path))  # a misplaced marker: a clear error, naming the cell
        shutil.copy(path, root / "source" / ASSIGNMENT / path.name)
    _nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    return root


def _code_cells(nb) -> list[str]:
    return [c.source.rstrip("\n") for c in nb.cells if c.cell_type == "code"]


def _assert_same_student_versions(root: Path, notebooks: list[Path]) -> None:
    for path in notebooks:
        theirs = read_notebook(root / "release" / ASSIGNMENT / path.name)
        ours = student_version(read_notebook(path))
        assert _code_cells(theirs) == _code_cells(ours), path.name


def _autograde(root: Path, notebooks: list[Path]) -> dict:
    """Autograde the complete notebooks as student 'solved' and the blank student versions as
    student 'blank'; return {(student, notebook): (score, max_score)}."""
    from nbgrader.api import Gradebook

    for student, folder in (("solved", root / "source" / ASSIGNMENT),
                            ("blank", root / "release" / ASSIGNMENT)):
        target = root / "submitted" / student / ASSIGNMENT
        target.mkdir(parents=True)
        for path in notebooks:
            shutil.copy(folder / path.name, target / path.name)
    _nbgrader(root, "autograde", ASSIGNMENT, "--force")
    scores = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in ("solved", "blank"):
            for path in notebooks:
                nb = gb.find_submission_notebook(path.stem, ASSIGNMENT, student)
                scores[student, path.stem] = (nb.score, nb.max_score)
    return scores


def _assert_full_and_zero(scores: dict, notebooks: list[Path]) -> None:
    for path in notebooks:
        score, max_score = scores["solved", path.stem]
        assert max_score > 0 and score == max_score, (path.name, scores)
        assert scores["blank", path.stem][0] == 0, (path.name, scores)


def test_fixture_round_trip(tmp_path):
    root = _course(tmp_path, [FIXTURE])
    _assert_same_student_versions(root, [FIXTURE])
    _assert_full_and_zero(_autograde(root, [FIXTURE]), [FIXTURE])


@pytest.fixture(scope="module")
def lesson_course(tmp_path_factory):
    if not LESSONS:
        pytest.skip("no lesson notebooks yet")
    return _course(tmp_path_factory.mktemp("lessons"), LESSONS)


def test_lessons_generate_the_same_student_versions(lesson_course):
    _assert_same_student_versions(lesson_course, LESSONS)


@pytest.mark.slow
def test_lessons_autograde_full_marks_and_zero(lesson_course):
    _assert_full_and_zero(_autograde(lesson_course, LESSONS), LESSONS)
