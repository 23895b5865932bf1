"""scripts/build_site.py: the course website builds offline from the stored notebooks, every lesson,
guide and dataset card has its page, no internal link or anchor is broken, nothing loads remotely."""
from __future__ import annotations

import importlib.util
import os
import re
import socket
from pathlib import Path

import pytest

from cnncourse.notebook_tools import lesson_paths

from _html_checks import broken_links, parse_page, remote_loads

ROOT = Path(__file__).parents[1]
LESSONS = lesson_paths(ROOT / "notebooks")


def _load_script():
    spec = importlib.util.spec_from_file_location("build_site", ROOT / "scripts" / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_site = _load_script()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    for name in ("sphinx", "myst_nb", "sphinx_book_theme"):
        if importlib.util.find_spec(name) is None:
            if os.environ.get("CI"):
                pytest.fail(f"{name} is missing: CI installs the instructor extra, which has it")
            pytest.skip(f'{name} is not installed: pip install -e ".[instructor]"')
    out = tmp_path_factory.mktemp("site") / "site"
    mp = pytest.MonkeyPatch()

    def refuse(*args, **kwargs):
        raise OSError("network access attempted while building the site")
    for target, name in ((socket.socket, "connect"), (socket, "create_connection"), (socket, "getaddrinfo")):
        mp.setattr(target, name, refuse)
    try:
        seconds = build_site.build(out)
    finally:
        mp.undo()
    print(f"site built in {seconds:.1f} s")
    return out


def _pages(site: Path):
    return [p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts]


def test_every_lesson_guide_and_card_has_a_page(site):
    index = parse_page(site / "index.html")
    for path in LESSONS:
        page = site / "notebooks" / f"{path.stem}.html"
        assert page.is_file(), f"no page for lesson {path.name}"
        assert f"notebooks/{path.stem}.html" in index.links, f"the home page does not link {path.stem}"
        assert (site / "instructors" / f"{path.stem}.html").is_file()
    _, cards = build_site.split_cards((ROOT / "data" / "README.md").read_text(encoding="utf-8"))
    assert len(cards) >= 5
    for name, title, _ in cards:
        page = site / "data" / f"{name}.html"
        assert page.is_file(), f"no page for the data card {title!r}"
    assert len({name for name, _, _ in cards}) == len(cards)
    for name in ("README", "CONTRIBUTING", "instructors/README", "data/README", "search"):
        assert (site / f"{name}.html").is_file()


def test_lesson_pages_show_outputs_figures_and_no_solutions(site):
    for path in LESSONS:
        html = (site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
        page = parse_page(site / "notebooks" / f"{path.stem}.html")
        figures = [u for _, u in page.loads if re.search(r"\.(png|jpe?g|svg)$", u) or u.startswith("data:image")]
        assert len(figures) >= 3, f"{path.stem}: the figures are missing"
        assert "cell_output" in html, f"{path.stem}: no stored outputs shown"
        assert "BEGIN SOLUTION" not in html and "NotImplementedError" in html
        assert "cnn-widget-snapshot" in html and "widget-view+json" not in html


def test_no_broken_internal_link_or_anchor(site):
    assert broken_links(_pages(site), site) == []


def test_nothing_is_loaded_from_the_network(site):
    assert remote_loads(_pages(site)) == []


def test_split_cards_keeps_every_card_and_the_text_after_them():
    text = "# Data\n\nintro\n\n## Data cards\n\nlead\n\n### A (`f()`)\n\na\n\n### B, two\n\nb\n\n## Later\n\nz\n"
    intro, cards = build_site.split_cards(text)
    assert [(n, t) for n, t, _ in cards] == [("a", "A (`f()`)"), ("b-two", "B, two")]
    assert [b for _, _, b in cards] == ["a", "b"]
    assert "intro" in intro and "lead" in intro and "## Later" in intro and "\na\n" not in intro
    with pytest.raises(ValueError, match="Data cards"):
        build_site.split_cards("# no cards here")
