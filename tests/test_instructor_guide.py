"""The instructor guide (``instructors/``) agrees with the lessons and with ``cnncourse.checks``.

For every lesson in ``notebooks/``: a notes file ``instructors/<lesson>.md`` exists; its timing
table lists the lesson's ``#``/``##`` headings in order, each with the graded items (nbgrader test
cells) under it; every ``exercise``: ``diagnosis`` pair names a diagnosis the check reports; every
prediction's answer and common wrong answers are the ones its check computes. Nothing here is
typed twice: the expected values come from the lesson notebooks and the checks.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from cnncourse.checks import exercises, get_exercise
from cnncourse.notebook_tools import lesson_paths

ROOT = Path(__file__).parents[1]
GUIDE = ROOT / "instructors"
LESSONS = lesson_paths(ROOT / "notebooks")
IDS = [p.stem for p in LESSONS]
REQUIRED = ["Learning objectives", "Timing", "Misconceptions", "Predict-before-you-run answers",
            "Live-coding plan", "Grading"]


def _plain(text: str) -> str:
    """Heading or cell text without markdown emphasis and code marks, spaces collapsed."""
    return " ".join(re.sub(r"[`*]", "", text).split())


def _sections(markdown: str, level: int) -> dict[str, str]:
    """``{heading: body}`` for the headings of exactly ``level``; a shallower heading ends a body
    (fenced code is not searched for headings)."""
    found, name, lines, fenced = {}, None, [], False
    for line in markdown.splitlines():
        fenced ^= line.startswith("```")
        match = None if fenced else re.match(r"(#{1,6}) (.*)", line)
        if match and len(match.group(1)) <= level:
            if name is not None:
                found[name] = "\n".join(lines)
            name, lines = (match.group(2).strip() if len(match.group(1)) == level else None), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        found[name] = "\n".join(lines)
    return found


def _table(body: str) -> list[list[str]]:
    """The rows of the first markdown table in ``body`` (header and separator dropped)."""
    rows = [line for line in body.splitlines() if line.strip().startswith("|")]
    assert len(rows) >= 2, f"no table in:\n{body[:300]}"
    cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows]
    return cells[2:]


def _lesson_outline(path: Path) -> list[tuple[str, list[str]]]:
    """``[(heading, [graded item ids under it]), ...]`` for the lesson's ``#`` and ``##`` headings."""
    nb = nbformat.read(str(path), as_version=4)
    outline = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            fenced = False
            for line in cell.source.splitlines():
                fenced ^= line.startswith("```")
                if not fenced and re.match(r"#{1,2} \S", line):
                    outline.append((_plain(line.lstrip("#")), []))
        grader = cell.metadata.get("nbgrader", {})
        if grader.get("grade") and cell.cell_type == "code":
            assert outline, f"{path.name}: a graded cell comes before the first heading"
            outline[-1][1].append(grader["grade_id"])
    return outline


def _show(value) -> str:
    """A value as the guide writes it: ints with thousands separators, floats to 3 decimals."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return repr(tuple(value)) if isinstance(value, (tuple, list)) else str(value)


def _guide(path: Path) -> str:
    notes = GUIDE / f"{path.stem}.md"
    assert notes.is_file(), f"lesson {path.name} has no instructor notes: write {notes.relative_to(ROOT)}"
    return notes.read_text(encoding="utf-8")


def _lesson_minutes(path: Path) -> int:
    """The teaching time the lesson's opening cell states ("Time ... about N minutes")."""
    first = nbformat.read(str(path), as_version=4).cells[0].source
    found = re.search(r"\*\*Time\*\*[^0-9]*?(\d+)\s*min", first)
    assert found, f"{path.name}: the opening cell states no time (**Time** ... N minutes)"
    return int(found.group(1))


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_notes_have_every_part(path):
    text = _guide(path)
    sections = _sections(text, 2)
    missing = [name for name in REQUIRED if name not in sections]
    assert not missing, f"instructors/{path.stem}.md lacks the sections {missing}"
    objectives = [line for line in sections["Learning objectives"].splitlines() if line.startswith("- ")]
    assert len(objectives) >= 3
    assert f"../notebooks/{path.name}" in text, "the notes link to their lesson"


def timing_problems(text: str, path: Path) -> list[str]:
    """What is wrong with a guide's timing table for the lesson at ``path``."""
    rows = _table(_sections(text, 2)["Timing"])
    total = [r for r in rows if _plain(r[0]).lower() == "total"]
    rows = [r for r in rows if _plain(r[0]).lower() != "total"]
    outline = _lesson_outline(path)
    problems = []
    if [_plain(r[0]) for r in rows] != [heading for heading, _ in outline]:
        problems.append(f"sections {[_plain(r[0]) for r in rows]} are not the lesson's # and ## "
                        f"headings {[h for h, _ in outline]}")
    for row, (heading, graded) in zip(rows, outline):
        named = re.findall(r"`([^`]+)`", row[3])
        if named != graded:
            problems.append(f"{heading!r}: the table names {named}, the lesson grades {graded}")
        if graded and int(row[2]) <= 0:
            problems.append(f"{heading!r} has graded items but no exercise minutes")
    if len(total) != 1:
        return problems + ["the table must end with one **Total** row"]
    for column, name in ((1, "teaching"), (2, "exercise")):
        if int(total[0][column]) != sum(int(r[column]) for r in rows):
            problems.append(f"the {name} total {total[0][column]} is not the sum of its column")
    stated = _lesson_minutes(path)
    if not 0.75 * stated <= int(total[0][1]) <= 1.25 * stated:
        problems.append(f"teaching time {total[0][1]} min is far from the lesson's stated {stated} min")
    return problems


