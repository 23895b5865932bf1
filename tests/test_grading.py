"""End-to-end tests of ``cnncourse grade``: crafted submissions, each with the score it must get.

One ``grade`` run (``--jobs 2``) grades a whole class of crafted submissions of a small fixture
lesson (two exercises registered here, in the format of :mod:`cnncourse.checks`); each test then
asserts the rows of one student. The attacks are the ones that fool in-kernel graders: patched
``showtraceback``, ``set_custom_exc``, input transformers, redefined checks, monkeypatched NumPy,
always-equal objects, edited or deleted test cells, writing into the gradebook or another
learner's folder — and, run in the bubblewrap sandbox, the attacks on the machine itself:
reading the solutions, the other submissions or the journal, writing the package, the network,
signals, fork bombs, daemons, output floods, forged results, hostile file names and file types.
Every test asserts the attacker's score *and* that the innocent classmates graded in the same
run kept full marks.
"""
from __future__ import annotations

import copy
import csv
import json
import os
import shutil
import socket
import stat
import textwrap
import threading
import time
import uuid
from pathlib import Path

import nbformat
import numpy as np
import pytest

import cnncourse
import cnncourse.grading
from cnncourse.checks.core import Exercise, get_exercise, make_case, register, seeded_rng
from cnncourse.cli import main as cli_main
from cnncourse.grading import Limits, grade
from cnncourse.grading.gradebook import feedback_folder
from cnncourse.grading.sandbox import Sandbox, SandboxUnavailable
from cnncourse.notebook_tools import student_version

import _grading_attacks as attacks

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
GOOD_CORR = attacks.GOOD_CORR
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


def sandbox_available() -> bool:
    """True where bwrap can sandbox a kernel; in CI it must (the sandbox is what is tested)."""
    try:
        Sandbox().check()
        return True
    except SandboxUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to run the grader's sandbox: {exc}")
        return False


INNOCENT = ("correct", "nested", "innocent")
ESCAPED = {  # folder name (bytes) -> the name it is graded under, and what it holds
    b"caf\xe9": ("caf\\xe9", "correct"), "Jose\u0301".encode(): ("Jose\\u0301", "correct"),
    "José".encode(): ("José", "text"), b"=HYPERLINK(1)": ("\\x3dHYPERLINK(1)", "text"),
    b"line\nbreak": ("line\\x0abreak", "text"), "\u202etxt.exe".encode(): ("\\u202etxt.exe", "text"),
    b"Ann": ("Ann", "text"), b"ann": ("ann", "text"),
}


