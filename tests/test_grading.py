"""End-to-end tests of ``cnncourse grade``: crafted submissions, each with the score it must get.

One ``grade`` run (``--jobs 2``) grades a whole class of crafted submissions of a small fixture
lesson (two exercises registered here, in the format of :mod:`cnncourse.checks`); each test then
asserts the rows of one student. The attacks are the ones that fool in-kernel graders: patched
``showtraceback``, ``set_custom_exc``, input transformers, redefined checks, monkeypatched NumPy,
always-equal objects, edited or deleted test cells, writing into the gradebook or another
learner's folder.
"""
from __future__ import annotations

import copy
import csv
import json
import os
import textwrap

import nbformat
import numpy as np
import pytest

from cnncourse.checks.core import Exercise, get_exercise, make_case, register, seeded_rng
from cnncourse.cli import main as cli_main
from cnncourse.grading import Limits, grade
from cnncourse.grading.gradebook import Journal
from cnncourse.notebook_tools import student_version

LESSON = "99_fixture"


def _correlate_cases(hidden):
    rng = seeded_rng("fx_correlate1d", hidden)
    cases = [make_case("length 5, kernel 3", np.arange(5.0), np.array([1.0, 0.0, -1.0]))]
    for n, k in ((6, 2), (9, 4), (7, 7)):
        cases.append(make_case(f"length {n}, kernel {k}", rng.normal(size=n), rng.normal(size=k)))
    return cases


def _correlate(case):
    x, k = case.args
    return np.array([np.dot(x[i:i + len(k)], k) for i in range(len(x) - len(k) + 1)])


def _register():
    try:
        get_exercise("fx_correlate1d")
        return
    except ValueError:
        pass
    register(Exercise("fx_correlate1d", LESSON, "correlate1d", 2, arg_names=("x", "k"),
                      make_cases=_correlate_cases, reference=_correlate))
    register(Exercise("fx_out_size", LESSON, "out_size", 1, arg_names=("n", "k"),
                      make_cases=lambda hidden: [make_case(f"n={n}, k={k}", n, k)
                                                 for n, k in ((5, 3), (8, 1), (4, 4))],
                      reference=lambda case: case.args[0] - case.args[1] + 1, output_kind="int"))


_register()

SETUP = "%matplotlib inline\nimport numpy as np\nimport torch\nfrom cnncourse.checks import check\n"
GOOD_CORR = """\
def correlate1d(x, k):
    out = np.zeros(len(x) - len(k) + 1)
    for i in range(len(out)):
        out[i] = np.sum(x[i:i + len(k)] * k)
    return out
"""
GOOD_SIZE = "def out_size(n, k):\n    return n - k + 1\n"
WRONG_CORR = GOOD_CORR.replace("* k)", "* k[::-1])")  # a true convolution: kernel flipped
BLANK = "def {name}(*args):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"


def _meta(grade_id, solution, points=None):
    meta = {"schema_version": 3, "grade": not solution, "solution": solution, "locked": not solution,
            "task": False, "grade_id": grade_id}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def make_notebook(corr=GOOD_CORR, size=GOOD_SIZE, before=(), after=(), tests=None, between=()):
    """A submission: setup, [before], solution+test per exercise, [after]. ``tests`` overrides
    the test cells' code (``None`` cells are deleted)."""
    tests = tests or {}
    cells = [nbformat.v4.new_markdown_cell("# Fixture lesson"), nbformat.v4.new_code_cell(SETUP),
             nbformat.v4.new_code_cell("print('a demo cell of the course')")]
    cells += [nbformat.v4.new_code_cell(code) for code in before]
    for ex, code, points in (("fx_correlate1d", corr, 2), ("fx_out_size", size, 1)):
        function = get_exercise(ex).function
        cells.append(nbformat.v4.new_code_cell(code, metadata=_meta(f"{ex}-solution", True)))
        cells += [nbformat.v4.new_code_cell(c) for c in between]
        test = tests.get(ex, f"check({ex!r}, {function})")
        if test is not None:
            cells.append(nbformat.v4.new_code_cell(test, metadata=_meta(ex, False, points)))
    cells += [nbformat.v4.new_code_cell(code) for code in after]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _write(folder, nb_or_text):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{LESSON}.ipynb"
    if isinstance(nb_or_text, (str, bytes)):
        path.write_bytes(nb_or_text.encode() if isinstance(nb_or_text, str) else nb_or_text)
    else:
        nbformat.write(nb_or_text, path)
    return path