def diagnosis_problems(text: str, path: Path) -> list[str]:
    """Misconception rows that name no diagnosis, or one its exercise cannot report."""
    rows = _table(_sections(text, 2)["Misconceptions"])
    problems = [] if len(rows) >= 5 else [f"only {len(rows)} misconceptions"]
    covered = set()
    for row in rows:
        pairs = re.findall(r"`([A-Za-z0-9_]+)`:\s*`([A-Za-z0-9_]+)`", row[-1])
        if not pairs:
            problems.append(f"misconception {row[0][:50]!r} names no `exercise`: `diagnosis`")
        for exercise_id, key in pairs:
            try:
                exercise = get_exercise(exercise_id)
            except ValueError as err:
                problems.append(str(err)[:80])
                continue
            if exercise.lesson != path.stem:
                problems.append(f"{exercise_id} is not an exercise of {path.stem}")
            elif key not in exercise.diagnoses:
                problems.append(f"{exercise_id} cannot report {key!r}; it reports {sorted(exercise.diagnoses)}")
            covered.add(exercise_id)
    function_ids = {e.id for e in exercises(path.stem) if e.kind == "function"}
    if not function_ids <= covered:
        problems.append(f"no misconception for {sorted(function_ids - covered)}")
    return problems


def answer_problems(text: str, path: Path) -> list[str]:
    """Predictions without an answer, or with an answer or wrong answer that is not the check's."""
    answers = _sections(_sections(text, 2)["Predict-before-you-run answers"], 3)
    by_id = {re.sub(r"[`\s]", "", name): body for name, body in answers.items()}
    predictions = [e for e in exercises(path.stem) if e.kind == "prediction"]
    in_lesson = [gid for _, graded in _lesson_outline(path) for gid in graded
                 if get_exercise(gid).kind == "prediction"]
    problems = []
    if sorted(in_lesson) != sorted(e.id for e in predictions):
        problems.append(f"the lesson asks {sorted(in_lesson)}, the checks define {sorted(e.id for e in predictions)}")
    if set(by_id) != {e.id for e in predictions}:
        problems.append(f"answers given for {sorted(by_id)}, predictions are {sorted(e.id for e in predictions)}")
    for exercise in predictions:
        body = by_id.get(exercise.id, "")
        case = exercise.cases()[0]
        line = next((ln for ln in body.splitlines() if ln.startswith("**Answer:**")), "")
        expected = _show(exercise.reference(case))
        if not line.split("**Answer:**", 1)[-1].strip().startswith(expected):
            problems.append(f"{exercise.id}: the guide says {line!r}; the check's answer is {expected}")
        variants = {v.key: v for v in exercise.variants}
        for row in (_table(body) if "|" in body else []):
            key = row[1].strip("` ")
            if key not in variants:
                problems.append(f"{exercise.id}: {key!r} is not a wrong answer its check knows")
            elif _plain(row[0]) != _show(variants[key].compute(case)):
                problems.append(f"{exercise.id}: {key} gives {_show(variants[key].compute(case))}, "
                                f"the guide says {row[0]}")
    return problems


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_timing_table_matches_the_lesson(path):
    assert timing_problems(_guide(path), path) == []


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_misconceptions_name_real_diagnoses(path):
    assert diagnosis_problems(_guide(path), path) == []


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_prediction_answers_are_the_checks(path):
    assert answer_problems(_guide(path), path) == []


def test_guide_links_to_the_readme_grading_section():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    headings = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
                for h in re.findall(r"^#{1,6} (.+)$", readme, re.MULTILINE)}
    for notes in [GUIDE / "README.md", *(GUIDE / f"{p.stem}.md" for p in LESSONS)]:
        anchors = re.findall(r"\]\(\.\./README\.md#([\w-]+)\)", notes.read_text(encoding="utf-8"))
        assert anchors, f"{notes.name} does not point to the README's grading section"
        assert set(anchors) <= headings, f"{notes.name} links to missing README anchors {set(anchors) - headings}"


def test_a_wrong_guide_is_caught():
    """Each check fails on a guide with one mistake in it."""
    path = LESSONS[0]
    good = _guide(path)
    outline = _lesson_outline(path)
    heading, graded = next((h, g) for h, g in outline if g)
    first = graded[0]
    renamed = good.replace(f"| {outline[1][0]} |", f"| {outline[1][0]} (renamed) |", 1)
    moved = good.replace(f"`{first}`, ", "", 1).replace(f"`{first}`", "", 1)
    assert timing_problems(renamed, path) and timing_problems(moved, path)
    bad_key = re.sub(r"(`[a-z0-9_]+`: `)[a-z_]+(`)", r"\1no_such_mistake\2", good, count=1)
    assert diagnosis_problems(bad_key, path)
    prediction = next(e for e in exercises(path.stem) if e.kind == "prediction")
    answer = _show(prediction.reference(prediction.cases()[0]))
    assert answer in good
    assert answer_problems(good.replace(f"**Answer:** {answer}", "**Answer:** 42", 1), path)
