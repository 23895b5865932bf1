"""A learner's Run All, in a real browser: on a fresh ``cnncourse start`` workspace, JupyterLab in
Chromium runs every lesson to its last cell, every widget renders, no output holds a traceback.

Debian's ``chromium`` driven by PyPI's ``playwright`` (``executable_path``; playwright's own
browser download is not used). JupyterLab runs on 127.0.0.1 with its own configuration, settings
and workspace folders in a temporary directory (the news popup disabled). Skipped when chromium
or playwright is missing — except when ``CI`` is set: there the test fails instead, so that CI
cannot pass without having run it. On failure a screenshot of the page is saved and its path is
printed.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from cnncourse.notebook_tools import lesson_paths

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
LESSONS = [p.name for p in lesson_paths(Path(__file__).parents[1] / "notebooks")]
RUN_ALL_SECONDS = 300


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
    page.locator(f"{panel} .jp-Cell").first.click()  # the notebook has the focus
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel",
                 has_text="Run All Cells").first.click()
    ended = page.wait_for_function(_RUN_ENDED, timeout=RUN_ALL_SECONDS * 1000, polling=1000)
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
    return ended.json_value()


@pytest.mark.parametrize("lesson", LESSONS)
def test_run_all_reaches_the_end_with_widgets_and_no_traceback(browser, lab, lesson, tmp_path_factory):
    base, token, work = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        assert _run_all(page, base, token, lesson) == "done"
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
    except BaseException:
        shots = tmp_path_factory.mktemp("screenshots")
        shot = shots / f"{Path(lesson).stem}.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the failing page: {shot}")
        raise
    finally:
        page.close()
