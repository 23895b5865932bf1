"""Grading a class in shards on many machines, and merging the shards into one gradebook.

``cnncourse grade SUBMISSIONS --shard K/N --out DIR`` grades the K-th of N shares of the
students: the roster (every student folder's name, sorted) is dealt round-robin, so shard K gets
the K-th, (K+N)-th, ... student. Every student is in exactly one shard, the shards differ in size
by one at most, and only the shard's own notebooks are read. Every run, sharded or not, writes
a manifest next to its gradebook, ``DIR/shard.json``:

- ``shard``, ``of``: K and N (an unsharded run is shard 1 of 1);
- ``roster``: every student of the class, ``students``: those of this shard;
- ``lessons``, ``sources`` (each lesson's source-notebook fingerprint) and ``settings`` (the
  limits, ``--allow-reference``, the sandbox), which every shard must share;
- ``keys``: for each (student, lesson), the fingerprint of what was graded, which its journal
  entry must carry;
- ``complete``: false from the start of a run until every notebook of the shard is graded.

``cnncourse grade merge DIR... --out DIR`` checks the manifests (same class, lessons, course and
settings; each of shards 1..N exactly once; none incomplete; every student of the roster in
exactly one shard), takes each shard's grades from its authenticated journal (with that
folder's own key) and writes the merged ``gradebook.csv``, feedback files, journal and manifest
exactly as one unsharded run writes them (:func:`~cnncourse.grading.gradebook.write_outputs`).
It refuses, listing every reason, rather than write a gradebook with a student missing or twice.
The merged folder is itself a grading output: an unsharded ``cnncourse grade`` into it resumes
from it (a late submission is graded alone).
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from .gradebook import Journal, write_atomic, write_outputs

__all__ = ["MANIFEST", "ShardError", "parse_shard", "select", "write_manifest", "read_manifest",
           "check_output_folder", "merge"]

#: The manifest's file name, in every grading output folder.
MANIFEST = "shard.json"
_FORMAT = 1


class ShardError(ValueError):
    """Shards that cannot be merged, or an output folder that belongs to another shard."""


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` with ``1 <= K <= N``.

    >>> parse_shard("2/8")
    (2, 8)

    Raises:
        ValueError: naming ``--shard``, what it expects and what it got.
    """
    match = re.fullmatch(r"\s*(\d{1,6})\s*/\s*(\d{1,6})\s*", text or "")
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ValueError(f"--shard expects K/N with 1 <= K <= N (e.g. 2/8 for the second of eight "
                         f"shards), got {text!r}")
    return int(match[1]), int(match[2])


def select(roster: list[str], k: int, n: int) -> list[str]:
    """The students of shard ``k`` of ``n``: every n-th of the sorted roster, from the k-th.

    >>> select(["ann", "bob", "cem", "dan", "eve"], 2, 2)
    ['bob', 'dan']
    """
    return sorted(roster)[k - 1::n]


def write_manifest(out: Path, manifest: dict) -> None:
    """Write ``out/shard.json`` atomically (see the module docstring for its fields)."""
    write_atomic(Path(out) / MANIFEST, json.dumps({"format": _FORMAT, **manifest}, indent=1,
                                                  sort_keys=True) + "\n")


_FIELDS = {"shard": int, "of": int, "roster": list, "students": list, "lessons": list,
           "sources": dict, "settings": dict, "keys": dict, "complete": bool}


def read_manifest(folder: Path, missing_ok: bool = False) -> dict | None:
    """The manifest of a grading output folder.

    Returns ``None`` when there is none and ``missing_ok``.

    Raises:
        ShardError: no manifest (unless ``missing_ok``), or one that is not readable.
    """
    path = Path(folder) / MANIFEST
    if missing_ok and not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        ok = isinstance(manifest, dict) and all(isinstance(manifest.get(name), kind)
                                                for name, kind in _FIELDS.items())
    except (OSError, ValueError):
        ok = False
    if not ok:
        raise ShardError(f"{folder} is not the output folder of a `cnncourse grade` run (no "
                         f"readable {MANIFEST} in it)")
    return manifest


def check_output_folder(out: Path, shard: tuple[int, int]) -> None:
    """Refuse to grade shard ``K/N`` into a folder that holds another shard's output.

    Raises:
        ShardError: naming the shard the folder holds and what to do instead.
    """
    previous = read_manifest(out, missing_ok=True)
    if previous is not None and (previous["shard"], previous["of"]) != tuple(shard):
        raise ShardError(
            f"--out {out} holds shard {previous['shard']}/{previous['of']} of a grading run, and "
            f"this run is shard {shard[0]}/{shard[1]}: give every shard its own output folder "
            f"(e.g. --out {Path(out).parent / f'shard-{shard[0]}'}), then combine them with "
            f"`cnncourse grade merge`")