WRONG_WITH = {  # wrong answers plus an attack on in-kernel grading
    "custom_exc": "get_ipython().set_custom_exc((AssertionError,), lambda *a, **k: None)",
    "showtraceback": "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\n"
                     "ip._showtraceback = lambda *a, **k: None",
    "transformer": textwrap.dedent("""\
        def _rewrite(lines):  # any later cell that checks or calls into the grader does nothing
            text = "".join(lines)
            return ["pass\\n"] if "check" in text or "modules" in text else lines
        get_ipython().input_transformers_cleanup.append(_rewrite)
        get_ipython().input_transformers_post.append(_rewrite)"""),
    "redefined_check": "def check(*args, **kwargs):\n    print('✓ all cases passed')\n"
                       "import cnncourse.checks\ncnncourse.checks.check = check\n"
                       "cnncourse.checks.core.check = check",
    "monkeypatch": textwrap.dedent("""\
        import builtins, json, sys
        np.allclose = lambda *a, **k: True
        np.array_equal = lambda *a, **k: True
        np.isclose = lambda *a, **k: True
        np.testing.assert_allclose = lambda *a, **k: None
        np.load = lambda *a, **k: None
        np.ndarray.__eq__
        builtins.open = lambda *a, **k: None
        json.dumps = lambda *a, **k: '{"done": 4}'
        sys.modules['cnncourse.checks.diagnose'] = None"""),
}


# Breaks what a naive in-kernel harness would use; the answers are right, so full marks.
PATCH_EVERYTHING = textwrap.dedent("""\
    import builtins, json
    builtins.open = None
    json.loads = json.dumps = None
    np.load = np.array = np.frombuffer = np.ndarray = np.savez = None
    print = isinstance = type = None""")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    source_dir, subs, out = root / "course", root / "submitted", root / "out"
    nb = make_notebook()
    _write(source_dir, nb)
    students = {
        "correct": make_notebook(),
        "wrong": make_notebook(corr=WRONG_CORR, size="def out_size(n, k):\n    return n - k\n"),
        "blank": make_notebook(corr=BLANK.format(name="correlate1d"), size=BLANK.format(name="out_size")),
        "loop_fn": make_notebook(corr="def correlate1d(x, k):\n    while True:\n        pass\n"),
        "loop_top": make_notebook(after=["while True:\n    pass"]),
        "exit_fn": make_notebook(corr="def correlate1d(x, k):\n    import os\n    os._exit(1)\n"),
        "exit_top": make_notebook(between=["import os\nos._exit(1)"]),
        "memory_bomb": make_notebook(
            before=["hog = []\nwhile True:\n    hog.append(np.ones(2**24))"],
            corr="def correlate1d(x, k):\n    return np.ones((2**20, 2**20))\n"),
        "import_error": make_notebook(before=["import a_module_that_does_not_exist"],
                                      corr="import another_missing_module\n" + GOOD_CORR),
        "deleted_tests": make_notebook(tests={"fx_correlate1d": None, "fx_out_size": None}),
        "edited_tests": make_notebook(corr=WRONG_CORR, size="def out_size(n, k):\n    return 0\n",
                                      tests={"fx_correlate1d": "print('✓ fx_correlate1d: 4 cases passed')",
                                             "fx_out_size": "pass"}),
        "always_equal": make_notebook(
            before=["class Evil:\n    def __eq__(self, other):\n        return True\n"
                    "    __array_priority__ = 1000\n"
                    "class EvilArray(np.ndarray):\n    def __eq__(self, other):\n        return True"],
            corr="def correlate1d(x, k):\n    return Evil()\n",
            size="def out_size(n, k):\n    return np.zeros(3).view(EvilArray)\n"),
        "reference": make_notebook(
            corr="def correlate1d(x, k):\n    return np.correlate(x, k, mode='valid')\n"),
        "reference_hidden": make_notebook(
            before=["from scipy import signal as sg\n"
                    "def helper(a, b):\n    return sg.correlate(a, b, mode='valid')"],
            corr="def correlate1d(x, k):\n    return helper(x, k)\n"),
        "not_json": "{ this is not JSON",
        "huge_output": make_notebook(  # over the kernel's 256 MB file size limit
            corr="def correlate1d(x, k):\n    return np.zeros(2**25 + 1)\n"),
        "nested": make_notebook(),
    }
    for name, attack in WRONG_WITH.items():
        students[name] = make_notebook(corr=WRONG_CORR, size="def out_size(n, k):\n    return n\n",
                                       before=[attack])
    for name, nb in students.items():
        folder = subs / name / "ps1" if name == "nested" else subs / name
        _write(folder, nb)
    (subs / "missing").mkdir()
    # Writes into the gradebook, the journal and other learners' folders, by absolute path.
    attack = textwrap.dedent(f"""\
        import pathlib
        out = pathlib.Path({str(out)!r})
        out.mkdir(parents=True, exist_ok=True)
        (out / "gradebook.csv").write_text("student,lesson,exercise,points\\nwriter,{LESSON},x,1000\\n")
        with open(out / "journal.jsonl", "a") as f:
            f.write('{{"student": "wrong", "lesson": "{LESSON}", "key": "x", "rows": []}}\\n')
        subs = pathlib.Path({str(subs)!r})
        (subs / "correct" / "{LESSON}.ipynb").write_text("ruined")
        (subs / "wrong" / "{LESSON}.ipynb").write_bytes((subs / "nested" / "ps1" / "{LESSON}.ipynb").read_bytes())
        """)
    students["monkeypatch_correct"] = make_notebook(before=[PATCH_EVERYTHING])
    _write(subs / "monkeypatch_correct", students["monkeypatch_correct"])
    _write(subs / "writer", make_notebook(before=[attack]))
    limits = Limits(cell_timeout=6, notebook_timeout=60, memory_mb=1536)
    rows = grade(subs, out, source_dir=source_dir, jobs=2, limits=limits, progress=False)
    return {"rows": rows, "out": out, "subs": subs, "source": source_dir, "limits": limits}


