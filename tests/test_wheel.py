"""The package is complete as a wheel (issue 18, item 4): with no repository around, a wheel
installed in a fresh virtual environment gives a working ``cnncourse start``, ``progress`` and
``grade`` — the lessons, the data and the checks ship inside it.

The wheel is built offline (``pip wheel --no-deps --no-build-isolation``) from a copy of the
repository's files, so stale ``build/`` leftovers cannot leak into it and the checkout is left
as it was. The venv is made with ``--system-site-packages`` and, through a ``.pth`` line, also
sees this interpreter's site-packages, so torch, Jupyter and the rest are not installed again;
its own site-packages comes first on ``sys.path``, and every step asserts that what runs is the
wheel's copy, not an editable install of some checkout (``/work/main``, or this one).

Every command runs as the venv's own ``cnncourse`` script, from a folder outside the
repository. ``cnncourse progress`` runs each lesson in a kernel; an IPython startup file
(``IPYTHONDIR``) records, in each of those kernels, which ``cnncourse`` it imported and every
cell that raised — a blank copy of every lesson must run to its end without an error.
"""
from __future__ import annotations

import ast
import csv
import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from cnncourse.notebook_tools import LESSON_PATTERN, exercise_cells, lesson_paths, read_notebook

pytestmark = [pytest.mark.wheel, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "cnncourse"
LESSON_1 = lesson_paths(REPO / "notebooks")[0]
# Not sources: byte code, and what builds and installs leave in the source tree.
_NOT_SOURCES = ("__pycache__", "*.pyc", "*.egg-info", "build", "dist", ".git", ".hypothesis",
                ".pytest_cache", ".ipynb_checkpoints", "cnncourse-work", "site", "slides")

# Loaded by every kernel the venv starts under IPYTHONDIR: after each cell, note which cnncourse
# the kernel has imported and whether the cell raised (a check never raises: it shows a verdict).
_KERNEL_PROBE = '''
import json, os, sys

def _cnncourse_wheel_probe(result, _log={log!r}):
    module = sys.modules.get("cnncourse")
    error = result.error_in_exec
    with open(_log, "a", encoding="utf-8") as f:
        f.write(json.dumps({{"cwd": os.getcwd(),
                            "cnncourse": getattr(module, "__file__", None),
                            "cell": (result.info.raw_cell or "")[:200] if error else None,
                            "error": repr(error)[:300] if error else None}}) + "\\n")

get_ipython().events.register("post_run_cell", _cnncourse_wheel_probe)
'''


def _run(args, cwd, env=None, timeout=600) -> subprocess.CompletedProcess:
    """Run a command; on a non-zero exit, fail with its command line and the end of its output."""
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        pytest.fail(f"`{' '.join(map(str, args))}` exited {done.returncode} (cwd {cwd}):\n"
                    f"--- stdout ---\n{done.stdout[-4000:]}\n--- stderr ---\n{done.stderr[-4000:]}")
    return done


def _source_files() -> list[str]:
    """The repository's files, relative to it: tracked and not ignored, as in a clean clone."""
    try:
        listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
                                 "--exclude-standard"], capture_output=True, check=True, timeout=60)
        return [f for f in listed.stdout.decode().split("\0") if f and (REPO / f).is_file()]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: copy all but outputs
        ignore = shutil.ignore_patterns(*_NOT_SOURCES)
        found = []
        for folder, dirs, files in os.walk(REPO):
            dirs[:] = [d for d in dirs if d not in ignore(folder, dirs)]
            found += [os.path.relpath(os.path.join(folder, f), REPO)
                      for f in files if f not in ignore(folder, files)]
        return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Build the wheel from a copy of the repository, install it into a fresh venv."""
    root = tmp_path_factory.mktemp("wheel")
    source, dist, venv = root / "source", root / "dist", root / "venv"
    files = _source_files()
    for rel in files:
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, source / rel)
    _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
          "--no-index", "-w", dist, "--quiet"], cwd=source)
    (wheel,) = dist.glob(f"{PACKAGE}-*.whl")

    # --without-pip: no ensurepip (Debian's python lacks it); pip comes from this interpreter.
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], cwd=root)
    python = venv / "bin" / "python"
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                        cwd=root).stdout.strip())
    # This interpreter may itself be a venv: let the new one see its libraries too (plain
    # paths: their .pth files, an editable install of cnncourse among them, are not run).
    (purelib / "_parent_environment.pth").write_text(
        "".join(p + "\n" for p in site.getsitepackages() if Path(p).is_dir()), encoding="utf-8")
    # --ignore-installed: never touch a cnncourse installed outside the venv (e.g. editable).
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed",
          "--quiet", wheel], cwd=root)

    elsewhere = root / "elsewhere"  # the working directory: nothing of the repository in it
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "CNNCOURSE_NOTEBOOKS", "IPYTHONDIR")}
    env.update(VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
               PYTHONNOUSERSITE="1", COLUMNS="120")
    return {"wheel": wheel, "venv": venv, "python": python, "purelib": purelib,
            "package": purelib / PACKAGE, "script": venv / "bin" / "cnncourse",
            "cwd": elsewhere, "env": env, "sources": files}


def test_the_wheel_holds_every_lesson_and_every_package_file(installed):
    with zipfile.ZipFile(installed["wheel"]) as whl:
        names = set(whl.namelist())
        lessons = sorted(n.rsplit("/", 1)[1] for n in names if n.startswith(f"{PACKAGE}/lessons/"))
        expected = [p.name for p in lesson_paths(REPO / "notebooks")]
        assert lessons == expected, "the wheel must carry notebooks/NN_*.ipynb as cnncourse/lessons/"
        for name in expected:
            assert whl.read(f"{PACKAGE}/lessons/{name}") == (REPO / "notebooks" / name).read_bytes()
        shipped = {n for n in names if not n.endswith("/")}
    # Everything the package holds in the repository (code, data, templates) is in the wheel;
    # a new kind of data file needs a line in [tool.setuptools.package-data] of pyproject.toml.
    wanted = {f for f in installed["sources"] if f.startswith(f"{PACKAGE}/")
              and "__pycache__" not in f and not f.endswith(".pyc")}
    missing = sorted(wanted - shipped)
    assert not missing, f"package files missing from the wheel (add them to package-data): {missing}"
    assert any(n.startswith(f"{PACKAGE}/data/files/") and n.endswith(".npz") for n in shipped)
    tops = {n.split("/", 1)[0] for n in shipped}
    version = installed["wheel"].name.split("-")[1]
    assert tops == {PACKAGE, f"{PACKAGE}-{version}.dist-info"}, f"unexpected top-level entries: {tops}"
    # setup.py copies lessons by the same rule lessons_dir() finds them with
    tree = ast.parse((REPO / "setup.py").read_text(encoding="utf-8"))
    rules = [node.value.args[0].value for node in ast.walk(tree) if isinstance(node, ast.Assign)
             and any(getattr(t, "id", "") == "LESSON_PATTERN" for t in node.targets)]
    assert rules == [LESSON_PATTERN.pattern]


def test_the_venv_imports_the_wheel_and_finds_its_lessons(installed):
    code = ("import json, cnncourse, cnncourse.notebook_tools as t;"
            "print(json.dumps([cnncourse.__file__, str(t.lessons_dir())]))")
    module, lessons = json.loads(_run([installed["python"], "-c", code], cwd=installed["cwd"],
                                      env=installed["env"]).stdout)
    assert Path(module) == installed["package"] / "__init__.py", \
        f"the venv imported cnncourse from {module}, not from the installed wheel"
    assert Path(lessons) == installed["package"] / "lessons"
    assert installed["script"].read_text().startswith(f"#!{installed['python']}")


@pytest.fixture(scope="module")
def work(installed):
    """`cnncourse start --no-lab` run by the venv's script, outside the repository."""
    folder = installed["cwd"] / "my-work"
    done = _run([installed["script"], "start", "--no-lab", folder], cwd=installed["cwd"],
                env=installed["env"], timeout=300)
    return folder, done.stdout


