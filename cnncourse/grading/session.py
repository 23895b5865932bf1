"""One learner kernel under limits: start it, run cells with timeouts, survive whatever it does.

The kernel is an ordinary ipykernel started by nbclient from a private kernel spec. By default
its command is wrapped in the :mod:`~cnncourse.grading.sandbox` (bubblewrap); inside it, a short
launcher first drops to an unprivileged user id when the grader runs as root, then lowers the
process's resource limits and starts ipykernel:

- ``RLIMIT_AS`` (address space): a memory bomb gets ``MemoryError`` or dies, the machine does
  not swap. NumPy (and PyTorch, when the learner's code mentions it) is imported first and the
  limit is what the process maps then plus ``--memory``: a CUDA build of PyTorch alone maps
  gigabytes of libraries, which would otherwise leave the learner nothing (or fail
  ``import torch``);
- ``RLIMIT_NPROC`` (processes and threads; sandboxed kernels only, where it counts the
  kernel's own), ``RLIMIT_CPU`` (a backstop a little above the notebook's time budget),
  ``RLIMIT_FSIZE`` (no file larger than 256 MB), ``RLIMIT_CORE`` 0.

The kernel talks to the grader over ZeroMQ IPC sockets (files in its own folder: a sandboxed
kernel has no network, not even the grader's loopback), with a cap on the size of any message
the grader accepts (an output flood is dropped, not buffered). It runs with a whitelisted
environment (no tokens from the grader's environment), one BLAS/OpenMP thread, no GPU (grades
must not depend on the grader's hardware). A cell that runs past its timeout is interrupted; a
kernel that does not answer after that, or that died, is killed with everything it started.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import zmq
import zmq.asyncio
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_event_loop, run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets import default

from .sandbox import Sandbox, sandbox_uid

__all__ = ["Limits", "CellResult", "KernelSession", "kernel_environment",
           "MAX_MESSAGE_BYTES"]

_LAUNCH = """\
import os, resource, sys
memory, cpu, fsize, nproc, uid = (int(v) for v in sys.argv[1:6])
preload, connection_file = sys.argv[6].split(","), sys.argv[7]
if uid >= 0:  # a sandbox started by root: become an unprivileged user before anything else
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if (os.getuid(), os.geteuid(), os.getgid()) != (uid, uid, uid):
        os._exit(70)
sys.argv = ["ipykernel_launcher", "-f", connection_file]
if sys.path and sys.path[0] == "":  # as ipykernel_launcher: the learner's folder is no module source
    del sys.path[0]
for name in preload:  # mapped before the limit, so they do not count against it
    try:
        __import__(name)
    except ImportError:
        pass