def _score(graded, student):
    rows = [r for r in graded["rows"] if r.student == student]
    assert [r.exercise for r in rows] == ["fx_correlate1d", "fx_out_size"], rows
    return {r.exercise: r for r in rows}


def _points(graded, student):
    return tuple(r.points for r in _score(graded, student).values())


@pytest.mark.parametrize("student, expected", [
    ("correct", (2, 1)), ("nested", (2, 1)), ("wrong", (0, 0)), ("blank", (0, 0)),
    ("loop_fn", (0, 1)), ("loop_top", (2, 1)), ("exit_fn", (0, 1)), ("exit_top", (2, 1)),
    ("memory_bomb", (0, 1)), ("import_error", (0, 1)), ("deleted_tests", (2, 1)),
    ("edited_tests", (0, 0)), ("always_equal", (0, 0)), ("reference", (0, 1)),
    ("reference_hidden", (0, 1)), ("not_json", (0, 0)), ("missing", (0, 0)), ("writer", (2, 1)),
    ("monkeypatch_correct", (2, 1)), ("huge_output", (0, 1)),
    *[(name, (0, 0)) for name in WRONG_WITH],
])
def test_each_submission_gets_its_score(graded, student, expected):
    assert _points(graded, student) == expected, _score(graded, student)


def test_statuses_and_messages_say_what_happened(graded):
    s = lambda student: _score(graded, student)  # noqa: E731
    assert s("correct")["fx_correlate1d"].status == "passed"
    assert s("wrong")["fx_correlate1d"].status == "failed"
    assert "kernel_flipped" in s("wrong")["fx_correlate1d"].message or \
        "✗ fx_correlate1d" in s("wrong")["fx_correlate1d"].message
    assert "NotImplementedError" in s("blank")["fx_correlate1d"].message
    assert s("loop_fn")["fx_correlate1d"].status == "timeout"
    assert "length 5, kernel 3" in s("loop_fn")["fx_correlate1d"].message
    assert s("exit_fn")["fx_correlate1d"].status == "crashed"
    assert "ran longer" in s("loop_top")["fx_correlate1d"].message or \
        s("loop_top")["fx_correlate1d"].status == "passed"
    assert s("reference")["fx_correlate1d"].status == "flagged"
    assert "numpy.correlate" in s("reference")["fx_correlate1d"].message
    assert "scipy.signal.correlate" in s("reference_hidden")["fx_correlate1d"].message
    assert s("not_json")["fx_out_size"].status == "invalid"
    assert s("missing")["fx_out_size"].status == "missing"
    assert "Evil" in s("always_equal")["fx_correlate1d"].message
    assert s("huge_output")["fx_correlate1d"].status == "failed"
    assert "output too large" in s("huge_output")["fx_correlate1d"].message


