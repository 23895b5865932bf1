"""Everything the grader learns from a submission before running it, in a separate process.

A submitted notebook is untrusted data: parsing its JSON and its code can take any amount of
time and memory (a cell of 30 MB, nesting ten thousand deep). So :func:`analyse_submission`
does all of it in a child Python process with its own caps (``Limits.analysis_timeout``
seconds, ``Limits.analysis_memory_mb`` MiB of address space): it checks the notebook
(:func:`~cnncourse.grading.notebooks.parse_submission`), picks the learner's cells
(:func:`~cnncourse.grading.notebooks.learner_cells`), runs the integrity analysis
(:mod:`~cnncourse.grading.integrity`) and trims the course's setup cell
(:func:`~cnncourse.grading.notebooks.prune_setup`). The grader's own process never parses
learner code. A notebook that breaks the caps is ``invalid``, with the reason.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field

from .integrity import Flag
from .notebooks import LearnerCell, SourceNotebook, SubmissionError

__all__ = ["Analysis", "analyse_submission"]


@dataclass
class Analysis:
    """What the static pass found: the cells to run, the setup to run first, integrity findings."""

    cells: list[LearnerCell]
    setup: str
    flags: dict[str, list[Flag]] = field(default_factory=dict)
    reviews: dict[str, list[Flag]] = field(default_factory=dict)
    preload: tuple[str, ...] = ("numpy",)


def _plan(source: SourceNotebook, exercises: dict[str, tuple[str, str]],
          prefixes: tuple[str, ...]) -> dict:
    return {"lesson": source.lesson, "setup": source.setup, "exercises": exercises,
            "tests": [t.grade_id for t in source.tests], "solution_ids": sorted(source.solution_ids),
            "course_code": sorted(source.course_code), "prefixes": list(prefixes)}


def analyse_submission(data: bytes, source: SourceNotebook, exercises: dict[str, tuple[str, str]],
                       prefixes: tuple[str, ...], timeout: float = 30, memory_mb: int = 2048) -> Analysis:
    """Analyse one submitted notebook in a capped child process.

    Args:
        data: the notebook's bytes.
        source: the lesson's source notebook.
        exercises: exercise id -> (name the learner defines, kind).
        prefixes: forbidden names (:func:`~cnncourse.grading.forbidden.forbidden_prefixes`).
        timeout: seconds the analysis may take. Default 30.
        memory_mb: address space of the analysis process in MiB. Default 2048.

    Raises:
        SubmissionError: the notebook is not readable, or the analysis broke a cap.
    """
    header = json.dumps(_plan(source, exercises, prefixes)).encode()
    command = [sys.executable, "-c", "from cnncourse.grading.analysis import _main; _main()",
               str(memory_mb * 2**20), str(int(timeout) + 1)]
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "PYTHONPATH", "LANG", "SYSTEMROOT")}
    try:
        done = subprocess.run(command, input=b"%d\n" % len(header) + header + data,
                              capture_output=True, timeout=timeout, cwd="/", env=env)
    except subprocess.TimeoutExpired:
        raise SubmissionError(f"reading the notebook's code took longer than the grader's limit "
                              f"({timeout:g} s): is it enormous?") from None
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        answer = None
    if done.returncode != 0 or not isinstance(answer, dict):
        if done.returncode == 3 or b"MemoryError" in done.stderr:
            raise SubmissionError(f"reading the notebook's code needed more memory than the "
                                  f"grader's limit ({memory_mb} MiB): is it enormous?")
        if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            raise SubmissionError(f"reading the notebook's code took longer than the grader's "
                                  f"limit ({timeout:g} s): is it enormous?")
        raise SubmissionError(f"reading the notebook's code failed (exit status "
                              f"{done.returncode}): is the notebook malformed?")
    if "invalid" in answer:
        raise SubmissionError(answer["invalid"])
    found = lambda table: {ex: [Flag(*f) for f in flags] for ex, flags in table.items()}  # noqa: E731
    return Analysis([LearnerCell(*c) for c in answer["cells"]], answer["setup"],
                    found(answer["flags"]), found(answer["reviews"]), tuple(answer["preload"]))


def _main() -> None:  # the child process
    import resource

    memory, cpu = int(sys.argv[1]), int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    try:
        data = sys.stdin.buffer.read()
        end = data.index(b"\n")
        plan = json.loads(data[end + 1:end + 1 + int(data[:end])])
        answer = _analyse(data[end + 1 + int(data[:end]):], plan)
    except MemoryError:
        os._exit(3)
    sys.stdout.write(json.dumps(answer))


def _analyse(data: bytes, plan: dict) -> dict:
    import importlib.util
    from dataclasses import astuple

    from .integrity import analyse
    from .notebooks import TestCell, learner_cells, parse_submission, prune_setup

    try:
        nb = parse_submission(data)
    except SubmissionError as exc:
        return {"invalid": str(exc)}
    source = SourceNotebook(plan["lesson"], None, plan["setup"],
                            [TestCell(t, 0.0) for t in plan["tests"]], set(plan["solution_ids"]),
                            set(plan["course_code"]))
    cells = learner_cells(source, nb)

    def is_local(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is None
        except (ImportError, ValueError):
            return True

    findings = analyse([(c.index, c.source) for c in cells],
                       {ex: tuple(v) for ex, v in plan["exercises"].items()}, [plan["setup"]],
                       tuple(plan["prefixes"]), is_local)
    setup = prune_setup(plan["setup"], [c.source for c in cells])
    preload = ["numpy"] + (["torch"] if any("torch" in c.source for c in cells) or "torch" in setup else [])
    table = lambda found: {ex: [astuple(f) for f in flags] for ex, flags in found.items()}  # noqa: E731
    return {"cells": [astuple(c) for c in cells], "setup": setup, "flags": table(findings.flags),
            "reviews": table(findings.reviews), "preload": preload}
