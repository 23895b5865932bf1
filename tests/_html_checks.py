"""What a static page loads and links to: the offline and broken-link checks of the slides and site tests.

A page is offline when nothing it *loads* is remote. What counts as loading:

- HTML: ``script[src]``, ``img[src|srcset]``, ``iframe|embed|video|audio|source|track[src]``,
  ``video[poster]``, ``object[data]``, ``input[type=image][src]``, and ``link[href]`` whose ``rel``
  fetches (stylesheet, icon, preload, modulepreload, prefetch, manifest, import);
- CSS (``<style>`` blocks, ``style=""`` attributes and every local ``.css`` file reached):
  ``url(...)`` and ``@import``;
- JavaScript (inline ``<script>`` blocks and every local ``.js`` file reached): a static or dynamic
  ``import`` of a remote URL, ``importScripts``, ``fetch``, a literal remote URL assigned to a
  ``src`` or ``href``, and any quoted remote URL of a script, style sheet, font or image (a CDN
  address that a loader script puts together).

A link a reader may follow (``<a href="https://…">``) or a URL inside a comment or prose loads
nothing and is fine. Remote means ``http:``/``https:`` or protocol-relative ``//host``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["Page", "parse_page", "is_remote", "remote_loads", "broken_links"]

_LOAD_ATTRS = {
    "script": ("src",), "img": ("src", "srcset"), "iframe": ("src",), "embed": ("src",),
    "video": ("src", "poster"), "audio": ("src",), "source": ("src", "srcset"), "track": ("src",),
    "object": ("data",), "input": ("src",),
}
_FETCHING_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "preload", "modulepreload",
                  "prefetch", "manifest", "import", "mask-icon"}
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""")
_JS_REMOTE = re.compile(
    r"""(?:\bimport\s*\(\s*|\bimport\b[^;'"]*?\bfrom\s*|\bimport\s+|\bimportScripts\s*\(\s*|"""
    r"""\bfetch\s*\(\s*|\.(?:src|href)\s*=\s*)(['"`])((?:https?:)?//[^'"`]+)\1""")
# a quoted remote URL of a script, style sheet, font or image, wherever it stands in a script
_JS_ASSET = re.compile(r"""(['"`])((?:https?:)?//[^'"`\s]+?\.(?:m?js|css|woff2?|ttf|eot|png|jpe?g|gif|svg)"""
                       r"""(?:\?[^'"`\s]*)?)\1""")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def is_remote(url: str) -> bool:
    """``http(s)://`` or ``//host`` (a data: URL, a fragment or a relative path is local)."""
    url = url.strip().lower()
    return url.startswith(("http://", "https://", "//"))


@dataclass
class Page:
    """The parts of one HTML file the checks need."""

    path: Path
    loads: list = field(default_factory=list)   # (what, url): resources the page fetches
    links: list = field(default_factory=list)   # href of <a>/<area>: where a reader may go
    ids: set = field(default_factory=set)       # id and name attributes: anchor targets
    css: list = field(default_factory=list)     # inline CSS text
    js: list = field(default_factory=list)      # inline JavaScript text


class _Parser(HTMLParser):
    def __init__(self, page: Page):
        super().__init__(convert_charrefs=True)
        self.page, self._in = page, None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        for key in ("id", "name"):
            if a.get(key) and tag != "meta" and tag != "input":
                self.page.ids.add(a[key])
        for attr in _LOAD_ATTRS.get(tag, ()):
            if attr in a and (tag != "input" or a.get("type", "").lower() == "image"):
                urls = [u.strip().split()[0] for u in a[attr].split(",") if u.strip()] \
                    if attr == "srcset" else [a[attr]]
                self.page.loads += [(f"<{tag} {attr}>", u) for u in urls]
        if tag == "link" and "href" in a:
            if set(a.get("rel", "").lower().split()) & _FETCHING_RELS:
                self.page.loads.append((f"<link rel={a.get('rel')}>", a["href"]))
        if tag in ("a", "area") and "href" in a:
            self.page.links.append(a["href"])
        if "style" in a:
            self.page.css.append(a["style"])
        if tag in ("style", "script") and "src" not in a:
            self._in = tag

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "style":
            self.page.css.append(data)
        elif self._in == "script":
            self.page.js.append(data)


def parse_page(path: Path | str) -> Page:
    """Parse one HTML file."""
    page = Page(Path(path))
    _Parser(page).feed(Path(path).read_text(encoding="utf-8", errors="replace"))
    return page


def _css_urls(text: str) -> list[str]:
    text = _CSS_COMMENT.sub("", text)
    return [m.group(2) or m.group(4) for m in _CSS_URL.finditer(text)]


def _local_target(base: Path, url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    return (base.parent / unquote(parts.path)).resolve()


def remote_loads(html_files) -> list[str]:
    """Every remote resource that the pages (and the local CSS/JS files they load) would fetch,
    as ``"file: what url"`` lines; empty when everything is local."""
    found, seen = [], set()

    def scan_css(text: str, origin: Path, what: str):
        for url in _css_urls(text):
            if is_remote(url):
                found.append(f"{origin}: {what} url({url})")
            elif (target := _local_target(origin, url)) and target.suffix == ".css":
                scan_file(target)

    def scan_js(text: str, origin: Path, what: str):
        urls = {m.group(2) for m in _JS_REMOTE.finditer(text)} | {m.group(2) for m in _JS_ASSET.finditer(text)}
        found.extend(f"{origin}: {what} loads {url}" for url in sorted(urls))

    def scan_file(path: Path):
        if path in seen or not path.is_file():
            return
        seen.add(path)
        text = path.read_text(encoding="utf-8", errors="replace")
        (scan_css if path.suffix == ".css" else scan_js)(text, path, path.suffix[1:])

    for html_file in html_files:
        page = parse_page(html_file)
        for what, url in page.loads:
            if is_remote(url):
                found.append(f"{page.path}: {what} {url}")
            elif (target := _local_target(page.path, url)) is not None:
                scan_file(target)
        for css in page.css:
            scan_css(css, page.path, "inline CSS")
        for js in page.js:
            scan_js(js, page.path, "inline script")
    return found


def broken_links(html_files, root: Path) -> list[str]:
    """Internal links and loads whose target file (or ``#anchor`` in it) does not exist.

    Remote, ``mailto:``, ``javascript:`` and ``data:`` URLs are not internal; a link to a folder
    counts when the folder has an ``index.html``. Targets outside ``root`` are broken.
    """
    root = Path(root).resolve()
    pages = {Path(p).resolve(): parse_page(p) for p in html_files}
    problems = []
    for path, page in pages.items():
        for url in [*page.links, *(u for _, u in page.loads)]:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or url.startswith("//"):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if root not in target.parents and target != root:
                problems.append(f"{path.relative_to(root)}: {url} leaves the site")
            elif not target.is_file():
                problems.append(f"{path.relative_to(root)}: {url} (no file {target.relative_to(root)})")
            elif parts.fragment and target.suffix == ".html":
                ids = (pages.get(target) or parse_page(target)).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{path.relative_to(root)}: {url} (no anchor #{parts.fragment})")
    return problems
