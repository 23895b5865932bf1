"""Reading submissions as files an attacker may have crafted (cnncourse.grading.submissions) and
naming their feedback so that no two students ever share a file (gradebook.feedback_folder)."""
from __future__ import annotations

import itertools
import os
import time

import pytest

from cnncourse.grading.gradebook import feedback_folder
from cnncourse.grading.submissions import copy_folder, find_submissions, read_regular, student_name

TRICKY = ["ann", "Ann", "ANN", "a n", "a_n", "a\\x41", "aA", "caf\udce9", "café", "cafe\u0301",
          "=SUM(A1)", "+1", "-rf", "@x", " lead", "trail ", "tab\tx", "new\nline", "\u202egnp",
          "zero\u200bwidth", "nbsp\u00a0x", "\x80", "\udc80", "con", "CON", "nul.txt", "x.", "日本"]


def test_escaped_names_are_distinct_and_carry_no_tricks():
    names = [student_name(raw) for raw in TRICKY]
    assert len(set(names)) == len(TRICKY)  # injective: two folders, two names
    assert student_name("caf\udce9") == "caf\\xe9" and student_name("\x80") == "\\u0080"
    assert student_name("cafe\u0301") == "cafe\\u0301" and student_name("café") == "café"
    assert student_name("=SUM(A1)").startswith("\\x3d") and student_name("ann") == "ann"
    for name in names:
        assert name.isprintable() and not name.startswith(("=", "+", "-", "@", " ")), repr(name)


def test_feedback_folders_never_collide_even_ignoring_case():
    names = [student_name(raw) for raw in TRICKY]
    folders = [feedback_folder(n) for n in names]
    assert len({f.lower() for f in folders}) == len(names)
    assert feedback_folder("ann") == "ann" and feedback_folder("Ann").startswith("ann~")
    for folder in folders:
        assert folder.isascii() and "/" not in folder and "\\" not in folder and folder not in (".", "..")
        assert folder.lower() not in ("con", "nul", "nul.txt")


def test_only_regular_files_of_bounded_size_are_read(tmp_path):
    (tmp_path / "ok").write_bytes(b"12345")
    assert read_regular(tmp_path / "ok", 5) == b"12345"
    with pytest.raises(ValueError, match="more than the grader's limit"):
        read_regular(tmp_path / "ok", 4)
    (tmp_path / "link").symlink_to(tmp_path / "ok")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    for name, what in (("link", "a symbolic link"), ("fifo", "a FIFO"), ("dir", "a folder")):
        started = time.monotonic()
        with pytest.raises(ValueError, match=what):
            read_regular(tmp_path / name, 100)
        assert time.monotonic() - started < 5  # a FIFO is never opened for reading


def test_the_newest_candidate_is_graded_and_the_others_are_named(tmp_path):
    for folder, age in (("ann", 0), ("ann/ps1", 3600), ("ann/ps2", 7200)):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "l1.ipynb").write_text(folder)
        then = time.time() - age
        os.utime(tmp_path / folder / "l1.ipynb", (then, then))
    (tmp_path / "ann" / "ps3").mkdir()
    (tmp_path / "ann" / "ps3" / "l1.ipynb").symlink_to(tmp_path / "ann" / "l1.ipynb")
    sub = find_submissions(tmp_path, ["l1"])["ann"]["l1"]
    assert sub.data == b"ann" and sub.path == tmp_path / "ann" / "l1.ipynb"
    assert len(sub.notes) == 1 and "4 notebooks named l1.ipynb" in sub.notes[0]
    assert all(f"{p}/l1.ipynb" in sub.notes[0] for p in ("ps1", "ps2", "ps3"))


def test_other_files_are_copied_without_following_links(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    (src / "data").mkdir(parents=True)
    (src / "data" / "x.npy").write_bytes(b"x" * 10)
    (src / "big.bin").write_bytes(b"y" * 100)
    (src / "secret").symlink_to("/etc/passwd")
    (src / "sub").symlink_to("/etc", target_is_directory=True)
    os.mkfifo(src / "pipe")
    (src / "other.ipynb").write_text("{}")
    copy_folder(src, dest, max_bytes=50)
    copied = sorted(str(p.relative_to(dest)) for p in dest.rglob("*"))
    assert copied == ["data", "data/x.npy"]


@pytest.mark.parametrize("layout", list(itertools.product(("flat", "nested"), ("file", "missing"))))
def test_submissions_are_found_in_both_layouts(tmp_path, layout):
    where, what = layout
    folder = tmp_path / "bob" / ("ps1" if where == "nested" else "")
    folder.mkdir(parents=True)
    if what == "file":
        (folder / "l1.ipynb").write_text("{}")
    sub = find_submissions(tmp_path, ["l1"])["bob"]["l1"]
    assert (sub.data == b"{}") == (what == "file") and (sub.problem is None) == (what == "file")
