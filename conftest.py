"""Root pytest plugin: print how long each notebook took under nbval.

nbval reports one test per cell, so ``--durations`` shows cells; instructors want to know which
*lesson* is slow (every lesson must stay under 60 s), so the per-cell times are summed here.
"""
import os
from collections import defaultdict

os.environ.setdefault("MPLBACKEND", "Agg")

_notebook_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    terminalreporter.write_sep("=", "notebook durations (nbval, all cells)")
    for path, seconds in sorted(_notebook_seconds.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:7.2f}s  {path}")


def _nbgrader_missing() -> bool:
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        return True
    return False


# cnncourse/nbgrader_config.py plugs into nbgrader (the `instructor` extra): its doctest
# collection would fail without it.
collect_ignore = ["cnncourse/nbgrader_config.py"] if _nbgrader_missing() else []