def test_gradebook_csv_and_feedback_come_from_the_grader(graded):
    out = graded["out"]
    with open(out / "gradebook.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert set(table[0]) == {"student", "lesson", "exercise", "points", "max_points", "status", "message"}
    students = {r["student"] for r in table}
    assert len(table) == 2 * len(students) == len(graded["rows"])
    by_key = {(r["student"], r["exercise"]): float(r["points"]) for r in table}
    assert by_key[("writer", "fx_correlate1d")] == 2
    assert by_key[("wrong", "fx_correlate1d")] == 0
    assert all(float(r["max_points"]) in (1, 2) for r in table)
    feedback = (out / "feedback" / "wrong" / f"{LESSON}.md").read_text()
    assert "Score: 0 / 3" in feedback and "fx_correlate1d" in feedback
    assert "Score: 3 / 3" in (out / "feedback" / "correct" / f"{LESSON}.md").read_text()


def test_rerun_resumes_and_force_regrades(graded, tmp_path):
    out, subs, source = graded["out"], graded["subs"], graded["source"]
    journal = Journal(out / "journal.jsonl").load()
    assert ("correct", LESSON) in journal
    # The writer replaced these two notebooks on disk: a resumed run regrades exactly those
    # (their bytes changed) and keeps every other result from the journal.
    rows = grade(subs, out, source_dir=source, lessons=[LESSON], jobs=2, limits=graded["limits"],
                 progress=False)
    scores = {(r.student, r.exercise): r.points for r in rows}
    assert scores[("correct", "fx_correlate1d")] == 0  # now "ruined": not JSON
    assert scores[("wrong", "fx_correlate1d")] == 2  # now a copy of a correct notebook
    assert scores[("loop_fn", "fx_out_size")] == 1
    lines = (out / "journal.jsonl").read_text().splitlines()
    regraded = [json.loads(line)["student"] for line in lines[-2:]]
    assert sorted(regraded) == ["correct", "wrong"]


def test_notebook_time_budget_stops_slow_notebooks(graded, tmp_path):
    subs = tmp_path / "subs"
    slow = ["import time\ntime.sleep(2.5)"] * 3
    _write(subs / "slow", make_notebook(before=slow))
    rows = grade(subs, tmp_path / "out", source_dir=graded["source"], progress=False,
                 limits=Limits(cell_timeout=4, notebook_timeout=4, memory_mb=1536))
    assert [r.points for r in rows] == [0, 0]
    assert "time limit (4 s) ran out" in rows[0].message


def test_cli_grades_one_student(graded, tmp_path, capsys):
    subs = tmp_path / "subs"
    _write(subs / "solo", make_notebook(size="def out_size(n, k):\n    return n - k\n"))
    code = cli_main(["grade", str(subs), "--out", str(tmp_path / "out"), "--source",
                     str(graded["source"]), "--lessons", LESSON, "--timeout", "8",
                     "--memory", "1536", "--no-progress"])
    assert code == 0
    assert f"{LESSON}: 1 students, 2 / 3 points" in capsys.readouterr().out
    assert os.path.exists(tmp_path / "out" / "gradebook.csv")


# --- The real convolution lesson -------------------------------------------------------------
CONV_LESSON = "02_convolution"


def _course_lessons():
    from cnncourse.grading.notebooks import load_source
    from cnncourse.notebook_tools import lesson_paths

    lessons = [p for p in lesson_paths() if load_source(p).tests]
    if not any(p.stem == CONV_LESSON for p in lessons):
        pytest.skip("the convolution lesson is not written yet")
    return lessons


def test_real_lessons(tmp_path):
    """The course's own solutions get full marks in every lesson (no false integrity flags), the
    student versions get zero, and a flipped kernel is caught in the convolution lesson."""
    subs = tmp_path / "submitted"
    for path in _course_lessons():
        nb = nbformat.read(path, as_version=4)
        versions = {"solutions": nb, "blank": student_version(nb)}
        if path.stem == CONV_LESSON:
            flipped = copy.deepcopy(nb)
            for cell in flipped.cells:
                if cell.metadata.get("nbgrader", {}).get("grade_id") == "correlate2d-solution":
                    cell.source = cell.source.replace("* kernel)", "* kernel[::-1, ::-1])")
                    assert "kernel[::-1, ::-1]" in cell.source
            versions["flipped"] = flipped
        for student, notebook in versions.items():
            (subs / student / "ps").mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, subs / student / "ps" / path.name)
    rows = grade(subs, tmp_path / "out", jobs=2, progress=False,
                 limits=Limits(cell_timeout=30, memory_mb=3072))
    table = {(r.student, r.exercise): r for r in rows}
    solved = [r for r in rows if r.student == "solutions"]
    assert {"conv_output_size", "correlate2d", "conv2d"} <= {r.exercise for r in solved}
    for r in solved:
        assert r.status == "passed" and r.points == r.max_points > 0, r
        assert table[("blank", r.exercise)].points == 0, table[("blank", r.exercise)]
    flipped = table[("flipped", "correlate2d")]
    assert flipped.points == 0 and flipped.message.startswith("✗ correlate2d")
    assert "flip" in flipped.message
    assert table[("flipped", "conv2d")].status == "passed"
    assert "NotImplementedError" in table[("blank", "conv2d")].message


