"""The grader's sandbox and run control (cnncourse.grading.sandbox, batch): refusing without bwrap,
warning without the sandbox, working for an unprivileged user, and cleaning up after Ctrl-C and
SIGTERM. The attacks on a sandboxed kernel are in tests/test_grading.py."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from cnncourse.cli import main as cli_main
from cnncourse.grading import sandbox as sandbox_module
from cnncourse.grading.batch import NO_SANDBOX_WARNING
from cnncourse.grading.sandbox import Sandbox, SandboxUnavailable

FIXTURES = Path(__file__).parent / "fixtures" / "lessons"
LESSON = "90_fixture"


def _sandbox_or_skip():
    try:
        Sandbox().check()
    except SandboxUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to run the grader's sandbox: {exc}")
        pytest.skip(f"bwrap cannot sandbox here: {exc}")


def _class(tmp_path, extra_cell=None, students=("ann",)):
    nb = nbformat.read(FIXTURES / f"{LESSON}.ipynb", as_version=4)
    if extra_cell:
        nb.cells.insert(2, nbformat.v4.new_code_cell(extra_cell))
    for student in students:
        (tmp_path / "subs" / student).mkdir(parents=True)
        nbformat.write(nb, tmp_path / "subs" / student / f"{LESSON}.ipynb")
    return tmp_path / "subs"


def test_without_bwrap_the_grader_refuses_and_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox_module, "find_bwrap", lambda: None)
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        Sandbox()
    subs = _class(tmp_path)
    code = cli_main(["grade", str(subs), "--out", str(tmp_path / "out"), "--source", str(FIXTURES),
                     "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "install bubblewrap" in err and "--no-sandbox" in err
    assert "Traceback" not in err and not (tmp_path / "out" / "gradebook.csv").exists()


def test_no_sandbox_warns_on_every_run(tmp_path, capsys):
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    (tmp_path / "subs" / "ann" / f"{LESSON}.ipynb").write_text("not JSON: no kernel is started")
    for _ in range(2):  # the second run resumes from the journal, and warns again
        code = cli_main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                         "--source", str(FIXTURES), "--no-progress", "--no-sandbox"])
        assert code == 0 and NO_SANDBOX_WARNING in capsys.readouterr().err


def test_the_sandbox_works_for_an_unprivileged_user(tmp_path):
    """What CI without root runs: bwrap in a user namespace. Run as root, the same command is
    run as the user nobody with the system's Python (the grader's own may not be readable)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        pytest.skip("bwrap is not installed")
    as_nobody = os.geteuid() == 0
    if as_nobody and not (shutil.which("runuser") and Path("/usr/bin/python3").exists()):
        pytest.skip("needs runuser and /usr/bin/python3 to test the unprivileged case as root")
    root = Path(tempfile.mkdtemp(prefix="cg-user-", dir="/tmp"))
    try:
        work, secret = root / "work", root / "secret"
        work.mkdir()
        secret.mkdir()
        (secret / "solution.ipynb").write_text("the answers")
        root.chmod(0o755)
        work.chmod(0o777)
        probe = ("import os, resource, socket, json\n"
                 "s = %r\n"
                 "r = {'pid': os.getpid(), 'secret': os.listdir(s) if os.path.isdir(s) else [], "
                 "'procs': len([p for p in "
                 "os.listdir('/proc') if p.isdigit()])}\n"
                 "try:\n    open('/usr/cnncourse-test', 'w'); r['ro'] = False\n"
                 "except OSError:\n    r['ro'] = True\n"
                 "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2); r['net'] = True\n"
                 "except OSError:\n    r['net'] = False\n"
                 "open('/tmp/cnncourse-probe-private-tmp', 'w').write('private /tmp is writable')\n"
                 "try:\n    open('/dev/x', 'w'); r['dev'] = True\n"
                 "except OSError:\n    r['dev'] = False\n"
                 "resource.setrlimit(resource.RLIMIT_NPROC, (8, 8))\n"
                 "n = 0\ntry:\n    for _ in range(50):\n        if os.fork() == 0:\n"
                 "            import time; time.sleep(1); os._exit(0)\n        n += 1\n"
                 "except OSError:\n    pass\nr['forks'] = n\n"
                 "open('probe.json', 'w').write(json.dumps(r))\n") % str(secret)
        box = Sandbox(hidden=[secret, root], expose=[] if as_nobody else None)
        python = "/usr/bin/python3" if as_nobody else sys.executable
        command = box.wrap([python, "-c", probe], work, [work], None)
        if as_nobody:
            command = ["runuser", "-u", "nobody", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode and "uid map" in done.stderr + "namespace":
            pytest.skip(f"unprivileged user namespaces are off here: {done.stderr.strip()}")
        assert done.returncode == 0, done.stderr
        seen = json.loads((work / "probe.json").read_text())
        assert seen["pid"] == 2 and seen["procs"] <= 3 and seen["secret"] == []
        assert seen["ro"] and not seen["dev"] and not seen["net"] and seen["forks"] < 8
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _kernel_processes(tmp: Path) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if str(tmp).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            pass
    return found


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_removes_its_temporary_folders_and_kernels(tmp_path, signum):
    _sandbox_or_skip()
    subs = _class(tmp_path, "while True:\n    pass")
    tmp = Path(tempfile.mkdtemp(prefix="cgt-", dir="/tmp"))  # short: the kernels' sockets are in it
    env = {**os.environ, "TMPDIR": str(tmp)}
    grader = subprocess.Popen(
        [sys.executable, "-m", "cnncourse.cli", "grade", str(subs), "--out", str(tmp_path / "out"),
         "--source", str(FIXTURES), "--timeout", "120", "--no-progress"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(tmp.glob("cg-*/s*/p/run/k-ipc-*")):  # a kernel is up, looping
            assert time.monotonic() < deadline and grader.poll() is None, grader.communicate()
            time.sleep(0.2)
        time.sleep(1)
        grader.send_signal(signum)
        out, err = grader.communicate(timeout=60)
    finally:
        if grader.poll() is None:
            grader.kill()
        left = list(tmp.iterdir())
        shutil.rmtree(tmp, ignore_errors=True)
    assert grader.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err
    assert left == []
    assert _kernel_processes(tmp) == []
    journal = tmp_path / "out" / "journal.jsonl"  # not graded: graded again next time
    assert not journal.exists() or journal.read_text() == ""
    assert (tmp_path / "out" / "gradebook.csv").read_text().startswith("student,lesson")
