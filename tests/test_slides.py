"""cnncourse.slides: the default slide rule, the offline reveal.js deck and ``cnncourse slides``.

The stored lessons are never edited: lessons with slide metadata are copies written to a
temporary folder. The export runs with every socket refused, so it cannot reach a network.
"""
from __future__ import annotations

import os
import socket
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cnncourse import slides
from cnncourse.cli import main
from cnncourse.notebook_tools import lesson_paths
from cnncourse.widget_snapshot import WIDGET_VIEW, snapshot_widgets

from _html_checks import parse_page, remote_loads

LESSONS = lesson_paths(Path(__file__).parents[1] / "notebooks")


def _graded(source, grade_id, solution=False):
    cell = new_code_cell(source)
    cell.metadata.nbgrader = {"schema_version": 3, "grade": not solution, "solution": solution,
                              "locked": not solution, "task": False, "grade_id": grade_id}
    return cell


def _toy_lesson():
    return new_notebook(cells=[
        new_markdown_cell("# Lesson 9 — Toy\n\nWhat you will learn."),          # slide
        new_code_cell("import numpy as np"),                                      # skip: setup
        new_markdown_cell("Some prose, then\n\n## 1. First section"),            # slide
        new_code_cell("x = np.ones(3)\nx"),                                       # -
        new_markdown_cell("An explanation after code."),                          # subslide
        new_markdown_cell("More of it, after markdown."),                         # -
        new_markdown_cell("### Predict before you run\n\nHow many?"),            # subslide
        _graded("### BEGIN SOLUTION\nq09_n = 3\n### END SOLUTION", "q09_n-solution", True),  # skip
        _graded('check_prediction("q09_n", q09_n)', "q09_n"),                     # skip
        new_code_cell("print(len(x))"),                                           # fragment
        new_code_cell("print('more')"),                                           # -
        new_markdown_cell("**Predict before you run.** And this?"),               # subslide
        new_markdown_cell("```python\n# not a heading\n```\nplain"),              # -
        new_markdown_cell("## Exercises"),                                        # slide
        _graded("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
                "f-solution", True),                                              # skip
        _graded('check("f", f)', "f"),                                            # skip
    ])


TOY_TYPES = ["slide", "skip", "slide", "-", "subslide", "-", "subslide", "skip", "skip",
             "fragment", "-", "subslide", "-", "slide", "skip", "skip"]


def test_default_rule_on_every_kind_of_cell():
    assert slides.propose_slide_types(_toy_lesson()) == TOY_TYPES


def test_with_slide_types_keeps_an_author_s_choice_unless_told():
    nb = _toy_lesson()
    nb.cells[3].metadata.slideshow = {"slide_type": "notes"}
    kept = slides.with_slide_types(nb)
    assert [slides.slide_type(c) for c in kept.cells] == TOY_TYPES[:3] + ["notes"] + TOY_TYPES[4:]
    assert slides.slide_type(slides.with_slide_types(nb, overwrite=True).cells[3]) == "-"
    assert slides.slide_type(nb.cells[0]) == "-"  # the input is not changed
    assert not slides.has_slide_metadata(_toy_lesson()) and slides.has_slide_metadata(kept)


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_default_rule_on_each_lesson(path):
    """Sections start slides, no answer is shown, every prediction's answer is a fragment."""
    nb = nbformat.read(str(path), as_version=4)
    types = slides.propose_slide_types(nb)
    assert set(types) <= set(slides.SLIDE_TYPES)
    shown = [t for t in types if t != "skip"]
    assert shown[0] == "slide", "the lesson's title must open the deck"
    for cell, kind in zip(nb.cells, types):
        if cell.metadata.get("nbgrader", {}).get("solution") or cell.metadata.get("nbgrader", {}).get("grade"):
            assert kind == "skip", f"an nbgrader cell is shown: {cell.source[:60]!r}"
        if cell.cell_type == "markdown" and any(line.startswith("## ") for line in cell.source.splitlines()):
            assert kind == "slide", f"a section heading does not start a slide: {cell.source[:60]!r}"
    checks = [i for i, c in enumerate(nb.cells) if "check_prediction(" in c.source
              and c.metadata.get("nbgrader", {}).get("grade")]
    assert checks, "every lesson asks predict-before-you-run questions"
    for i in checks:
        after = next(t for c, t in zip(nb.cells[i + 1:], types[i + 1:]) if t != "skip")
        assert after == "fragment", f"the answer after {nb.cells[i].source!r} is not a fragment"
    assert types.count("slide") >= 5


class _Sections(HTMLParser):
    """Counts reveal.js slides (outer sections), sub-slides (inner ones) and fragments."""

    def __init__(self):
        super().__init__()
        self.depth, self.outer, self.inner, self.fragments, self.notes = 0, 0, 0, 0, 0

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "section":
            self.depth += 1
            self.outer += self.depth == 1
            self.inner += self.depth == 2
        elif "fragment" in classes:
            self.fragments += 1
        elif tag == "aside" and "notes" in classes:
            self.notes += 1

    def handle_endtag(self, tag):
        if tag == "section":
            self.depth -= 1


