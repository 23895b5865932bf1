"""Slides from the lessons: the slide convention, a default rule, and ``cnncourse slides LESSON``.

**The convention** is Jupyter's own: each cell may carry ``metadata.slideshow.slide_type``, one of
``slide`` (a new slide, left to right), ``subslide`` (a new slide below the current one),
``fragment`` (appears on the next key press), ``skip`` (not shown), ``notes`` (speaker notes,
press S) or ``-`` (continues the current slide; the same as no metadata). JupyterLab's RISE
extension (live slides with a running kernel) and ``jupyter nbconvert --to slides`` read it.

**The default rule** (:func:`propose_slide_types`), for a lesson that carries no slide metadata:

1. nbgrader cells (solutions, checks) → ``skip``: the class predicts aloud and does the
   exercises afterwards; the answers are in the instructor guide, so a deck can be handed out;
2. code cells before the first ``##`` heading (the setup imports) → ``skip``;
3. a markdown cell with a ``#`` or ``##`` heading (anywhere in it) → ``slide``;
4. a markdown cell with a deeper heading, or opening with "**Predict before you run" → ``subslide``;
5. the first code cell after a prediction's check (the cell that reveals the answer) →
   ``fragment``: the question stays on screen and the answer appears on a key press;
6. any other markdown cell that follows a shown code cell → ``subslide`` (one idea per slide);
7. everything else → ``-``.

**The deck** (:func:`export_slides`) is nbconvert's reveal.js export with a template whose every
script and style sheet is local: reveal.js is copied beside the deck from an installed copy
(the ``instructor`` extra installs ``sphinx-revealjs``, which ships reveal.js 5), the notebook's
CSS and figures are inlined, and the explorers become static snapshots
(:mod:`cnncourse.widget_snapshot`). Nothing is fetched when the command runs or when the deck is
opened, so it works offline, from a USB stick.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
from pathlib import Path

import nbformat

from .widget_snapshot import snapshot_widgets

__all__ = [
    "SLIDE_TYPES",
    "slide_type",
    "has_slide_metadata",
    "propose_slide_types",
    "with_slide_types",
    "find_reveal",
    "reveal_version",
    "resolve_lesson",
    "export_slides",
    "register",
]

SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
REVEAL_ENV = "CNNCOURSE_REVEAL_JS"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "cnncourse_slides"
# What a deck needs of reveal.js (copied next to it); the theme's fonts are added.
_REVEAL_FILES = ("dist/reveal.js", "dist/reveal.css", "plugin/notes/notes.js")
_HEADING = re.compile(r"^(#{1,6})\s+\S", re.MULTILINE)
_PREDICT = re.compile(r"^\s*\*\*Predict before you run", re.IGNORECASE)


def slide_type(cell) -> str:
    """The cell's ``slideshow.slide_type``, ``"-"`` when it has none."""
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def has_slide_metadata(nb) -> bool:
    """Whether any cell of ``nb`` carries a ``slideshow`` slide type."""
    return any("slide_type" in c.get("metadata", {}).get("slideshow", {}) for c in nb.cells)


def _heading_levels(source: str) -> set[int]:
    return {len(m.group(1)) for m in _HEADING.finditer(_strip_code_blocks(source))}


def _strip_code_blocks(source: str) -> str:
    """Markdown without its fenced code blocks (a ``# comment`` there is not a heading)."""
    return re.sub(r"^```.*?^```", "", source, flags=re.MULTILINE | re.DOTALL)


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if (meta.get("solution") or meta.get("grade")) else {}


def propose_slide_types(nb) -> list[str]:
    """A slide type for every cell of ``nb``, by the rule in the module docstring.

    Example:
        >>> from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
        >>> nb = new_notebook(cells=[new_markdown_cell("# Lesson"), new_code_cell("import numpy"),
        ...     new_markdown_cell("## 1. Arrays"), new_code_cell("x = 1"), new_markdown_cell("So.")])
        >>> propose_slide_types(nb)
        ['slide', 'skip', 'slide', '-', 'subslide']
    """
    types: list[str] = []
    seen_section = False      # a ``##`` heading has been seen: code cells are no longer setup
    previous_shown = None     # the type of the last cell that is shown
    after_prediction = False  # a prediction's check came since the last shown cell
    for cell in nb.cells:
        kind = cell.cell_type
        levels = _heading_levels(cell.source) if kind == "markdown" else set()
        seen_section = seen_section or 2 in levels
        grader = _nbgrader(cell)
        if grader:
            choice = "skip"
            after_prediction = after_prediction or (
                bool(grader.get("grade")) and "check_prediction(" in cell.source)
        elif kind == "code" and not seen_section:
            choice = "skip"
        elif levels and min(levels) <= 2:
            choice = "slide"
        elif levels or (kind == "markdown" and _PREDICT.match(cell.source)):
            choice = "subslide"
        elif kind == "code" and after_prediction:
            choice = "fragment"
        elif kind == "markdown" and previous_shown == "code":
            choice = "subslide"
        else:
            choice = "-"
        if choice != "skip":
            previous_shown, after_prediction = kind, False
        types.append(choice)
    return types


