"""Build the course website, offline, from the stored notebooks: ``python scripts/build_site.py --out site/``.

Sphinx with myst-nb (``nb_execution_mode = "off"``: the stored outputs are shown, nothing runs) and
sphinx-book-theme, whose assets ship in their PyPI wheels, so the build and the pages need no
network. The pages are staged in a temporary folder with the repository's own layout, so that a
relative link works the same on GitHub and on the site:

- ``index.md`` from ``website/index.md``, with one table of contents per part (lessons, instructor
  guide, datasets, about), the lessons found as ``notebooks/NN_*.ipynb`` — a new lesson (and its
  ``instructors/NN_*.md``) appears without editing anything;
- ``notebooks/``: each lesson with its exercise cells in the learner's version (solutions removed,
  their check outputs cleared) and its explorers as static snapshots (:mod:`cnncourse.widget_snapshot`);
- ``instructors/``, ``deploy/`` (grading on a cluster), ``README.md``, ``CONTRIBUTING.md`` as they are;
- ``data/README.md`` up to its "Data cards" heading, then one page per card, ``data/<card>.md``,
  cut from that file (which is not edited).
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnncourse.notebook_tools import lesson_paths, student_version  # noqa: E402
from cnncourse.widget_snapshot import snapshot_widgets  # noqa: E402

CARDS_HEADING = "## Data cards"


def slug(title: str) -> str:
    """A file name for a card title: ``MNIST, bundled subset (`load_mnist(...)`)`` → ``mnist-bundled-subset``."""
    name = title.split("(", 1)[0]
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "card"


def split_cards(text: str) -> tuple[str, list[tuple[str, str, str]]]:
    """``data/README.md`` as ``(intro, [(slug, title, body), ...])``: every ``###`` heading under
    ``## Data cards`` starts a card, which runs to the next ``###`` or ``##`` heading."""
    if CARDS_HEADING not in text:
        raise ValueError(f"data/README.md has no {CARDS_HEADING!r} heading to split the cards at")
    intro, rest = text.split(CARDS_HEADING, 1)
    cards, after = [], ""
    parts = re.split(r"^### (.+)$", rest, flags=re.MULTILINE)
    for title, body in zip(parts[1::2], parts[2::2]):
        body, _, tail = body.partition("\n## ")
        if tail:
            after += "\n## " + tail
        cards.append((slug(title), title.strip(), body.strip()))
    seen = set()
    for i, (name, title, body) in enumerate(cards):
        k = 2
        while name in seen:
            name, k = f"{cards[i][0]}-{k}", k + 1
        seen.add(name)
        cards[i] = (name, title, body)
    return intro.rstrip() + "\n\n" + CARDS_HEADING + "\n\n" + parts[0].strip() + after, cards


def site_notebook(path: Path):
    """The lesson as shown on the site: the learner's exercise cells, explorers as snapshots."""
    nb = nbformat.read(str(path), as_version=4)
    learner = student_version(nb)
    assert len(learner.cells) == len(nb.cells)
    for cell, mine in zip(nb.cells, learner.cells):
        grader = cell.get("metadata", {}).get("nbgrader", {})
        if grader.get("solution") or grader.get("grade"):
            cell.source = mine.source
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
    return snapshot_widgets(nb)


def _toctree(caption: str, entries: list[str]) -> str:
    return "```{toctree}\n:caption: " + caption + "\n:maxdepth: 1\n\n" + "\n".join(entries) + "\n```\n"


def stage(src: Path) -> list[str]:
    """Write the site's source pages into ``src``; returns the lesson page names."""
    shutil.copytree(ROOT / "website", src, dirs_exist_ok=True)
    lessons = lesson_paths(ROOT / "notebooks")
    (src / "notebooks").mkdir()
    for path in lessons:
        nbformat.write(site_notebook(path), str(src / "notebooks" / path.name))
    shutil.copytree(ROOT / "instructors", src / "instructors")
    shutil.copytree(ROOT / "deploy", src / "deploy")      # grading on a cluster: pages and the files they show
    for name in ("README.md", "CONTRIBUTING.md"):
        shutil.copyfile(ROOT / name, src / name)
    intro, cards = split_cards((ROOT / "data" / "README.md").read_text(encoding="utf-8"))
    (src / "data").mkdir()
    links = "\n".join(f"- [{title}]({name}.md)" for name, title, _ in cards)
    (src / "data" / "README.md").write_text(intro + "\n\n" + links + "\n", encoding="utf-8")
    for name, title, body in cards:
        short, _, loader = title.partition(" (")
        lead = f"Loader: ({loader}\n\n" if loader else ""
        (src / "data" / f"{name}.md").write_text(
            f"# {short}\n\n{lead}{body}\n\nAll datasets: [data/README.md](README.md).\n", encoding="utf-8")
    guides = sorted(p.stem for p in (ROOT / "instructors").glob("[0-9][0-9]_*.md"))
    index = (src / "index.md").read_text(encoding="utf-8").replace("{{TOCTREES}}", "\n".join([
        _toctree("Lessons", [f"notebooks/{p.stem}" for p in lessons]),
        _toctree("Instructor guide", ["instructors/README", *(f"instructors/{g}" for g in guides),
                                      "deploy/README", "deploy/jupyterhub"]),
        _toctree("Datasets", ["data/README", *(f"data/{name}" for name, _, _ in cards)]),
        _toctree("About", ["README", "CONTRIBUTING"]),
    ]))
    (src / "index.md").write_text(index, encoding="utf-8")
    return [p.stem for p in lessons]


def build(out: Path, keep_going: bool = False) -> float:
    """Stage and build the site into ``out`` (replaced); returns the seconds it took.

    Sphinx warnings (a broken cross-reference, a page in no table of contents) fail the build.
    """
    from sphinx.cmd.build import build_main

    start = time.perf_counter()
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="cnncourse-site-") as tmp:
        src = Path(tmp) / "src"
        stage(src)
        if out.exists():
            shutil.rmtree(out)
        args = ["-b", "html", "-q", "-W", "-d", str(Path(tmp) / "doctrees"), str(src), str(out)]
        if keep_going:
            args.insert(0, "--keep-going")
        code = build_main(args)
    if code:
        raise SystemExit(f"sphinx-build failed (exit {code}); see the warnings above")
    (out / ".nojekyll").write_text("")
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "site", help="output folder (replaced)")
    parser.add_argument("--keep-going", action="store_true", help="report every warning before failing")
    args = parser.parse_args(argv)
    seconds = build(args.out, args.keep_going)
    print(f"built {args.out / 'index.html'} in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