class _Listener:
    """A TCP server on the grader's loopback that counts connections (none may come)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port, self.connections = self.sock.getsockname()[1], 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


def _special_files(subs: Path) -> None:
    """Submissions that are not regular files, or too large, or two at once."""
    (subs / "symlink").mkdir()
    (subs / "symlink" / f"{LESSON}.ipynb").symlink_to(subs / "correct" / f"{LESSON}.ipynb")
    (subs / "fifo").mkdir()
    os.mkfifo(subs / "fifo" / f"{LESSON}.ipynb")
    if os.geteuid() == 0:
        (subs / "device").mkdir()
        os.mknod(subs / "device" / f"{LESSON}.ipynb", 0o600 | stat.S_IFCHR, os.makedev(1, 5))
    (subs / "oversize").mkdir()
    with open(subs / "oversize" / f"{LESSON}.ipynb", "wb") as f:
        f.truncate(51 * 2**20)  # sparse: costs no disk
    (subs / "linked_folder").symlink_to(subs / "correct", target_is_directory=True)
    _write(subs / "two" / "old", make_notebook(corr=WRONG_CORR))
    _write(subs / "two", make_notebook())
    day_ago = time.time() - 86400
    os.utime(subs / "two" / "old" / f"{LESSON}.ipynb", (day_ago, day_ago))
    for raw, (_, content) in ESCAPED.items():
        folder = Path(os.fsdecode(os.fsencode(subs) + b"/" + raw))
        _write(folder, make_notebook() if content == "correct" else "not a notebook")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    source_dir, subs, out = root / "course", root / "submitted", root / "out"
    nb = make_notebook()
    _write(source_dir, nb)
    students = {
        "correct": make_notebook(),
        "innocent": make_notebook(),
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
        "huge_output": make_notebook(  # over the wire format's size cap
            corr="def correlate1d(x, k):\n    return np.zeros(2**25 + 1)\n"),
        "nested": make_notebook(),
        "forger": make_notebook(corr=attacks.FORGER_CORR),
        "flood": make_notebook(before=[attacks.FLOOD]),
        "many_cells": make_notebook(after=["x = 1"] * 10_000),
        "huge_cell": make_notebook(before=["DATA = [" + "0," * 1_000_000 + "]"]),
        "redefined": make_notebook(after=[attacks.REDEFINED]),
        "conditional_def": make_notebook(corr=attacks.CONDITIONAL),
        "dynamic_access": make_notebook(before=[attacks.DYNAMIC], corr=attacks.DYNAMIC_CORR),
        "private_numpy": make_notebook(corr=attacks.PRIVATE_NUMPY),
        "review_only": make_notebook(after=[attacks.REVIEW_ONLY]),
        "import_solution": make_notebook(corr="from helper_mod import correlate1d\n"),
    }
    listener, marker = _Listener(), f"{3000 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 10**6}"
    sandboxed = sandbox_available()
    if sandboxed:  # these would hurt the machine or the test run without the sandbox
        hidden = [str(source_dir), str(source_dir / f"{LESSON}.ipynb"), str(subs),
                  str(subs / "correct" / f"{LESSON}.ipynb"), str(out), str(out / "journal.jsonl"),
                  str(out / ".journal-key"), str(Path(cnncourse.grading.__file__).parent)]
        package = Path(cnncourse.__file__).parent
        students["probe"] = make_notebook(
            before=[attacks.probe(hidden, [str(package / "checks" / "__init__.py"),
                                           str(out / "gradebook.csv"), str(source_dir / "x")],
                                  listener.port, os.getpid())],
            corr=attacks.PROBE_CORR)
        students["signals"] = make_notebook(before=[attacks.SIGNALS.format(grader_pid=os.getpid())])
        students["fork_bomb"] = make_notebook(before=[attacks.FORK_BOMB], size=attacks.FORK_SIZE)
        students["daemon"] = make_notebook(before=[attacks.DAEMON.format(seconds=marker)])
    for name, attack in WRONG_WITH.items():
        students[name] = make_notebook(corr=WRONG_CORR, size="def out_size(n, k):\n    return n\n",
                                       before=[attack])
    for name, nb in students.items():
        folder = subs / name / "ps1" if name == "nested" else subs / name
        _write(folder, nb)
    (subs / "import_solution" / "helper_mod.py").write_text("import numpy as np\n" + GOOD_CORR)
    (subs / "missing").mkdir()
    _special_files(subs)
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
    if sandboxed:
        _write(subs / "writer", make_notebook(before=[attack]))
    limits = Limits(cell_timeout=6, notebook_timeout=60, memory_mb=1536, analysis_memory_mb=300)
    os.environ["GRADER_SECRET_TOKEN"] = "s3cret"
    try:
        rows = grade(subs, out, source_dir=source_dir, jobs=2, limits=limits, progress=False,
                     sandbox=sandboxed)
    finally:
        del os.environ["GRADER_SECRET_TOKEN"]
    return {"rows": rows, "out": out, "subs": subs, "source": source_dir, "limits": limits,
            "sandboxed": sandboxed, "listener": listener, "marker": marker}


def _innocents_keep_full_marks(graded):
    for student in INNOCENT:
        rows = [r for r in graded["rows"] if r.student == student]
        assert [(r.points, r.status) for r in rows] == [(2, "passed"), (1, "passed")], rows


def _score(graded, student):
    rows = [r for r in graded["rows"] if r.student == student]
    assert [r.exercise for r in rows] == ["fx_correlate1d", "fx_out_size"], rows
    return {r.exercise: r for r in rows}


def _points(graded, student):
    return tuple(r.points for r in _score(graded, student).values())


SCORES = [
    ("correct", (2, 1)), ("nested", (2, 1)), ("wrong", (0, 0)), ("blank", (0, 0)),
    ("loop_fn", (0, 1)), ("loop_top", (2, 1)), ("exit_fn", (0, 1)), ("exit_top", (2, 1)),
    ("memory_bomb", (0, 1)), ("import_error", (0, 1)), ("deleted_tests", (2, 1)),
    ("edited_tests", (0, 0)), ("always_equal", (0, 0)), ("reference", (0, 1)),
    ("reference_hidden", (0, 1)), ("not_json", (0, 0)), ("missing", (0, 0)),
    ("monkeypatch_correct", (2, 1)), ("huge_output", (0, 1)),
    *[(name, (0, 0)) for name in WRONG_WITH],
]


@pytest.mark.parametrize("student, expected", SCORES)
def test_each_submission_gets_its_score(graded, student, expected):
    assert _points(graded, student) == expected, _score(graded, student)
    _innocents_keep_full_marks(graded)


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


def _sandbox_only(graded):
    if not graded["sandboxed"]:
        pytest.skip("bwrap cannot sandbox here: this attack is not run without the sandbox")


def test_sandbox_hides_solutions_submissions_journal_network_and_grader(graded):
    """A kernel sees no course solution, other submission, output, journal key, grader code,
    other kernel's folder, network, grader process or grader secret, and writes nothing."""
    _sandbox_only(graded)
    rows = _score(graded, "probe")
    assert _points(graded, "probe") == (2, 1), rows["fx_correlate1d"].message
    assert graded["listener"].connections == 0
    _innocents_keep_full_marks(graded)