def test_start_writes_every_lesson(installed, work):
    folder, out = work
    expected = [p.name for p in lesson_paths(REPO / "notebooks")]
    assert [p.name for p in lesson_paths(folder)] == expected
    for name in expected:
        assert f"new      {name}" in out
        blank = read_notebook(folder / name)
        assert "### BEGIN SOLUTION" not in json.dumps(blank), f"{name} still holds its solutions"


def test_progress_runs_every_lesson_from_the_wheel(installed, work, tmp_path):
    folder, _ = work
    log = tmp_path / "kernels.jsonl"
    ipython = tmp_path / "ipython"
    startup = ipython / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-wheel-probe.py").write_text(_KERNEL_PROBE.format(log=str(log)), encoding="utf-8")
    env = {**installed["env"], "IPYTHONDIR": str(ipython)}
    out = _run([installed["script"], "progress", folder, "--quiet"], cwd=installed["cwd"], env=env,
               timeout=1800).stdout

    total = 0
    for path in lesson_paths(REPO / "notebooks"):
        tests = [c.exercise for c in exercise_cells(read_notebook(path)) if c.role == "test"]
        total += len(tests)
        assert f"{path.stem}: 0 of {len(tests)} passed" in out, out
        for exercise in tests:
            assert any(line.split()[:3] == [exercise, "not", "done"] for line in out.splitlines()), \
                f"{path.stem}/{exercise} is not reported as not done:\n{out}"
    assert f"0 of {total} exercises passed (0 passed, 0 failed, {total} not done)" in out, out

    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    ran = {Path(r["cwd"]).resolve() for r in records}
    assert ran == {folder.resolve()}, f"kernels ran in {ran}, not in the workspace"
    imported = {r["cnncourse"] for r in records if r["cnncourse"]}
    assert imported == {str(installed["package"] / "__init__.py")}, \
        f"lesson kernels imported cnncourse from {imported}, not from the installed wheel"
    errors = [f"{r['error']} in:\n{r['cell']}" for r in records if r["error"]]
    assert not errors, "a blank lesson must run to its end:\n\n" + "\n\n".join(errors)


