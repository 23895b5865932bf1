"""A learner's Run All, in a real browser: on a fresh ``cnncourse start`` workspace, JupyterLab in
Chromium runs every lesson to its last cell, every widget renders, no output holds a traceback.

Debian's ``chromium`` driven by PyPI's ``playwright`` (``executable_path``; playwright's own
browser download is not used). JupyterLab runs on 127.0.0.1 with its own configuration, settings
and workspace folders in a temporary directory (the news popup disabled). Skipped when chromium
or playwright is missing — except when ``CI`` is set: there the test fails instead, so that CI
cannot pass without having run it. On failure a screenshot of the page is saved and its path is
printed.

After Run All, the same page goes deeper, as ``tests/browser_lessons.py`` says for each lesson:
it moves the explorer's main control and checks that the explorer's picture and its text
readout both change, then types a wrong solution into one exercise's cell, runs it and its
check and looks for the diagnosis, then the right one and the pass line. On any failure a
full-page screenshot, every cell's output as text and JupyterLab's log are saved in
``browser-artifacts/<lesson>-<step>/`` (or ``$CNNCOURSE_BROWSER_ARTIFACTS``), named in the
failure's message; with ``CNNCOURSE_BROWSER_SCREENSHOTS=always``, after every step too. One
JupyterLab server serves the whole module, one page each lesson.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import numpy as np
import pytest

from browser_lessons import LESSONS as BROWSER_LESSONS, BrowserLesson, Step
from cnncourse.checks import check
from cnncourse.notebook_tools import lesson_paths


CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
NOTEBOOKS = Path(__file__).parents[1] / "notebooks"
LESSONS = [p.name for p in lesson_paths(NOTEBOOKS)]
RUN_ALL_SECONDS = 300
EXPLORER_SECONDS = 120  # lesson 5's dashboard trains for an epoch
CHECK_SECONDS = 60


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so the browser test must run (.ci/run installs both)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing('playwright is not installed: pip install -e ".[test]"')
    if not CHROMIUM.exists():
        _missing(f"Debian's chromium is not installed at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def start_lab(root: Path):
    """Start JupyterLab on a fresh workspace in ``root``: ``(server process, base url, token,
    workspace folder)``; its log is ``root / "jupyterlab.log"``."""
    work = root / "work"
    subprocess.run([sys.executable, "-m", "cnncourse.cli", "start", "--no-lab", str(work)],
                   check=True, capture_output=True, text=True)
    config, settings = root / "config", root / "settings"
    _write_json(config / "labconfig" / "page_config.json", {  # no "Jupyter news?" popup
        "disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    # every cell stays in the page, so that every output can be looked at
    _write_json(settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
                {"windowingMode": "none"})
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(root / "lab-workspaces"),
               JUPYTER_RUNTIME_DIR=str(root / "runtime"))
    env.pop("MPLBACKEND", None)  # the root conftest's Agg; the kernel uses the inline backend
    port, token = _free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    with open(root / "jupyterlab.log", "w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5).read()
            return server, base, token, work
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"JupyterLab did not start: see {root / 'jupyterlab.log'}")
            time.sleep(0.5)


def stop_lab(server) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a fresh workspace: ``(base url, token, workspace folder)``."""
    server, base, token, work = start_lab(tmp_path_factory.mktemp("browser"))
    yield base, token, work
    stop_lab(server)