def test_a_kernel_cannot_signal_its_parent_or_the_grader(graded):
    _sandbox_only(graded)  # without the sandbox this submission would kill the test run
    assert _points(graded, "signals") == (2, 1), _score(graded, "signals")
    _innocents_keep_full_marks(graded)


def test_a_fork_bomb_meets_the_process_limit(graded):
    _sandbox_only(graded)
    assert _points(graded, "fork_bomb") == (2, 1), _score(graded, "fork_bomb")
    _innocents_keep_full_marks(graded)


def test_nothing_a_kernel_starts_outlives_it(graded):
    """A double-forked daemon in its own session dies with the kernel's sandbox."""
    _sandbox_only(graded)
    assert _points(graded, "daemon") == (2, 1), _score(graded, "daemon")
    survivors = []
    for _ in range(20):  # the PID namespace is torn down asynchronously: allow a moment
        survivors = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if graded["marker"].encode() in cmdline:
                survivors.append(pid)
        if not survivors:
            break
        time.sleep(0.2)
    assert not survivors, f"the daemon outlived its kernel: pids {survivors}"
    _innocents_keep_full_marks(graded)


def test_the_writer_changes_nothing_outside_its_sandbox(graded):
    _sandbox_only(graded)
    assert _points(graded, "writer") == (2, 1)
    writer = _score(graded, "writer")["fx_correlate1d"].message
    assert "writer" not in (graded["out"] / "gradebook.csv").read_text().split("\n", 1)[0]
    assert json.loads(nbformat.writes(nbformat.read(graded["subs"] / "correct" / f"{LESSON}.ipynb",
                                                    as_version=4)))["cells"], writer
    _innocents_keep_full_marks(graded)


def test_malformed_results_make_only_that_exercise_an_error(graded):
    rows = _score(graded, "forger")
    assert _points(graded, "forger") == (0, 1)
    assert rows["fx_correlate1d"].status == "error"
    assert "could not read the results" in rows["fx_correlate1d"].message
    _innocents_keep_full_marks(graded)


