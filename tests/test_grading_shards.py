"""Sharded grading (cnncourse.grading.shards): ``--shard K/N`` and ``cnncourse grade merge``.

One class of 40 students of the fixture lesson is graded once unsharded and once as 3 shards;
the merged shards must give exactly the files of the unsharded run. The refusals (a shard
missing or given twice, shards of different runs, an unfinished shard, a changed journal...)
are checked on copies of those shard folders, with no more grading.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from cnncourse.cli import main as cli_main
from cnncourse.grading import Limits, grade
from cnncourse.grading.shards import ShardError, merge, parse_shard, read_manifest, select
from cnncourse.grading.submissions import roster
from cnncourse.notebook_tools import read_notebook, student_version

from test_grading_sandbox import FIXTURES, LESSON, _sandbox_or_skip

N_SHARDS = 3


def _edit(nb: dict, grade_id: str, old: str, new: str) -> dict:
    nb = json.loads(json.dumps(nb))
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    assert old in source, (grade_id, source)
    cell["source"] = source.replace(old, new)
    return nb


def _make_class(subs: Path) -> None:
    """40 students: 20 graded in a kernel (right, blank, wrong, two notebooks) and 20 that need
    none (not submitted, not a notebook); one folder name is not UTF-8."""
    source = read_notebook(FIXTURES / f"{LESSON}.ipynb")
    kinds = {
        "right": source,
        "blank": student_version(source),
        "predicted_4": _edit(source, "q03_pool_params-solution", "= 0", "= 4"),
        "off_by_one": _edit(source, "conv_output_size-solution", "+ 1", "+ 2"),
    }
    plan = (["right"] * 8 + ["blank"] * 4 + ["predicted_4"] * 3 + ["off_by_one"] * 3 + ["two"] * 2
            + ["missing"] * 12 + ["not_json"] * 8)
    for i, kind in enumerate(plan):
        name = b"caf\xe9-%02d" % i if i == 5 else b"student%02d" % i
        folder = Path(os.fsdecode(os.fsencode(subs) + b"/" + name))
        folder.mkdir(parents=True)
        path = folder / f"{LESSON}.ipynb"
        if kind == "two":
            (folder / "old").mkdir()
            (folder / "old" / path.name).write_text(json.dumps(kinds["blank"]))
            day_ago = time.time() - 86400
            os.utime(folder / "old" / path.name, (day_ago, day_ago))
            path.write_text(json.dumps(source))
        elif kind == "not_json":
            path.write_text('{"cells": [ not JSON')
        elif kind != "missing":
            path.write_text(json.dumps(kinds[kind]))


def _files(folder: Path) -> dict[str, bytes]:
    """Every file a reader of the results sees (not the journal, its key or the manifest)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in ("journal.jsonl", ".journal-key", "shard.json")}


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    _sandbox_or_skip()
    root = tmp_path_factory.mktemp("shards")
    subs = root / "submitted"
    _make_class(subs)
    limits = Limits(cell_timeout=20, notebook_timeout=60, memory_mb=1536)
    run = dict(source_dir=FIXTURES, jobs=2, limits=limits, progress=False)
    whole = grade(subs, root / "whole", **run)
    shards = [root / f"shard-{k}" for k in range(1, N_SHARDS + 1)]
    parts = [grade(subs, out, shard=(k, N_SHARDS), **run) for k, out in enumerate(shards, 1)]
    return {"root": root, "subs": subs, "whole": whole, "shards": shards, "parts": parts, "run": run}


def test_merged_shards_are_exactly_the_unsharded_gradebook(sharded):
    whole, parts = sharded["whole"], sharded["parts"]
    students = [p.students for p in parts]
    assert sorted(s for part in students for s in part) == whole.students == roster(sharded["subs"])
    assert len(whole.students) == 40 and sorted(map(len, students)) == [13, 13, 14]
    statuses = {r.status for r in whole}
    assert {"passed", "failed", "missing", "invalid"} <= statuses  # a varied class
    assert 0 < sum(r.points for r in whole) < sum(r.max_points for r in whole)
    out = sharded["root"] / "merged"
    rows, notes = merge(sharded["shards"], out)
    assert rows == list(whole)
    assert _files(out) == _files(sharded["root"] / "whole")
    assert any("2 notebooks named" in n for ns in notes.values() for n in ns)
    manifest = read_manifest(out)
    assert (manifest["shard"], manifest["of"], manifest["complete"]) == (1, 1, True)
    assert manifest["students"] == whole.students


def test_a_merged_folder_resumes_like_an_unsharded_run(sharded, tmp_path):
    """The merged journal is authentic with the merged folder's key: grading the class into it
    again grades nothing (a late submission would be graded alone)."""
    out = tmp_path / "merged"
    merge(sharded["shards"], out)
    lines = (out / "journal.jsonl").read_text().count("\n")
    assert lines == 40
    again = grade(sharded["subs"], out, **sharded["run"])
    assert list(again) == list(sharded["whole"])
    assert (out / "journal.jsonl").read_text().count("\n") == lines


def _copies(sharded, tmp_path, ks=range(1, N_SHARDS + 1)) -> list[Path]:
    copies = []
    for k in ks:
        copy = tmp_path / f"copy-{len(copies)}-of-{k}"
        shutil.copytree(sharded["shards"][k - 1], copy)
        copies.append(copy)
    return copies