def _sandbox_flag(installed) -> list[str]:
    """[] where the venv's grader can sandbox kernels (CI must), else ["--no-sandbox"]."""
    probe = subprocess.run([installed["python"], "-c", "from cnncourse.grading.sandbox import "
                            "Sandbox; Sandbox().check()"], cwd=installed["cwd"],
                           env=installed["env"], capture_output=True, text=True, timeout=300)
    if probe.returncode == 0:
        return []
    if os.environ.get("CI"):
        pytest.fail(f"CI must be able to run the grader's sandbox from the wheel:\n{probe.stderr}")
    return ["--no-sandbox"]


def test_grade_gives_a_blank_lesson_zero(installed, work):
    folder, _ = work
    submissions, out = installed["cwd"] / "submitted", installed["cwd"] / "grades"
    (submissions / "blank").mkdir(parents=True)
    shutil.copy(folder / LESSON_1.name, submissions / "blank" / LESSON_1.name)
    _run([installed["script"], "grade", submissions, "--lessons", LESSON_1.stem, "--out", out,
          "--no-progress", *_sandbox_flag(installed)], cwd=installed["cwd"], env=installed["env"],
         timeout=900)

    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    tests = {c.exercise: c.points for c in exercise_cells(read_notebook(LESSON_1)) if c.role == "test"}
    assert [(r["student"], r["lesson"]) for r in rows] == [("blank", LESSON_1.stem)] * len(tests)
    assert {r["exercise"]: float(r["max_points"]) for r in rows} == tests
    assert all(float(r["points"]) == 0 for r in rows), rows
    assert all("not done yet" in r["message"] or "not answered yet" in r["message"] for r in rows), rows
    assert (out / "feedback" / "blank" / f"{LESSON_1.stem}.md").is_file()