def _problems(manifests: dict[Path, dict]) -> list[str]:
    """Every reason the shards cannot be merged (empty if they can)."""
    problems = []
    first_dir, first = next(iter(manifests.items()))
    counts = sorted({m["of"] for m in manifests.values()})
    if len(counts) > 1:
        problems.append("the shards come from runs with different --shard N: " + ", ".join(
            f"{d} is shard {m['shard']}/{m['of']}" for d, m in manifests.items()))
    for name, what in (("roster", "a different class (its submissions folder lists other "
                                  "students)"),
                       ("lessons", "different lessons"),
                       ("sources", "different versions of the course's notebooks"),
                       ("settings", "different settings")):
        for folder, m in manifests.items():
            if m[name] != first[name]:
                detail = ""
                if name == "settings":
                    detail = ": " + ", ".join(f"{key} {first[name].get(key)!r} vs {m[name].get(key)!r}"
                                              for key in sorted(set(first[name]) | set(m[name]))
                                              if first[name].get(key) != m[name].get(key))
                problems.append(f"{folder} was graded with {what} than {first_dir}{detail}")
    n = first["of"]
    seen: dict[int, Path] = {}
    for folder, m in manifests.items():
        if m["shard"] in seen:
            problems.append(f"shard {m['shard']}/{n} is given twice: {seen[m['shard']]} and {folder}")
        seen.setdefault(m["shard"], folder)
        if not m["complete"]:
            problems.append(f"shard {m['shard']}/{m['of']} ({folder}) did not finish (interrupted, "
                            f"or still running): run the same command again to finish it")
    if len(counts) == 1:
        missing = [k for k in range(1, n + 1) if k not in seen]
        if missing:
            problems.append(f"shard{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(f'{k}/{n}' for k in missing)} missing: merge needs all {n}")
    owner: dict[str, Path] = {}
    for folder, m in manifests.items():
        for student in m["students"]:
            if student in owner:
                problems.append(f"student {student!r} is in two shards: {owner[student]} and {folder}")
            owner.setdefault(student, folder)
    if not problems:  # same roster everywhere: every student of it must be in a shard
        absent = sorted(set(first["roster"]) - set(owner))
        if absent:
            problems.append(f"{len(absent)} students of the class are in no shard: "
                            + ", ".join(map(repr, absent[:10])) + (" ..." if len(absent) > 10 else ""))
    return problems


def _prepare(out: Path, folders: list[Path]) -> None:
    """``out`` must be new, empty or an earlier merge's output (whose results are replaced)."""
    if any(f.resolve() == out.resolve() for f in folders):
        raise ShardError(f"--out {out} is one of the shards: merge into a new folder")
    if not out.exists() or not any(out.iterdir()):
        return
    previous = None
    try:
        previous = read_manifest(out)
    except ShardError:
        pass
    if previous is None or "merged_from" not in previous:
        raise ShardError(f"--out {out} already holds files that are not an earlier merge's "
                         f"output: merge into a new or empty folder")
    shutil.rmtree(out / "feedback", ignore_errors=True)
    (out / "journal.jsonl").unlink(missing_ok=True)


def merge(folders: list, out) -> tuple[list, dict]:
    """Merge the output folders of shards 1..N into ``out`` (see the module docstring).

    Returns:
        ``(rows, notes)``: the merged gradebook's rows and the notes about submissions
        (``(student, lesson) -> [text]``).

    Raises:
        ShardError: with every reason the shards cannot be merged.
    """
    folders, out = [Path(f) for f in folders], Path(out)
    if not folders:
        raise ShardError("merge needs the output folders of the shards (cnncourse grade merge "
                         "shard-1 shard-2 ... --out DIR)")
    if len({f.resolve() for f in folders}) < len(folders):
        raise ShardError("the same output folder is given twice: " + " ".join(map(str, folders)))
    manifests = {f: read_manifest(f) for f in folders}
    problems = _problems(manifests)
    results, notes, keys = {}, {}, {}
    for folder, m in ([] if problems else manifests.items()):
        entries = Journal(folder / "journal.jsonl", create=False).load()
        lost = []
        for student in m["students"]:
            for lesson in m["lessons"]:
                entry, key = entries.get((student, lesson)), m["keys"].get(student, {}).get(lesson)
                if entry is None or entry["key"] != key:
                    lost.append(f"{student}/{lesson}")
                    continue
                results[(student, lesson)] = entry["rows"]
                notes[(student, lesson)] = entry["notes"]
                keys.setdefault(student, {})[lesson] = key
        if lost:
            problems.append(f"{folder}: the journal has no authentic grade matching its manifest "
                            f"for {len(lost)} notebook{'s' * (len(lost) != 1)} ({', '.join(lost[:5])}"
                            f"{' ...' if len(lost) > 5 else ''}): the journal or its .journal-key "
                            f"was changed or lost; run that shard again")
    if problems:
        raise ShardError("cannot merge the shards:\n" + "\n".join(f"- {p}" for p in problems))
    _prepare(out, folders)
    first = next(iter(manifests.values()))
    students = sorted(keys)
    rows = write_outputs(out, results, first["lessons"], students, notes)
    journal = Journal(out / "journal.jsonl")  # signed with the merged folder's own key
    try:
        for (student, lesson), lesson_rows in sorted(results.items()):
            journal.append(student, lesson, keys[student][lesson], lesson_rows, notes[(student, lesson)])
    finally:
        journal.close()
    write_manifest(out, {**{k: first[k] for k in ("roster", "lessons", "sources", "settings")},
                         "shard": 1, "of": 1, "students": students, "keys": keys, "complete": True,
                         "merged_from": [str(f) for f in folders]})
    return rows, notes