@pytest.fixture
def no_network(monkeypatch):
    """Every attempt to open a connection or resolve a name fails, as on a machine offline."""
    def refuse(*args, **kwargs):
        raise OSError("network access attempted during the slide export")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def reveal_dir():
    try:
        return slides.find_reveal()
    except FileNotFoundError as err:
        if os.environ.get("CI"):
            pytest.fail(f"CI installs the instructor extra, which brings reveal.js: {err}")
        pytest.skip(str(err))


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_offline_deck_of_each_lesson(path, tmp_path, reveal_dir, no_network):
    """A copy of the lesson with slide metadata (the default rule plus a speaker note) exports
    offline into one slide per slide cell, one sub-slide per slide or subslide cell, one fragment
    per fragment cell, and loads nothing remote."""
    nb = slides.with_slide_types(nbformat.read(str(path), as_version=4))
    note = new_markdown_cell("Speaker note: ask who has seen a pixel up close.")
    note.metadata.slideshow = {"slide_type": "notes"}
    nb.cells.insert(1, note)
    copy = tmp_path / "lessons" / path.name
    copy.parent.mkdir()
    nbformat.write(nb, str(copy))

    deck = slides.export_slides(copy, tmp_path / "deck", reveal=reveal_dir)
    types = [slides.slide_type(c) for c in nb.cells]
    counted = _Sections()
    counted.feed(deck.read_text(encoding="utf-8"))
    assert counted.outer == types.count("slide")
    assert counted.inner == types.count("slide") + types.count("subslide")
    assert counted.fragments == types.count("fragment")
    assert counted.notes == types.count("notes") == 1

    html = deck.read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in html and "check_prediction(" not in html  # skipped cells
    assert WIDGET_VIEW not in html and "cnn-widget-snapshot" in html
    assert remote_loads([deck]) == []
    loads = {url for _, url in parse_page(deck).loads}
    assert {"reveal.js/dist/reveal.js", "reveal.js/plugin/notes/notes.js",
            "reveal.js/dist/reveal.css", "reveal.js/dist/theme/white.css"} <= loads
    for url in loads - {u for u in loads if u.startswith("data:")}:
        assert (deck.parent / url).is_file(), f"the deck loads {url}, which was not written"


def test_remote_loads_are_found(tmp_path):
    """The offline check itself: it flags loads, not links or prose."""
    (tmp_path / "local.css").write_text("@import url(https://fonts.example/a.css); /* https://x */")
    page = tmp_path / "page.html"
    page.write_text('<link rel="stylesheet" href="local.css"><a href="https://example.org">a link</a>'
                    '<p>see https://example.org</p><script src="//cdn.example/x.js"></script>'
                    '<img srcset="a.png 1x, https://img.example/b.png 2x">'
                    '<script>import("https://esm.example/m.js")</script>'
                    '<script>var lib = "https://cdn.example/lib.min.js"; var home = "https://example.org/";</script>')
    found = remote_loads([page])
    assert len(found) == 5, found
    assert not any("example.org" in f for f in found)


def test_snapshot_replaces_widgets_by_their_saved_image():
    nb = nbformat.read(str(LESSONS[0]), as_version=4)
    assert "widgets" in nb.metadata
    snap = snapshot_widgets(nb)
    assert "widgets" not in snap.metadata and "widgets" in nb.metadata
    htmls = [o.data["text/html"] for c in snap.cells for o in c.get("outputs", [])
             if "text/html" in o.get("data", {}) and "cnn-widget-snapshot" in o.data["text/html"]]
    assert htmls and all("data:image/png;base64," in h and " = " in h for h in htmls)


def test_missing_reveal_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(slides.REVEAL_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="instructor"):
        slides.find_reveal()
    assert main(["slides", "1", "--out", str(tmp_path / "out")]) == 2
    message = capsys.readouterr().out
    assert "dist/reveal.js" in message and "npm install reveal.js" in message
    assert not (tmp_path / "out").exists()


def test_unknown_lesson_and_theme_are_named(tmp_path, reveal_dir, capsys):
    assert main(["slides", "99", "--out", str(tmp_path)]) == 2
    assert "no lesson '99'" in capsys.readouterr().out
    with pytest.raises(ValueError, match="theme='nope'"):
        slides.export_slides(LESSONS[0], tmp_path, reveal=reveal_dir, theme="nope")


def test_cli_writes_a_deck_from_the_lessons_slide_metadata(tmp_path, reveal_dir, no_network, capsys):
    assert main(["slides", LESSONS[-1].stem, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    nb = nbformat.read(str(LESSONS[-1]), as_version=4)
    assert slides.has_slide_metadata(nb)
    types = [slides.slide_type(c) for c in nb.cells]
    assert f"{types.count('slide')} slides, {types.count('subslide')} sub-slides" in out
    assert "from its slide metadata" in out
    assert (tmp_path / f"{LESSONS[-1].stem}.slides.html").is_file()
    assert (tmp_path / "reveal.js" / "LICENSE").is_file()


def test_cli_falls_back_to_the_default_rule(tmp_path, reveal_dir, no_network, capsys):
    nb = nbformat.read(str(LESSONS[-1]), as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("slideshow", None)
    bare = tmp_path / "bare.ipynb"
    nbformat.write(nb, str(bare))
    assert main(["slides", str(bare), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    types = slides.propose_slide_types(nb)
    assert f"{types.count('slide')} slides, {types.count('subslide')} sub-slides" in out
    assert "default rule" in out


def test_cli_writes_a_notebook_for_rise(tmp_path, reveal_dir, capsys):
    assert main(["slides", "3", "--out", str(tmp_path), "--notebook"]) == 0
    copy = nbformat.read(str(tmp_path / LESSONS[2].name), as_version=4)
    assert [slides.slide_type(c) for c in copy.cells] == slides.propose_slide_types(copy)
    assert any(c.get("outputs") for c in copy.cells), "the copy keeps the lesson's outputs"
    assert "present live with RISE" in capsys.readouterr().out