def test_an_output_flood_costs_only_its_own_time(graded):
    assert _points(graded, "flood") == (2, 1), _score(graded, "flood")
    _innocents_keep_full_marks(graded)


@pytest.mark.parametrize("student, reason", [
    ("many_cells", "10007 cells"), ("huge_cell", "more memory than the grader's limit (300 MiB)"),
    ("symlink", "a symbolic link"), ("fifo", "a FIFO"), ("oversize", "more than the grader's limit"),
    ("linked_folder", "symbolic link"), ("device", "a character device"),
])
def test_what_is_not_a_readable_notebook_is_invalid_with_the_reason(graded, student, reason):
    if student == "device" and os.geteuid() != 0:
        pytest.skip("only root can make a device node")
    rows = _score(graded, student)
    assert [(r.points, r.status) for r in rows.values()] == [(0, "invalid"), (0, "invalid")]
    assert reason in rows["fx_correlate1d"].message
    _innocents_keep_full_marks(graded)


def test_the_newest_of_two_notebooks_is_graded_with_a_note(graded):
    assert _points(graded, "two") == (2, 1)
    feedback = (graded["out"] / "feedback" / "two" / f"{LESSON}.md").read_text()
    assert "2 notebooks named" in feedback and "old/" in feedback and "the newest" in feedback
    assert any("2 notebooks" in n for n in graded["rows"].notes[("two", LESSON)])
    _innocents_keep_full_marks(graded)


def test_odd_folder_names_are_graded_under_escaped_distinct_names(graded):
    names = {r.student for r in graded["rows"]}
    folders = set()
    for raw, (name, content) in ESCAPED.items():
        assert name in names, (name, sorted(names))
        assert _points(graded, name) == ((2, 1) if content == "correct" else (0, 0))
        path = graded["out"] / "feedback" / feedback_folder(name) / f"{LESSON}.md"
        assert path.is_file()
        folders.add(feedback_folder(name).lower())
    assert len(folders) == len(ESCAPED)  # distinct even where case is ignored
    assert not any(c in n for n in names for c in "\n\r\x00\u202e")
    _innocents_keep_full_marks(graded)


@pytest.mark.parametrize("student, expected, status, words", [
    ("redefined", (0, 1), "flagged", "scipy.signal.correlate"),
    ("dynamic_access", (0, 1), "flagged", "getattr with a computed name"),
    ("private_numpy", (0, 1), "flagged", "numpy._core.multiarray.correlate"),
    ("import_solution", (0, 1), "flagged", "bound by an import of helper_mod.correlate1d"),
    ("conditional_def", (2, 1), "review", "defined conditionally"),
    ("review_only", (2, 1), "review", "globals"),
])
def test_integrity_findings_flag_or_send_for_review(graded, student, expected, status, words):
    rows = _score(graded, student)
    assert _points(graded, student) == expected, rows
    assert rows["fx_correlate1d"].status == status and words in rows["fx_correlate1d"].message
    _innocents_keep_full_marks(graded)


