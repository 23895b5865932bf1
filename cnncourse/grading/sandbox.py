"""The sandbox every learner kernel runs in: bubblewrap (``bwrap``), the sandbox behind Flatpak.

:meth:`Sandbox.wrap` turns the kernel's command into a ``bwrap`` command that gives it

- the machine's filesystem **read-only**, with every folder that matters to grading **hidden**
  (an empty folder mounted over it): the course's notebooks with solutions, the submissions,
  the output folder with its journal, the grader's temporary folder (other kernels' working
  folders), the package's own ``grading`` code, a source checkout around the package, and the
  home folders (``/home``, ``/root``, ``$HOME``), ``/run``, ``/mnt``, ``/media``, ``/var/tmp``
  — the Python environment and the package itself are mounted back, read-only;
- a private, size-capped ``/tmp`` and ``/dev/shm``, a fresh ``/dev`` and ``/proc``;
- read-write only the folders of its own submission: its working folder (a copy of that one
  submission), its ``HOME``, and the folder of its sockets and result files;
- no network (its own, empty network namespace), its own PID namespace (it sees and can signal
  only its own processes), IPC and UTS namespaces, a new session;
- ``--die-with-parent``: when the kernel is stopped, or the grader dies, everything the kernel
  started dies with it (the PID namespace ends with its first process).

Run by an ordinary user, bwrap needs unprivileged user namespaces; the kernel then runs in its
own user namespace. Run as root, bwrap needs none, and the kernel drops to an unprivileged user
id of its own (see :func:`sandbox_uid`) before anything else runs, so that it has no
capabilities and its process-count limit applies (Linux exempts root from it).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Sandbox", "SandboxUnavailable", "find_bwrap", "sandbox_uid", "INSTALL_HINT"]

INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: "
                "`sudo dnf install bubblewrap`; Arch: `sudo pacman -S bubblewrap`), or pass "
                "--no-sandbox to grade without it (only for submissions you trust)")

_SYSTEM_HIDDEN = ("/home", "/root", "/run", "/mnt", "/media", "/srv", "/var/tmp", "/var/mail")
_SYSTEM_FOLDERS = ("/", "/usr", "/etc", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/opt",
                   "/var", "/proc", "/sys", "/dev", "/boot", "/nix", "/gnu")
_TMP_BYTES = 256 * 2**20  # size of the private /tmp and /dev/shm
_PRIVATE = ("/tmp", "/dev/shm")
_UID_BASE, _UID_SPAN = 1_900_000_000, 100_000_000


class SandboxUnavailable(RuntimeError):
    """bwrap is missing or cannot create a sandbox here; the message says what to do."""


def find_bwrap() -> str | None:
    """The path of ``bwrap`` on this machine, or ``None``."""
    return shutil.which("bwrap")


def sandbox_uid() -> int | None:
    """A fresh unprivileged user id for one kernel when the grader runs as root, else ``None``.

    Ids are drawn at random from a range no real account uses (1.9e9 to 2.0e9), so two kernels
    running at once (in this run or another) practically never share one, and each kernel's
    process-count limit is its own.
    """
    if os.geteuid() != 0:
        return None
    return _UID_BASE + secrets.randbelow(_UID_SPAN)


def _real(path) -> str | None:
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        return None
    return real if os.path.isabs(real) and os.path.lexists(real) else None


def _depth(path: str) -> int:
    return 0 if path == "/" else path.count("/")


def _under(path: str, folder: str) -> bool:
    return folder == "/" or path == folder or path.startswith(folder.rstrip("/") + "/")


def _package_dirs() -> tuple[Path, Path | None]:
    package = Path(__file__).resolve().parent.parent
    checkout = package.parent
    is_checkout = any((checkout / marker).exists() for marker in (".git", "pyproject.toml", "setup.py"))
    return package, (checkout if is_checkout else None)


def needed_paths() -> list[str]:
    """What a kernel must be able to read: the interpreter, its libraries, the package.

    The library folders are those on the ``sys.path`` of a fresh interpreter (``PYTHONPATH``
    and ``.pth`` files included), not this process's: a test runner's additions to ``sys.path``
    (a source checkout, its tests) are not exposed.
    """
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)), str(_package_dirs()[0])]
    try:
        done = subprocess.run([sys.executable, "-c", "import sys, json; print(json.dumps(sys.path))"],
                              capture_output=True, text=True, timeout=60, cwd="/")
        paths += [p for p in json.loads(done.stdout) if isinstance(p, str) and os.path.isabs(p)]
    except (OSError, ValueError, subprocess.SubprocessError):
        paths += [p for p in sys.path if p and os.path.isabs(p)]
    return paths


@dataclass
class Sandbox:
    """How kernels are sandboxed in one grading run.

    Args:
        hidden: folders (or files) no kernel may see, on top of the defaults (course notebooks,
            the package's checkout and ``grading`` code, home folders...).
        bwrap: the ``bwrap`` executable. Default: found on ``PATH``.
        expose: what kernels must be able to read inside hidden folders. Default:
            :func:`needed_paths` (this interpreter, its libraries, the package).
    """

    hidden: list = field(default_factory=list)
    bwrap: str | None = None
    expose: list | None = None

    def __post_init__(self):
        self.bwrap = self.bwrap or find_bwrap()
        if self.bwrap is None:
            where = "bubblewrap works on Linux only" if not sys.platform.startswith("linux") else \
                "`bwrap` is not on PATH"
            raise SandboxUnavailable(f"every learner kernel runs in a sandbox, but {where}: "
                                     f"{INSTALL_HINT}")
        package, checkout = _package_dirs()
        defaults = [*_SYSTEM_HIDDEN, os.path.expanduser("~"), tempfile.gettempdir(),
                    str(package / "grading"), str(package / "lessons")]
        if checkout is not None:
            defaults.append(str(checkout))
        try:
            from ..notebook_tools import lessons_dir

            defaults.append(str(lessons_dir()))
        except Exception:  # no lessons installed: nothing to hide there
            pass
        cwd = _real(os.getcwd())
        if cwd and cwd not in _SYSTEM_FOLDERS:  # the instructor's course folder, most likely
            defaults.append(cwd)
        hidden = {r for r in (_real(p) for p in [*defaults, *map(str, self.hidden)]) if r and r != "/"}
        hidden |= set(_PRIVATE)  # whatever they are on the host, the kernel gets its own
        self._hidden = sorted(hidden)
        exposed = {r for r in (_real(p) for p in (needed_paths() if self.expose is None
                                                  else map(str, self.expose))) if r}
        self._exposed = sorted(e for e in exposed if e not in hidden
                               and any(_under(e, h) for h in hidden))

    def _mounts(self) -> list[str]:
        ops = [(p, "hide") for p in self._hidden] + [(p, "show") for p in self._exposed]
        args = []
        for path, op in sorted(ops, key=lambda o: (_depth(o[0]), o[0], o[1] == "show")):
            if op == "show":
                args += [*self._parents(path), "--ro-bind", path, path]
            elif path in _PRIVATE:  # the kernel's own /tmp and /dev/shm: writable, size-capped
                args += ["--size", str(_TMP_BYTES), "--perms", "1777", "--tmpfs", path]
            elif os.path.isdir(path) and not os.path.islink(path):
                args += ["--tmpfs", path]
            else:
                args += ["--ro-bind", "/dev/null", path]
        return args

    def _parents(self, path: str) -> list[str]:
        """bwrap would create the folders leading to ``path`` inside a hiding tmpfs as 0700:
        create them 0755, traversable by the unprivileged user the kernel runs as."""
        above = max((h for h in self._hidden if _under(path, h) and h != path), key=len, default="/")
        parents, parent = [], os.path.dirname(path)
        while parent != above and _under(parent, above):
            parents.append(parent)
            parent = os.path.dirname(parent)
        return [arg for parent in reversed(parents) for arg in ("--perms", "0755", "--dir", parent)]

    def wrap(self, argv: list[str], workdir: Path, writable: list[Path], uid: int | None) -> list[str]:
        """The ``bwrap`` command that runs ``argv`` in the sandbox, in ``workdir``.

        ``writable`` folders are bound read-write at the same paths (they must be under a hidden
        folder, e.g. the grader's temporary folder); ``uid`` is :func:`sandbox_uid` ().
        """
        args = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                *self._mounts(),
                "--remount-ro", "/dev"]  # (in a user namespace its tmpfs would be writable)
        for folder in map(os.path.realpath, writable):
            args += [*self._parents(folder), "--bind", folder, folder]
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                 "--unshare-cgroup-try", "--new-session", "--die-with-parent",
                 "--chdir", str(workdir),
                 # ipykernel would take its parent (the sandbox's PID 1) for a dead grader;
                 # --die-with-parent does that job
                 "--unsetenv", "JPY_PARENT_PID"]
        if uid is None:  # an ordinary user: its own user namespace, and no more of them inside
            args += ["--unshare-user", "--disable-userns"]
        else:  # root: the launcher drops to `uid` at once, then has no capability left
            args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        return [*args, "--", *argv]

    def check(self, timeout: float = 60) -> None:
        """Start one sandboxed Python that imports what a kernel needs; raise
        :class:`SandboxUnavailable` (with what went wrong and what to do) if it fails."""
        root = Path(tempfile.mkdtemp(prefix="cg-probe-"))
        uid = sandbox_uid()
        try:
            work = root / "work"
            work.mkdir()
            if uid is not None:
                os.chown(work, uid, uid)
            code = ("import os, sys\n"
                    "uid = int(sys.argv[1])\n"
                    "if uid >= 0:\n"
                    "    os.setgroups([]); os.setgid(uid); os.setuid(uid)\n"
                    "import numpy, ipykernel.kernelapp, cnncourse.checks\n"
                    "open('ok', 'w').write('ok')\n")
            command = self.wrap([sys.executable, "-c", code, str(-1 if uid is None else uid)],
                                work, [work], uid)
            try:
                done = subprocess.run(command, capture_output=True, timeout=timeout,
                                      env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
            except subprocess.TimeoutExpired:
                raise SandboxUnavailable(f"a sandboxed Python did not start within {timeout:.0f} s")
            if done.returncode != 0 or not (work / "ok").exists():
                raise SandboxUnavailable(_diagnose(done.stderr.decode(errors="replace"), uid))
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _diagnose(stderr: str, uid: int | None) -> str:
    tail = " | ".join(line for line in stderr.strip().splitlines()[-3:])
    message = f"bwrap is installed but could not start a sandboxed kernel ({tail or 'no error text'})"
    if uid is None and ("uid map" in stderr or "namespace" in stderr or "Operation not permitted" in stderr):
        message += (". Unprivileged user namespaces are off here: enable them (Ubuntu 24.04+: "
                    "`sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`; older kernels: "
                    "`sudo sysctl kernel.unprivileged_userns_clone=1`), or in a container allow "
                    "them (see deploy/README.md)")
    elif uid is not None and ("Permission denied" in stderr or "No module named" in stderr):
        message += (f". As root, kernels run as an unprivileged user id ({uid}) that must be able to "
                    f"read the Python environment ({sys.prefix}, {sys.base_prefix}) and the course "
                    f"package: make them world-readable (`chmod -R o+rX PATH`) or grade as an "
                    f"ordinary user")
    return message + "; or pass --no-sandbox to grade without it (only for submissions you trust)"
