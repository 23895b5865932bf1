"""Hostile submissions for the batch grader's tests (tests/test_grading.py), as cell code.

Each attack is learner code that would change a grade, stop the run or leak something if the
sandbox or the grader's caps did not hold. Most encode their finding in their own score: the
learner's function is right only if every attempt failed, so a leak shows as lost points and
its message says what leaked.
"""
from __future__ import annotations

import textwrap

GOOD_CORR = """\
def correlate1d(x, k):
    out = np.zeros(len(x) - len(k) + 1)
    for i in range(len(out)):
        out[i] = np.sum(x[i:i + len(k)] * k)
    return out
"""


def probe(readable: list[str], writable: list[str], port: int, grader_pid: int) -> str:
    """Tries to read, list, write, connect and signal what a sandboxed kernel must not reach;
    records each success in LEAKS, which makes correlate1d raise (with the list)."""
    return textwrap.dedent(f"""\
        import os, socket, glob
        LEAKS = []
        for path in {readable!r}:
            try:
                if os.path.isdir(path):
                    if os.listdir(path):
                        LEAKS.append(f"listed {{path}}: {{os.listdir(path)[:3]}}")
                else:
                    open(path, "rb").read(1)
                    LEAKS.append(f"read {{path}}")
            except OSError:
                pass
        for path in {writable!r}:
            try:
                with open(path, "a") as f:
                    f.write("# written by a submission")
                LEAKS.append(f"wrote {{path}}")
            except OSError:
                pass
        run = os.path.dirname(os.path.dirname(os.getcwd()))  # the run's temporary folder
        others = [p for p in os.listdir(run) if p != os.path.basename(os.path.dirname(os.getcwd()))]
        if others:
            LEAKS.append(f"saw other kernels' folders {{others[:3]}}")
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
            LEAKS.append("reached the grader's loopback network")
        except OSError:
            pass
        try:
            os.kill({grader_pid}, 0)
            LEAKS.append("could signal the grader")
        except OSError:
            pass
        if len([p for p in os.listdir("/proc") if p.isdigit()]) > 20:
            LEAKS.append("sees the machine's processes")
        if os.environ.get("GRADER_SECRET_TOKEN"):
            LEAKS.append("read the grader's environment")
        """)


PROBE_CORR = "def correlate1d(x, k):\n    if LEAKS:\n        raise RuntimeError('; '.join(LEAKS))\n" + \
    GOOD_CORR.split("\n", 1)[1]

# Kills its parent (in the sandbox: its own PID 1, which ignores it) and signals the grader.
SIGNALS = """\
import os, signal
for target in (os.getppid(), {grader_pid}):
    try:
        os.kill(target, signal.SIGKILL if target == os.getppid() else signal.SIGTERM)
    except OSError:
        pass
"""

# Forks until the process-count limit stops it; out_size is right only if it did.
FORK_BOMB = """\
import os, time
forked = 0
try:
    for _ in range(400):
        if os.fork() == 0:
            time.sleep(1)
            os._exit(0)
        forked += 1
except OSError:
    pass
LIMITED = forked < 400
for _ in range(forked):
    os.wait()
"""
FORK_SIZE = "def out_size(n, k):\n    return n - k + 1 if LIMITED else -1\n"

# A daemon that leaves its session and its parent: it must not outlive the kernel.
DAEMON = """\
import os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["/bin/sleep", "{seconds}"])
    os._exit(0)
os.wait()
"""

# Appends bytes that are no record to its own results file (more than the harness writes after
# them, so some remain): only that exercise is an error.
FORGER_CORR = """\
def correlate1d(x, k):
    import glob
    for path in glob.glob("../p/run/results-*"):
        with open(path, "ab") as f:
            f.write(b"[" * 65536)
    return np.zeros(len(x) - len(k) + 1)
"""

FLOOD = "for _ in range(20):\n    print('x' * (4 * 2**20))\nprint('y' * (20 * 2**20))"

REDEFINED = ("from scipy import signal\n"
             "def correlate1d(x, k):\n    return signal.correlate(x, k, mode='valid')\n")
CONDITIONAL = "if True:\n" + textwrap.indent(GOOD_CORR, "    ")
DYNAMIC = ("import numpy\nname = 'cor' + 'relate'\nREF = getattr(numpy, name)\n")
DYNAMIC_CORR = "def correlate1d(x, k):\n    return REF(x, k, mode='valid')\n"
PRIVATE_NUMPY = "def correlate1d(x, k):\n    return np._core.multiarray.correlate(x, k, 0)\n"
REVIEW_ONLY = "table = globals()  # dynamic access, but not on the way to a solution"