try:
    mapped = int(open("/proc/self/statm").read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
except (OSError, ValueError):  # no /proc (macOS): the limit is --memory alone
    mapped = 0
for limit, value in ((resource.RLIMIT_AS, mapped + memory), (resource.RLIMIT_CPU, cpu),
                     (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_NPROC, nproc),
                     (resource.RLIMIT_CORE, 0)):
    if value >= 0:
        hard = value + 10 if limit == resource.RLIMIT_CPU else value
        resource.setrlimit(limit, (value, hard))
from ipykernel.kernelapp import launch_new_instance
launch_new_instance()
"""
_KEEP_ENV = ("PATH", "LANG", "LANGUAGE", "TZ", "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX",
             "SYSTEMROOT", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_KERNEL_NAME = "cnncourse-grader"
#: The largest message the grader accepts from a kernel; a larger one is dropped unread.
MAX_MESSAGE_BYTES = 16 * 2**20


@dataclass(frozen=True)
class Limits:
    """Limits for one submission.

    Args:
        cell_timeout: seconds one cell (or one exercise's check) may run. Default 60.
        notebook_timeout: seconds all the learner's cells together may run. Default 300.
        memory_mb: address space in MiB the kernel may map beyond NumPy and PyTorch, which
            are loaded before the limit is set (the kernel itself takes about 200 MiB of it,
            300 MiB once Matplotlib has drawn).
            Default 3072.
        processes: processes and threads a sandboxed kernel may run at once (the kernel
            itself uses about 10). Default 64.
        startup_timeout: seconds to wait for the kernel to start. Default 60.
        analysis_timeout: seconds the static analysis of one notebook may take. Default 30.
        analysis_memory_mb: address space of the static analysis process, in MiB. Default 2048.
    """

    cell_timeout: float = 60.0
    notebook_timeout: float = 300.0
    memory_mb: int = 3072
    processes: int = 64
    startup_timeout: float = 60.0
    analysis_timeout: float = 30.0
    analysis_memory_mb: int = 2048


@dataclass(frozen=True)
class CellResult:
    """How a cell ended: ``status`` is ``ok``, ``error`` (it raised; ``error`` says what),
    ``timeout`` (interrupted, the kernel still answers), ``hung`` or ``dead`` (kernel gone)."""

    status: str
    error: str | None = None


class _CappedClient(AsyncKernelClient):
    """A kernel client whose sockets drop any message over :data:`MAX_MESSAGE_BYTES`."""

    @default("context")
    def _context_default(self):
        self._created_context = True
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        return context


class _KernelManager(AsyncKernelManager):
    """Writes the connection file readable by the sandbox's user (when the grader is root)."""

    owner: int | None = None

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        if self.owner is not None:
            os.chown(self.connection_file, self.owner, self.owner)


class _QuietClient(NotebookClient):
    """A notebook client that keeps only error outputs (a learner printing gigabytes costs nothing)."""

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "error" and len(outs) < 3:
            content = msg.get("content", {})
            outs.append(nbformat.v4.new_output(
                "error", ename=str(content.get("ename", "?"))[:200],
                evalue=str(content.get("evalue", ""))[:2000], traceback=[]))
        return None

    def handle_comm_msg(self, outs, msg, cell_index):
        return None


def kernel_environment(home: Path, fonts: dict[str, bytes] | None = None) -> dict[str, str]:
    """The environment of a learner kernel: a short whitelist plus private folders under ``home``
    (``fonts``: Matplotlib font-cache files to seed its private Matplotlib folder with, which
    saves seconds per kernel)."""
    env = {k: v for k, v in os.environ.items() if k in _KEEP_ENV or k.startswith("LC_")}
    folders = {"HOME": home, "TMPDIR": home / "tmp", "IPYTHONDIR": home / ".ipython",
               "JUPYTER_CONFIG_DIR": home / ".jupyter", "JUPYTER_DATA_DIR": home / ".jupyter-data",
               "JUPYTER_RUNTIME_DIR": home / ".jupyter-runtime", "MPLCONFIGDIR": home / ".matplotlib"}
    for name, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    for name, data in (fonts or {}).items():
        (home / ".matplotlib" / name).write_bytes(data)
    env.update(MPLBACKEND="Agg", CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", MALLOC_ARENA_MAX="2",
               PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1",
               PYDEVD_DISABLE_FILE_VALIDATION="1")
    return env


def _chown_tree(folder: Path, uid: int) -> None:
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), uid, uid)
    os.lchown(folder, uid, uid)