# Run All has ended: the kernel is idle and no cell is queued ([*]); "done" when every input
# prompt shows a number, "stopped" when some are still blank (an error stopped Run All there).
_RUN_ENDED = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return null;
  const idle = panel.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']");
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
      .map(e => e.textContent.trim());
  const ran = prompts.filter(t => /^\\[\\d+\\]:$/.test(t)).length;
  if (!idle || ran === 0 || prompts.some(t => t.includes('*'))) return null;
  return ran === prompts.length ? 'done' : `stopped after ${ran} of ${prompts.length} code cells`;
}"""

# Run All has begun: some code cell is queued, running ([*]) or done ([n]).
_RUN_STARTED = """() => [...document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')]
  .some(e => /\\[(\\d+|\\*)\\]/.test(e.textContent))"""
START_SECONDS = 60
RESTARTS: list[str] = []  # lessons whose first Run All click started nothing

# A tqdm progress bar (fit's, in a notebook) is a widget too, but not an explorer: "47/94 [00:01".
_PROGRESS_BAR = re.compile(r"\d+/\d+\s\[\d+:\d+")

# What each rendered widget looks like: its text, images drawn, labels cut short.
_WIDGETS = """() => [...document.querySelectorAll('.jp-OutputArea-output')]
  .filter(o => o.querySelector('.jupyter-widgets') || /widget/i.test(o.textContent.slice(0, 80)))
  .map(o => ({
    text: o.innerText.slice(0, 300),
    controls: o.querySelectorAll('.widget-slider, .widget-dropdown, .widget-inline-hbox').length,
    images: [...o.querySelectorAll('img')].filter(i => i.naturalWidth > 0).length,
    cut: [...o.querySelectorAll('.widget-label')]
        .filter(l => l.scrollWidth > l.clientWidth).map(l => l.textContent),
  }))"""


def _run_all(page, base: str, token: str, lesson: str) -> str:
    # `reset`: a fresh JupyterLab layout, with only this lesson open
    page.goto(f"{base}/lab/tree/{lesson}?reset&token={token}")
    panel = ".jp-NotebookPanel:not(.lm-mod-hidden)"
    page.wait_for_selector(f"{panel} .jp-Cell", timeout=60_000)
    page.wait_for_selector(f"{panel} .jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=90_000)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in (1, 2):
        page.locator(f"{panel} .jp-Cell").first.click()  # the notebook has the focus
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel",
                     has_text="Run All Cells").first.click()
        try:  # Run All marks every code cell queued ([*]) at once
            page.wait_for_function(_RUN_STARTED, timeout=START_SECONDS * 1000, polling=500)
            break
        except PlaywrightTimeout:
            # Seen once under heavy load: the click ran no cell, the kernel idle. A learner
            # would click again; so does the test, once, and says so in its report.
            if attempt == 2:
                raise AssertionError(f"Run All started no cell within {START_SECONDS} s, twice: "
                                     f"every code cell's prompt is still blank") from None
            RESTARTS.append(lesson)
    ended = page.wait_for_function(_RUN_ENDED, timeout=RUN_ALL_SECONDS * 1000, polling=1000)
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
    return ended.json_value()


ARTIFACTS = Path(os.environ.get("CNNCOURSE_BROWSER_ARTIFACTS",
                                Path(__file__).parents[1] / "browser-artifacts"))


def save_artifacts(page, lesson: str, step: str, log: Path | None = None) -> Path:
    """A full-page screenshot, every cell's output as text and the server's log, in
    ``ARTIFACTS/<lesson stem>-<step>/``; returns that folder."""
    folder = ARTIFACTS / f"{Path(lesson).stem}-{step}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        page.screenshot(path=str(folder / "page.png"), full_page=True)
        outputs = page.evaluate("""() => [...document.querySelectorAll(
              '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell')].map((c, i) =>
              `--- cell ${i} ${c.querySelector('.jp-InputPrompt')?.textContent.trim() ?? ''}\\n`
              + (c.querySelector('.jp-OutputArea')?.innerText ?? ''))""")
        (folder / "outputs.txt").write_text("\n".join(outputs))
    except Exception as exc:  # the page itself is broken: say so, keep what was saved
        (folder / "error.txt").write_text(f"saving the page failed: {exc!r}\n")
    if log is not None and log.exists():
        shutil.copy(log, folder / log.name)
    return folder


@contextlib.contextmanager
def artifacts_on_failure(page, lesson: str, step: str, log: Path):
    """On any failure inside: save the artifacts and fail naming their folder. With
    ``CNNCOURSE_BROWSER_SCREENSHOTS=always``, save them after a step that passed too (to look
    at what a learner sees)."""
    try:
        yield
    except (AssertionError, Exception) as exc:
        folder = save_artifacts(page, lesson, step, log)
        raise AssertionError(f"{lesson}, {step}: {type(exc).__name__}: {exc}\n"
                             f"screenshot and outputs saved in {folder}") from exc
    if os.environ.get("CNNCOURSE_BROWSER_SCREENSHOTS") == "always":
        save_artifacts(page, lesson, step, log)


@pytest.fixture(scope="module", params=LESSONS)
def ran(request, browser, lab):
    """A page with ``lesson`` open in JupyterLab after Run All: ``(lesson, page, outcome, errors)``,
    outcome being "done", "stopped after ..." or the failure's message. One per lesson, shared
    by the tests of that lesson (pytest runs them together)."""
    lesson = request.param
    base, token, work = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    started = time.monotonic()
    try:
        with artifacts_on_failure(page, lesson, "run-all", work.parent / "jupyterlab.log"):
            outcome = _run_all(page, base, token, lesson)
    except AssertionError as exc:
        outcome = str(exc)
    TIMES.setdefault(Path(lesson).stem, {})["run all"] = time.monotonic() - started
    yield lesson, page, outcome, errors
    page.close()


TIMES: dict[str, dict[str, float]] = {}


@pytest.fixture(scope="module", autouse=True)
def _report_times():
    """Print how long each lesson's steps took (shown with ``-s``, and in CI's log)."""
    yield
    for stem, steps in sorted(TIMES.items()):
        print(f"\nbrowser {stem}: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
    for lesson in RESTARTS:
        print(f"\nbrowser {lesson}: the first Run All click started no cell in {START_SECONDS} s; "
              f"clicked again")


@pytest.mark.browser
@pytest.mark.slow
def test_run_all_reaches_the_end_with_widgets_and_no_traceback(ran, lab):
    lesson, page, outcome, errors = ran
    _, _, work = lab
    assert outcome == "done", outcome
    with artifacts_on_failure(page, lesson, "run-all", work.parent / "jupyterlab.log"):
        widgets = page.evaluate(_WIDGETS)
        nb = nbformat.read(str(work / lesson), as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code[-1].execution_count is not None, "the last code cell did not run"
        for index, cell in enumerate(code):
            for output in cell.outputs:
                text = output.get("text", "") + "".join(output.get("traceback", []))
                text += str(output.get("data", {}).get("text/plain", ""))
                assert output.output_type != "error", f"code cell {index} raised {output.ename}: {output.evalue}"
                assert "Traceback" not in text, f"code cell {index} shows a traceback:\n{text[:2000]}"
        expected = sum("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                       and not _PROGRESS_BAR.search(str(o.get("data", {}).get("text/plain", "")))
                       for c in code for o in c.outputs)
        assert expected >= 1, "every lesson has an explorer widget"
        rendered = [w for w in widgets if w["controls"] > 0 and not _PROGRESS_BAR.search(w["text"])]
        assert len(rendered) >= expected, widgets
        for w in rendered:
            assert "Error displaying widget" not in w["text"] and "Loading widget" not in w["text"], w
            assert w["images"] >= 1, f"the widget shows no picture: {w}"
            assert not w["cut"], f"widget labels cut short: {w['cut']}"
        assert not errors, errors


# ------------------------------------------------------------------ the deeper checks
def _entry(lesson: str) -> BrowserLesson:
    stem = Path(lesson).stem
    if stem not in BROWSER_LESSONS:
        pytest.fail(f"lesson {stem} has no browser entry: add BrowserLesson(...) for {stem!r} to "
                    f"LESSONS in tests/browser_lessons.py (its explorer's control, one exercise "
                    f"with a wrong and a right solution; see CONTRIBUTING.md)")
    return BROWSER_LESSONS[stem]


def _exact(text: str) -> re.Pattern:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


# The explorer's state: a hash of every picture's bytes, and the text of its HTML readouts.
_EXPLORER_STATE = """async (el) => {
  const pictures = [];
  for (const img of el.querySelectorAll('img')) {
    try {
      const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
      let h = 2166136261;
      for (const b of bytes) { h ^= b; h = Math.imul(h, 16777619) >>> 0; }
      pictures.push(`${bytes.length}:${h}`);
    } catch (e) { return null; }  // the picture was being replaced: look again
  }
  const text = [...el.querySelectorAll('.widget-html-content')].map(e => e.innerText).join('\\n');
  return {pictures: pictures.join(','), text};
}"""


def _explorer_state(explorer):
    for _ in range(20):
        state = explorer.evaluate(_EXPLORER_STATE)
        if state is not None:
            return state
        time.sleep(0.25)
    raise AssertionError("the explorer's pictures could not be read")


def _do(page, explorer, step: Step) -> None:
    label = explorer.page.locator(".widget-label", has_text=_exact(step.label))
    if step.kind == "keys":
        handle = explorer.locator(".widget-slider").filter(has=label).locator(".noUi-handle")
        handle.first.focus()
        for key in step.value:
            page.keyboard.press(key)
    elif step.kind == "select":
        explorer.locator(".widget-dropdown").filter(has=label).locator("select") \
            .select_option(label=str(step.value))
    elif step.kind == "click":
        button = explorer.locator("button", has_text=_exact(step.label))
        if button.count():
            button.first.click()
        else:
            explorer.locator(".widget-checkbox", has_text=step.label).locator("input").click()
    else:
        raise ValueError(f"unknown step kind {step.kind!r} (keys, select or click)")


@pytest.mark.browser
@pytest.mark.slow
def test_explorer_control_changes_picture_and_text(ran, lab):
    lesson, page, outcome, _ = ran
    _, _, work = lab
    entry = _entry(lesson)
    assert outcome == "done", f"Run All did not end: {outcome}"
    started = time.monotonic()
    with artifacts_on_failure(page, lesson, "explorer", work.parent / "jupyterlab.log"):
        first = entry.explorer[0].label
        explorer = page.locator(".jp-OutputArea-output").filter(
            has=page.locator(".widget-label", has_text=_exact(first))).first
        explorer.scroll_into_view_if_needed()
        before = _explorer_state(explorer)
        assert before["pictures"], f"the explorer with the control {first!r} shows no picture"
        for step in entry.explorer:
            _do(page, explorer, step)
        # both changed, and the same on two looks a second apart (a redraw has ended)
        deadline, last = time.monotonic() + EXPLORER_SECONDS, None
        while True:
            now = _explorer_state(explorer)
            changed = (now["pictures"] != before["pictures"] and now["text"] != before["text"])
            if changed and now == last:
                break
            assert time.monotonic() < deadline, (
                f"after {entry.explorer} the explorer did not change within {EXPLORER_SECONDS} s: "
                f"picture {'changed' if now['pictures'] != before['pictures'] else 'unchanged'}, "
                f"text before {before['text']!r}, after {now['text']!r}")
            last = now
            time.sleep(1)
    TIMES.setdefault(Path(lesson).stem, {})["explorer"] = time.monotonic() - started


def _expected_lines(entry: BrowserLesson) -> tuple[str, str]:
    """What the check shows for the wrong and the right code, computed here with the same
    checks: ``Likely mistake: <title> [key]`` and the pass line ``✓ <id>: N cases passed``."""
    shown = []
    for code in (entry.wrong, entry.right):
        namespace = {"np": np}
        exec(code, namespace)
        # np.errstate: a wrong solution may overflow on purpose (softmax without the max)
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
            shown.append(check(entry.exercise, namespace[entry.exercise], raise_on_fail=False))
    wrong, right = shown
    assert wrong.diagnosis == entry.mistake, (
        f"tests/browser_lessons.py: the wrong {entry.exercise} gets {wrong.diagnosis!r}, "
        f"not {entry.mistake!r}:\n{wrong.message}")
    assert right.passed, f"tests/browser_lessons.py: the right {entry.exercise} fails:\n{right.message}"
    tag = f"[{entry.mistake}]"
    return ("Likely mistake: " + wrong.mistake.split(tag)[0] + tag,
            right.message.splitlines()[0])


def _squash(text: str) -> str:
    return " ".join(text.split())


def _type_and_run(page, cells, solution: int, check_cell: int, code: str, expected: str) -> str:
    """Replace the solution cell's code, run it and the check cell; wait for ``expected`` in the
    check's output and return that output's text."""
    editor = cells.nth(solution).locator(".jp-InputArea-editor .cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    cells.nth(check_cell).locator(".jp-InputArea-editor .cm-content").click()
    page.keyboard.press("Shift+Enter")
    output = cells.nth(check_cell).locator(".jp-OutputArea")
    deadline = time.monotonic() + CHECK_SECONDS
    while True:
        text = _squash(output.inner_text())
        if _squash(expected) in text:
            return text
        assert time.monotonic() < deadline, (
            f"the check's output does not show {expected!r} within {CHECK_SECONDS} s; it shows:\n{text}")
        time.sleep(0.5)


@pytest.mark.browser
@pytest.mark.slow
def test_wrong_then_right_solution_gets_diagnosis_then_pass(ran, lab):
    lesson, page, outcome, errors = ran
    _, _, work = lab
    entry = _entry(lesson)
    assert outcome == "done", f"Run All did not end: {outcome}"
    diagnosis, passed = _expected_lines(entry)
    nb = nbformat.read(str(work / lesson), as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    solution, check_cell = ids.index(f"{entry.exercise}-solution"), ids.index(entry.exercise)
    started = time.monotonic()
    with artifacts_on_failure(page, lesson, "exercise", work.parent / "jupyterlab.log"):
        cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell")
        assert cells.count() == len(nb.cells), (cells.count(), len(nb.cells))
        shown = _type_and_run(page, cells, solution, check_cell, entry.wrong, diagnosis)
        assert "✓" not in shown, shown
        shown = _type_and_run(page, cells, solution, check_cell, entry.right, passed)
        assert "Likely mistake" not in shown, shown
        assert not errors, errors
    TIMES.setdefault(Path(lesson).stem, {})["exercise"] = time.monotonic() - started


# ------------------------------------------------------------------ the table covers every lesson
@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_has_a_browser_entry(lesson):
    _entry(lesson)


def test_every_browser_entry_is_a_lesson():
    stems = {Path(lesson).stem for lesson in LESSONS}
    assert set(BROWSER_LESSONS) <= stems, (
        f"tests/browser_lessons.py has entries for lessons not in notebooks/: "
        f"{sorted(set(BROWSER_LESSONS) - stems)}")