def with_slide_types(nb, overwrite: bool = False):
    """A copy of ``nb`` with ``slideshow.slide_type`` set by :func:`propose_slide_types`.

    Cells that already carry a slide type keep it unless ``overwrite``.
    """
    nb = nbformat.from_dict(nb)  # a deep copy
    for cell, proposed in zip(nb.cells, propose_slide_types(nb)):
        show = cell.metadata.setdefault("slideshow", {})
        if overwrite or "slide_type" not in show:
            show["slide_type"] = proposed
    return nb


# ------------------------------------------------------------------ reveal.js
def _is_reveal(folder: Path) -> bool:
    return all((folder / f).is_file() for f in _REVEAL_FILES)


def reveal_version(folder: Path | str) -> str:
    """The version written in the header of ``folder/dist/reveal.js`` (``"unknown"`` if none)."""
    head = (Path(folder) / "dist" / "reveal.js").read_text(encoding="utf-8", errors="replace")[:400]
    found = re.search(r"reveal\.js\s+v?(\d+\.\d+\.\d+)", head)
    return found.group(1) if found else "unknown"


def _packaged_reveal() -> Path | None:
    """reveal.js as shipped inside an installed PyPI package (sphinx-revealjs), without importing it."""
    spec = importlib.util.find_spec("sphinx_revealjs")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        for found in sorted(Path(root).rglob("dist/reveal.js")):
            if _is_reveal(found.parent.parent):
                return found.parent.parent
    return None


HOW_TO_GET_REVEAL = (
    "reveal.js was not found. Install it with the instructor extra, "
    "`python -m pip install -e \".[instructor]\"` (the sphinx-revealjs package ships a copy), "
    f"or with npm (`npm install reveal.js@5`) and pass `--reveal node_modules/reveal.js` or set "
    f"{REVEAL_ENV}. Nothing is downloaded when the slides are made."
)


def find_reveal(explicit: Path | str | None = None) -> Path:
    """The folder of a local reveal.js copy (it holds ``dist/reveal.js``).

    Looks at, in order: ``explicit``, the ``CNNCOURSE_REVEAL_JS`` environment variable, the copy
    inside the installed ``sphinx-revealjs`` package, ``./node_modules/reveal.js``.

    Raises:
        FileNotFoundError: none found, or ``explicit`` is not a reveal.js folder; the message
            says how to install one.
    """
    for given, origin in ((explicit, "--reveal"), (os.environ.get(REVEAL_ENV), REVEAL_ENV)):
        if given:
            folder = Path(given)
            if not _is_reveal(folder):
                missing = [f for f in _REVEAL_FILES if not (folder / f).is_file()]
                raise FileNotFoundError(f"{origin}={str(given)!r} is not a reveal.js folder: it has "
                                        f"no {', '.join(missing)}. {HOW_TO_GET_REVEAL}")
            return folder
    packaged = _packaged_reveal()
    if packaged is not None:
        return packaged
    local = Path("node_modules") / "reveal.js"
    if _is_reveal(local):
        return local
    raise FileNotFoundError(HOW_TO_GET_REVEAL)


def _copy_reveal(source: Path, target: Path, theme: str) -> None:
    theme_css = Path("dist") / "theme" / f"{theme}.css"
    if not (source / theme_css).is_file():
        themes = sorted(p.stem for p in (source / "dist" / "theme").glob("*.css"))
        raise ValueError(f"theme={theme!r} is not a reveal.js theme of {source}; "
                         f"choose one of: {', '.join(themes)}")
    for rel in (*_REVEAL_FILES, str(theme_css), "LICENSE"):
        if (source / rel).is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / rel, target / rel)
    css = (source / theme_css).read_text(encoding="utf-8", errors="replace")
    for font in sorted(set(re.findall(r"\./fonts/([\w.-]+)/", css))):  # only the theme's fonts
        fonts = source / "dist" / "theme" / "fonts" / font
        if fonts.is_dir():
            shutil.copytree(fonts, target / "dist" / "theme" / "fonts" / font, dirs_exist_ok=True)