def test_gradebook_csv_and_feedback_come_from_the_grader(graded):
    out = graded["out"]
    with open(out / "gradebook.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert set(table[0]) == {"student", "lesson", "exercise", "points", "max_points", "status", "message"}
    students = {r["student"] for r in table}
    assert len(table) == 2 * len(students) == len(graded["rows"])
    by_key = {(r["student"], r["exercise"]): float(r["points"]) for r in table}
    assert by_key[("wrong", "fx_correlate1d")] == 0
    assert all(float(r["max_points"]) in (1, 2) for r in table)
    feedback = (out / "feedback" / "wrong" / f"{LESSON}.md").read_text()
    assert "Score: 0 / 3" in feedback and "fx_correlate1d" in feedback
    assert "Score: 3 / 3" in (out / "feedback" / "correct" / f"{LESSON}.md").read_text()


def _class_of(graded, tmp_path, students):
    """A copy of the run's output folder and a submissions folder with ``students``' notebooks
    (``name: source student``), to resume from the shared run without changing it."""
    out = tmp_path / "out"
    shutil.copytree(graded["out"], out)
    for name, source in students.items():
        _write(tmp_path / "subs" / name, (graded["subs"] / source / f"{LESSON}.ipynb").read_bytes())
    return tmp_path / "subs", out


def _journaled(out):
    return [json.loads(line)["student"] for line in (out / "journal.jsonl").read_text().splitlines()]


def test_rerun_resumes_and_regrades_only_what_changed(graded, tmp_path):
    subs, out = _class_of(graded, tmp_path, {"correct": "correct", "wrong": "innocent", "blank": "blank"})
    before = len(_journaled(out))
    rows = grade(subs, out, source_dir=graded["source"], lessons=[LESSON], jobs=2,
                 limits=graded["limits"], progress=False, sandbox=graded["sandboxed"])
    scores = {(r.student, r.exercise): r.points for r in rows}
    assert scores[("wrong", "fx_correlate1d")] == 2  # resubmitted: now a correct notebook
    assert scores[("correct", "fx_correlate1d")] == 2 and scores[("blank", "fx_out_size")] == 0
    assert _journaled(out)[before:] == ["wrong"]


def test_forged_or_edited_journal_entries_are_regraded(graded, tmp_path):
    """A journal line claiming full marks without the key's HMAC, and an authentic line edited
    afterwards, are both rejected: those two submissions are graded again."""
    subs, out = _class_of(graded, tmp_path, {"correct": "correct", "blank": "blank", "wrong": "wrong"})
    entries = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    kept = [e for e in entries if e["student"] not in ("blank", "wrong")]
    blank = next(e for e in entries if e["student"] == "blank")
    forged = {**blank, "rows": [{**r, "points": r["max_points"], "status": "passed"} for r in blank["rows"]],
              "mac": "0" * 64}
    edited = next(e for e in entries if e["student"] == "wrong")
    edited["rows"][0]["points"] = 2
    (out / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in [*kept, forged, edited]))
    before = len(_journaled(out))
    rows = grade(subs, out, source_dir=graded["source"], lessons=[LESSON], jobs=2,
                 limits=graded["limits"], progress=False, sandbox=graded["sandboxed"])
    scores = {(r.student, r.exercise): r.points for r in rows}
    assert scores[("blank", "fx_correlate1d")] == 0 and scores[("wrong", "fx_correlate1d")] == 0
    assert scores[("correct", "fx_correlate1d")] == 2  # its authentic entry is kept
    assert sorted(_journaled(out)[before:]) == ["blank", "wrong"]
    assert any("2 journal entries failed authentication" in w for w in rows.warnings)


def test_notebook_time_budget_stops_slow_notebooks(graded, tmp_path):
    subs = tmp_path / "subs"
    slow = ["import time\ntime.sleep(2.5)"] * 3
    _write(subs / "slow", make_notebook(before=slow))
    rows = grade(subs, tmp_path / "out", source_dir=graded["source"], progress=False,
                 limits=Limits(cell_timeout=4, notebook_timeout=4, memory_mb=1536),
                 sandbox=graded["sandboxed"])
    assert [r.points for r in rows] == [0, 0]
    assert "time limit (4 s) ran out" in rows[0].message


def test_cli_grades_one_student(graded, tmp_path, capsys):
    subs = tmp_path / "subs"
    _write(subs / "solo", make_notebook(size="def out_size(n, k):\n    return n - k\n"))
    code = cli_main(["grade", str(subs), "--out", str(tmp_path / "out"), "--source",
                     str(graded["source"]), "--lessons", LESSON, "--timeout", "8",
                     "--memory", "1536", "--no-progress",
                     *([] if graded["sandboxed"] else ["--no-sandbox"])])
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
                 limits=Limits(cell_timeout=30, memory_mb=3072), sandbox=sandbox_available())
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
    with KernelSession(work, tmp_path / "private", Limits(memory_mb=1024),
                       preload=("numpy", "torch")) as session:
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
