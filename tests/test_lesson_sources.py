"""Tests of cnncourse.lesson_sources and scripts/build_lessons.py: every stored lesson notebook is
the one its text source builds (CI runs this beside strict nbval), a difference is named, the
short nbgrader metadata of a source is filled in, and a build executes, is deterministic and
writes nothing when a cell fails."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("jupytext")

from cnncourse.lesson_sources import (build, nbgrader_metadata, notebook_for, read_source,  # noqa: E402
                                      repository, source_paths, stale)
from cnncourse.notebook_tools import lesson_paths  # noqa: E402

ROOT = repository()
SOURCES = source_paths()


def test_every_lesson_has_a_source_and_every_source_a_notebook():
    assert [p.stem for p in SOURCES] == [p.stem for p in lesson_paths(ROOT / "notebooks")]


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_the_stored_notebook_is_current_with_its_source(source):
    assert stale(source) is None


def _copy(tmp_path, source):
    lessons, notebooks = tmp_path / "lessons", tmp_path / "notebooks"
    lessons.mkdir()
    notebooks.mkdir()
    shutil.copy(source, lessons / source.name)
    shutil.copy(notebook_for(source), notebooks / notebook_for(source).name)
    return lessons / source.name, notebooks


def test_stale_names_the_first_difference(tmp_path):
    source, notebooks = _copy(tmp_path, SOURCES[0])
    text = source.read_text()
    source.write_text(text.replace("**You need**", "**You will need**", 1))
    reason = stale(source, notebooks)
    assert "differs from" in reason and "in its source" in reason and "build_lessons.py" in reason
    source.write_text(text.replace('nbgrader={"grade": true,', 'nbgrader={"grade": true, "locked": false,', 1))
    assert "in its metadata" in stale(source, notebooks)
    source.write_text(text + '\n# %%\nprint("one more cell")\n')
    assert "cells" in stale(source, notebooks)
    notebook_for(source, notebooks).unlink()
    assert "missing" in stale(source, notebooks)


def test_short_nbgrader_metadata_is_filled_in_and_checked():
    assert nbgrader_metadata({"solution": True, "grade_id": "f-solution"}) == {
        "grade": False, "grade_id": "f-solution", "locked": False, "schema_version": 3,
        "solution": True, "task": False}
    assert nbgrader_metadata({"grade": True, "grade_id": "f", "points": 2})["locked"] is True
    for bad, said in (({"grade": True, "grade_id": "f"}, "needs its points"),
                      ({"grade_id": "f"}, "solution"),
                      ({"solution": True}, "grade_id"),
                      ({"solution": True, "grade_id": "f", "pionts": 1}, "unknown nbgrader keys")):
        with pytest.raises(ValueError, match=said):
            nbgrader_metadata(bad, "cell 3")


TINY = '''# %% [markdown] slideshow={"slide_type": "slide"}
# # A tiny lesson

# %%
import numpy as np
print(np.arange(3).sum())

# %% nbgrader={"grade": true, "grade_id": "tiny", "points": 1} tags=["nbval-ignore-output"]
print("a test cell")
'''


def test_a_source_cell_may_carry_only_its_own_metadata(tmp_path):
    source = tmp_path / "01_tiny.py"
    source.write_text(TINY.replace('# %%\nimport', '# %% collapsed=true\nimport'))
    with pytest.raises(ValueError, match=r"01_tiny.py, cell 1 .*not \['collapsed'\]"):
        read_source(source)


@pytest.mark.slow
def test_build_runs_the_lesson_deterministically_and_stops_on_an_error(tmp_path):
    source = tmp_path / "01_tiny.py"
    source.write_text(TINY)
    target = build(source, tmp_path / "notebooks")
    nb = nbformat.read(str(target), as_version=4)
    assert nb.cells[1].outputs[0].text == "3\n"
    assert nb.cells[0].metadata == {"slideshow": {"slide_type": "slide"}}
    assert nb.cells[2].metadata["nbgrader"]["locked"] is True and nb.cells[2].metadata["tags"]
    assert all("execution" not in c.metadata for c in nb.cells)
    first = target.read_bytes()
    build(source, tmp_path / "notebooks")
    assert target.read_bytes() == first, "an unchanged lesson builds to the same file"
    assert stale(source, tmp_path / "notebooks") is None

    source.write_text(TINY + '\n# %%\nraise ValueError("broken lesson")\n')
    with pytest.raises(Exception, match="broken lesson"):
        build(source, tmp_path / "notebooks")
    assert target.read_bytes() == first, "nothing is written when a cell fails"


def test_the_command_line_checks_and_refuses_an_unknown_lesson():
    script = ROOT / "scripts" / "build_lessons.py"
    ok = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert ok.returncode == 0 and "current" in ok.stdout, ok.stdout + ok.stderr
    bad = subprocess.run([sys.executable, str(script), "99", "--check"], capture_output=True, text=True)
    assert bad.returncode != 0 and "the lessons are:" in bad.stderr


def test_sources_are_valid_python_without_notebook_metadata():
    for source in SOURCES:
        text = source.read_text()
        compile(text, str(source), "exec")
        assert not text.startswith("# ---"), f"{source.name}: no jupytext header in a source"
        assert json.dumps(read_source(source).metadata["kernelspec"])


_HEADING = re.compile(r"^(#{1,6})\s+\S")


def _headings(markdown: str) -> list[tuple[int, int]]:
    """``(line number, level)`` of each heading of a Markdown text, outside fenced code."""
    found, fence = [], False
    for k, line in enumerate(markdown.splitlines()):
        if line.startswith("```"):
            fence = not fence
        elif not fence and (m := _HEADING.match(line)):
            found.append((k, len(m.group(1))))
    return found


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_each_heading_starts_its_own_cell_and_its_slide(source):
    nb = read_source(source)
    seen_section = False
    for index, cell in enumerate(nb.cells):
        where = f"{source.name}, cell {index} ({cell.source[:50]!r})"
        slide = cell.metadata.get("slideshow", {}).get("slide_type", "-")
        assert slide in ("slide", "subslide", "fragment", "skip", "notes", "-"), where
        if cell.cell_type == "markdown":
            heads = _headings(cell.source)
            assert [k for k, _ in heads] in ([], [0]), f"{where}: one heading per cell, on its first line"
            if heads:
                level = heads[0][1]
                seen_section = seen_section or level == 2
                assert slide == ("slide" if level <= 2 else "subslide"), f"{where}: {slide}"
        elif "nbgrader" in cell.metadata or not seen_section:
            assert slide == "skip", f"{where}: setup and nbgrader cells are skipped in slides"