# ------------------------------------------------------------------ lessons and export
def resolve_lesson(lesson: str | Path) -> Path:
    """A lesson notebook from a path, a stem (``02_convolution``) or a number (``2``, ``02``)."""
    from .notebook_tools import lesson_paths

    path = Path(lesson)
    if path.suffix == ".ipynb" and path.is_file():
        return path
    paths = lesson_paths()
    text = str(lesson).removesuffix(".ipynb")
    for candidate in paths:
        number = candidate.name.split("_", 1)[0]
        if text in (candidate.stem, number) or (text.isdigit() and int(text) == int(number)):
            return candidate
    raise ValueError(f"no lesson {str(lesson)!r}: give a notebook path, a lesson number or one of "
                     f"{', '.join(p.stem for p in paths)}")


def export_slides(notebook: Path | str, out_dir: Path | str = "slides", reveal: Path | str | None = None,
                  theme: str = "white") -> Path:
    """Write ``out_dir/<lesson>.slides.html`` and, beside it, the ``reveal.js`` files it uses.

    The lesson's own slide metadata is used when it has any; otherwise
    :func:`propose_slide_types` decides. Widget outputs become static snapshots.

    Args:
        notebook: the lesson notebook (stored with its outputs; nothing is executed).
        out_dir: folder to write into (created). Default: ``slides``.
        reveal: a reveal.js folder; default: :func:`find_reveal`.
        theme: a reveal.js theme whose CSS loads no remote font. Default: ``white``.

    Returns:
        The path of the deck.
    """
    from nbconvert import SlidesExporter

    source = find_reveal(reveal)
    nb = nbformat.read(str(notebook), as_version=4)
    if not has_slide_metadata(nb):
        nb = with_slide_types(nb)
    nb = snapshot_widgets(nb)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _copy_reveal(source, out / "reveal.js", theme)
    exporter = SlidesExporter(extra_template_basedirs=[str(TEMPLATE_DIR)], template_name=TEMPLATE_NAME,
                              reveal_url_prefix="reveal.js", reveal_theme=theme)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": Path(notebook).stem}})
    deck = out / f"{Path(notebook).stem}.slides.html"
    deck.write_text(body, encoding="utf-8")
    return deck


def _slides_command(args) -> int:
    try:
        path = resolve_lesson(args.lesson)
        nb = nbformat.read(str(path), as_version=4)
        deck = export_slides(path, args.out, reveal=args.reveal, theme=args.theme)
    except (FileNotFoundError, ValueError) as err:
        print(f"cnncourse slides: {err}")
        return 2
    types = [slide_type(c) for c in nb.cells] if has_slide_metadata(nb) else propose_slide_types(nb)
    origin = "its slide metadata" if has_slide_metadata(nb) else "the default rule (it has no slide metadata)"
    if args.notebook:
        copy = deck.parent / path.name
        if copy.resolve() == path.resolve():
            print(f"cnncourse slides: --notebook would overwrite the lesson itself ({path}); choose another --out")
            return 2
        nbformat.write(with_slide_types(nb), str(copy))
        print(f"wrote {copy}: the lesson with slide types filled in, to present live with RISE.")
    print(f"wrote {deck}: {types.count('slide')} slides, {types.count('subslide')} sub-slides, "
          f"{types.count('fragment')} fragments, from {origin}; reveal.js "
          f"{reveal_version(deck.parent / 'reveal.js')} copied into {deck.parent / 'reveal.js'}.\n"
          f"Open it in a browser (no network needed): arrows move, S opens the speaker view, "
          f"adding ?view=scroll to the address shows the slides as one scrolling page.")
    return 0


def register(subparsers) -> None:
    """Add ``cnncourse slides`` to the command line."""
    p = subparsers.add_parser(
        "slides", help="write an offline reveal.js slide deck of a lesson",
        description="Write a self-contained reveal.js slide deck of a lesson (no network needed to "
                    "make or show it). The same slide metadata drives RISE (pip install "
                    "jupyterlab-rise) for live slides with a kernel; see instructors/README.md.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("lesson", help="lesson number (2), name (02_convolution) or notebook path")
    p.add_argument("--out", default="slides", help="folder to write the deck and its reveal.js into")
    p.add_argument("--reveal", default=None,
                   help=f"a reveal.js folder (default: ${REVEAL_ENV}, then the copy in sphinx-revealjs)")
    p.add_argument("--theme", default="white", help="reveal.js theme")
    p.add_argument("--notebook", action="store_true",
                   help="also write a copy of the lesson with its slide types filled in (for RISE)")
    p.set_defaults(func=_slides_command)