def test_kernel_runs_under_limits_in_a_private_folder(tmp_path, monkeypatch):
    from cnncourse.grading.session import KernelSession

    monkeypatch.setenv("GRADER_SECRET_TOKEN", "s3cret")
    work = tmp_path / "work"
    work.mkdir()
    probe = textwrap.dedent("""\
        import json, os, resource, subprocess
        child = subprocess.Popen(["sleep", "300"])
        mapped = int(open("/proc/self/statm").read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        json.dump({"as": resource.getrlimit(resource.RLIMIT_AS)[0], "mapped": mapped,
                   "cwd": os.getcwd(), "home": os.environ["HOME"],
                   "secret": os.environ.get("GRADER_SECRET_TOKEN"),
                   "threads": os.environ.get("OMP_NUM_THREADS"),
                   "gpus": os.environ.get("CUDA_VISIBLE_DEVICES"), "child": child.pid},
                  open("probe.json", "w"))""")
    with KernelSession(work, tmp_path / "private", Limits(memory_mb=1024)) as session:
        assert session.run(probe, 30).status == "ok"
        assert not session.connection_file.exists()
        # The limit counts from after NumPy and PyTorch are loaded: 512 MiB of a 1024 MiB
        # budget fits (an absolute 1 GiB would not: PyTorch alone maps more than 512 MiB).
        big = "import numpy as np, torch\nx = np.ones(2**26)\ndel x"
        assert session.run(big, 30).status == "ok"
        assert session.run("import numpy as np\nx = np.ones(2**28)", 30).error.startswith("MemoryError")
    seen = json.loads((work / "probe.json").read_text())
    libraries = seen["as"] - 1024 * 2**20  # what was mapped when the limit was set
    assert 100 * 2**20 < libraries <= seen["mapped"], seen
    assert seen["gpus"] == ""
    assert seen["cwd"] == str(work) and seen["home"].startswith(str(tmp_path / "private"))
    assert seen["secret"] is None and seen["threads"] == "1"
    with pytest.raises(ProcessLookupError):  # the kernel's children die with it
        for _ in range(50):
            os.kill(seen["child"], 0)
            __import__("time").sleep(0.1)