def _edit_manifest(folder: Path, **changes) -> None:
    manifest = json.loads((folder / "shard.json").read_text())
    manifest.update(changes)
    (folder / "shard.json").write_text(json.dumps(manifest))


def _refused(folders, out, *words):
    with pytest.raises(ShardError) as info:
        merge(folders, out)
    for word in words:
        assert word in str(info.value), str(info.value)
    assert not (out / "gradebook.csv").exists()  # nothing is written when refused


def test_merge_refuses_a_missing_shard(sharded, tmp_path):
    _refused(sharded["shards"][:2], tmp_path / "out", "shard 3/3 missing")


def test_merge_refuses_a_shard_given_twice(sharded, tmp_path):
    first, second, _ = _copies(sharded, tmp_path)
    _refused([first, second, sharded["shards"][1]], tmp_path / "out",
             "shard 2/3 is given twice", "is in two shards", "shard 3/3 missing")
    _refused([*sharded["shards"], sharded["shards"][0]], tmp_path / "out", "given twice")


def test_merge_refuses_overlapping_shards_of_different_runs(sharded, tmp_path):
    """A 3-way shard next to the unsharded run's output (a 1/1 shard): different N, overlap."""
    whole = sharded["root"] / "whole"
    _refused([sharded["shards"][0], whole], tmp_path / "out", "different --shard N",
             "is in two shards")


def test_merge_refuses_shards_of_another_class_course_or_settings(sharded, tmp_path):
    copies = _copies(sharded, tmp_path)
    manifest = read_manifest(copies[1])
    _edit_manifest(copies[1], roster=manifest["roster"] + ["late_student"])
    _edit_manifest(copies[2], settings={**manifest["settings"], "allow_reference": True},
                   sources={LESSON: "0" * 16})
    _refused(copies, tmp_path / "out", "a different class", "different versions of the course",
             "allow_reference False vs True")


def test_merge_refuses_an_unfinished_shard(sharded, tmp_path):
    copies = _copies(sharded, tmp_path)
    _edit_manifest(copies[0], complete=False)
    _refused(copies, tmp_path / "out", "shard 1/3", "did not finish")


def test_merge_refuses_a_changed_journal_or_a_lost_key(sharded, tmp_path):
    copies = _copies(sharded, tmp_path)
    lines = (copies[0] / "journal.jsonl").read_text().splitlines()
    entry = json.loads(lines[0])
    entry["rows"][0]["points"] = entry["rows"][0]["max_points"] + 10
    (copies[0] / "journal.jsonl").write_text("\n".join([json.dumps(entry), *lines[1:]]) + "\n")
    (copies[1] / ".journal-key").unlink()
    _refused(copies, tmp_path / "out", f"{copies[0]}: the journal has no authentic grade "
             f"matching its manifest for 1 notebook ({entry['student']}/{LESSON})",
             f"{copies[1]}: the journal has no authentic grade matching its manifest for 13 ")
    assert not (copies[1] / ".journal-key").exists()  # merge only reads the shards


def test_merge_refuses_to_write_over_other_files_or_a_shard(sharded, tmp_path):
    before = _files(sharded["shards"][0])
    with pytest.raises(ShardError, match="is one of the shards"):
        merge(sharded["shards"], sharded["shards"][0])
    assert _files(sharded["shards"][0]) == before
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("the instructor's")
    _refused(sharded["shards"], busy, "not an earlier merge's output")
    merged = tmp_path / "merged"  # an earlier merge is replaced
    merge(sharded["shards"], merged)
    (merged / "feedback" / "stale").mkdir()
    merge(sharded["shards"], merged)
    assert not (merged / "feedback" / "stale").exists()
    assert (merged / "journal.jsonl").read_text().count("\n") == 40


def test_a_shard_refuses_an_output_folder_of_another_shard(sharded):
    with pytest.raises(ShardError, match=r"holds shard 1/3 .* this run is shard 2/3"):
        grade(sharded["subs"], sharded["shards"][0], shard=(2, N_SHARDS), **sharded["run"])
    assert read_manifest(sharded["shards"][0])["shard"] == 1


def test_cli_shard_and_merge(sharded, tmp_path, capsys):
    out = tmp_path / "merged"
    code = cli_main(["grade", "merge", *map(str, sharded["shards"]), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "merged 3 shards" in printed
    total = sum(r.points for r in sharded["whole"])
    assert f"{LESSON}: 40 students, {total:g} / " in printed
    code = cli_main(["grade", "merge", *map(str, sharded["shards"][:2]), "--out", str(tmp_path / "x")])
    assert code == 2 and "shard 3/3 missing" in capsys.readouterr().err
    code = cli_main(["grade", str(sharded["subs"]), "--out", str(tmp_path / "y"), "--shard", "4/3"])
    assert code == 2 and "--shard expects K/N with 1 <= K <= N" in capsys.readouterr().err


def test_shards_deal_the_sorted_roster_in_turn():
    names = [f"s{i:02d}" for i in range(10)]
    shards = [select(list(reversed(names)), k, 3) for k in (1, 2, 3)]
    assert shards == [names[0::3], names[1::3], names[2::3]]
    assert parse_shard(" 3 / 3 ") == (3, 3)
    for bad in ("0/3", "4/3", "3", "a/b", "", "1/0"):
        with pytest.raises(ValueError, match="--shard expects K/N"):
            parse_shard(bad)