class KernelSession:
    """A learner kernel in ``workdir`` (its cwd) with its private folders under ``private``.

    Args:
        workdir: the kernel's working folder (a copy of the submission).
        private: an empty folder for the kernel's ``home`` and ``run`` (sockets, connection
            file, :attr:`io` files) folders.
        limits: :class:`Limits`.
        sandbox: the :class:`~cnncourse.grading.sandbox.Sandbox` to run in; ``None`` runs the
            kernel as the grader's own user, unsandboxed.
        preload: modules imported before the memory limit is set. Default ``("numpy",)``.
        fonts: see :func:`kernel_environment`.

    Use as a context manager; :meth:`run` executes one cell and never raises for anything the
    kernel does.
    """

    def __init__(self, workdir: Path, private: Path, limits: Limits, sandbox: Sandbox | None = None,
                 preload: tuple[str, ...] = ("numpy",), fonts: dict[str, bytes] | None = None):
        self.workdir, self.private, self.limits = Path(workdir), Path(private), limits
        self.sandbox, self.preload, self.fonts = sandbox, tuple(preload), fonts
        self.client: _QuietClient | None = None
        self.pgid: int | None = None
        self.uid = sandbox_uid() if sandbox is not None else None
        self.home, self.io = self.private / "home", self.private / "run"
        self.connection_file = self.io / "k.json"
        if len(str(self.io / "k-ipc-99")) > 100:
            raise ValueError(f"the grader's temporary folder {self.private} is too deep for the "
                             f"kernel's sockets (Unix socket paths are limited to 107 bytes): "
                             f"set TMPDIR to a short path such as /tmp")
        self.io.mkdir(parents=True, exist_ok=True)
        self.workdir.mkdir(parents=True, exist_ok=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _kernel_spec(self) -> Path:
        spec_dir = self.private / "kernels" / _KERNEL_NAME
        spec_dir.mkdir(parents=True, exist_ok=True)
        cpu = int(self.limits.notebook_timeout + 4 * self.limits.cell_timeout + 120)
        sandboxed = self.sandbox is not None
        argv = [sys.executable, "-c", _LAUNCH, str(self.limits.memory_mb * 2**20), str(cpu),
                str(256 * 2**20), str(self.limits.processes if sandboxed else -1),
                str(-1 if self.uid is None else self.uid), ",".join(self.preload),
                "{connection_file}"]
        if sandboxed:
            argv = self.sandbox.wrap(argv, self.workdir, [self.workdir, self.home, self.io], self.uid)
        (spec_dir / "kernel.json").write_text(json.dumps(
            {"argv": argv, "display_name": "cnncourse grader", "language": "python",
             "interrupt_mode": "message" if sandboxed else "signal"}))
        return spec_dir.parent

    def start(self) -> None:
        """Start a fresh kernel (stopping any previous one)."""
        self.stop()
        # A fresh HOME (and, as root, a fresh user id) each time: nothing a previous kernel left
        # there (a planted link...) is ever written through by the grader.
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir()
        self.uid = sandbox_uid() if self.sandbox is not None else None
        env = kernel_environment(self.home, self.fonts)
        if self.uid is not None:  # the sandbox's unprivileged user must own its own folders
            for folder in (self.workdir, self.home, self.io):
                _chown_tree(folder, self.uid)
        ksm = KernelSpecManager(kernel_dirs=[str(self._kernel_spec())])
        km = _KernelManager(kernel_name=_KERNEL_NAME, kernel_spec_manager=ksm)
        km.owner, km.client_factory = self.uid, _CappedClient
        # Sockets are files in the kernel's own folder, not TCP ports: a sandboxed kernel has no
        # network at all. The connection file is deleted once the grader is connected.
        km.connection_file, km.transport = str(self.connection_file), "ipc"
        nb = nbformat.v4.new_notebook()
        self.client = _QuietClient(nb, km=km, timeout=int(self.limits.cell_timeout),
                                   allow_errors=True, interrupt_on_timeout=False,
                                   startup_timeout=int(self.limits.startup_timeout),
                                   iopub_timeout=5, record_timing=False,
                                   store_widget_state=False, shutdown_kernel="immediate")
        self.client.start_new_kernel(cwd=str(self.workdir), env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            pid = km.provisioner.process.pid
            pgid = os.getpgid(pid)
            self.pgid = pgid if pgid != os.getpgid(0) else None
        except (AttributeError, OSError):
            self.pgid = None
        self.client.start_new_kernel_client()
        self.connection_file.unlink(missing_ok=True)

    def run(self, code: str, timeout: float) -> CellResult:
        """Run ``code`` as one cell with ``timeout`` seconds; interrupt or kill as needed."""
        client = self.client
        if client is None:
            return CellResult("dead", "the kernel is not running")
        cell = nbformat.v4.new_code_cell(code)
        client.nb.cells = [cell]  # the grader keeps no history of a learner's cells
        client.timeout = max(1, int(round(timeout)))
        try:
            client.execute_cell(cell, 0)
        except DeadKernelError:
            self.stop()
            return CellResult("dead", "the kernel died")
        except CellTimeoutError:
            self._cancel_stale_tasks()
            if self._recover():
                return CellResult("timeout", f"interrupted after {timeout:.0f} s")
            self.stop()
            return CellResult("hung", f"did not stop after {timeout:.0f} s, the kernel was killed")
        except Exception as exc:  # a broken channel is a dead kernel too
            self.stop()
            return CellResult("dead", f"lost the kernel ({type(exc).__name__}: {exc})")
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        if errors:
            return CellResult("error", f"{errors[0].get('ename')}: {errors[0].get('evalue')}")
        return CellResult("ok")

    @staticmethod
    def _cancel_stale_tasks() -> None:
        """After a timeout nbclient leaves the cell's output reader running; it would steal the
        next cells' messages. Cancel every task left on this thread's event loop."""
        loop = ensure_event_loop()
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))

    def _recover(self, grace: float = 5.0) -> bool:
        """Interrupt the kernel; True if it answers a trivial cell within ``grace`` seconds."""
        try:
            run_sync(self.client.km.interrupt_kernel)()
        except Exception:
            return False
        time.sleep(0.2)
        cell = nbformat.v4.new_code_cell("None")
        self.client.nb.cells = [cell]
        self.client.timeout = int(grace)
        try:
            self.client.execute_cell(cell, 0)
        except Exception:
            self._cancel_stale_tasks()
            return False
        return True

    def kill(self) -> None:
        """Kill the kernel's processes now, from any thread (the owner then sees it dead)."""
        pgid = self.pgid
        if pgid is not None:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass

    def stop(self) -> None:
        """Kill the kernel and every process it started (in a sandbox: its whole PID namespace,
        which ends with its first process; without: its process group)."""
        client, self.client = self.client, None
        if client is not None:
            try:
                client._cleanup_kernel()
            except Exception:
                pass
            # nbclient leaves its kernel-alive poller behind after a dead kernel; run later on
            # this thread's loop it would fail, and Python 3.11 formatting that traceback while
            # another thread does the same can corrupt the interpreter's ast state.
            self._cancel_stale_tasks()
        if self.pgid is not None:
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except OSError:
                pass
            self.pgid = None
        for leftover in [self.connection_file, *self.io.glob("k-ipc-*")]:  # this kernel's sockets
            leftover.unlink(missing_ok=True)
