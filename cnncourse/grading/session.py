"""One learner kernel under limits: start it, run cells with timeouts, survive whatever it does.

The kernel is an ordinary ipykernel started by nbclient from a private kernel spec whose command
first lowers the process's resource limits and then ``exec``-s ipykernel:

- ``RLIMIT_AS`` (address space): a memory bomb gets ``MemoryError`` or dies, the machine does
  not swap. NumPy and PyTorch are imported first and the limit is what the process maps then
  plus ``--memory``: a CUDA build of PyTorch alone maps gigabytes of libraries, which would
  otherwise leave the learner nothing (or fail ``import torch``);
- ``RLIMIT_CPU`` (a backstop a little above the notebook's time budget) and ``RLIMIT_FSIZE``
  (no file larger than 256 MB), ``RLIMIT_CORE`` 0.

It runs in a private temporary folder (its working directory, ``HOME``, ``TMPDIR``, IPython and
Jupyter folders), with a whitelisted environment (no tokens from the grader's environment), one
BLAS/OpenMP thread, no GPU (grades must not depend on the grader's hardware), and its connection
file deleted as soon as the grader has connected, so other kernels cannot find it. A cell that runs past its timeout is interrupted; a kernel that does not
answer after that, or that died, is killed together with its whole process group.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_event_loop, run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

__all__ = ["Limits", "CellResult", "KernelSession", "kernel_environment", "copy_submission"]

_LAUNCH = """\
import os, resource, sys
memory, cpu, fsize = (int(v) for v in sys.argv[1:4])
sys.argv = ["ipykernel_launcher", "-f", sys.argv[4]]
if sys.path and sys.path[0] == "":  # as ipykernel_launcher: the learner's folder is no module source
    del sys.path[0]
for name in ("numpy", "torch"):  # mapped before the limit, so they do not count against it
    try:
        __import__(name)
    except ImportError:
        pass
try:
    mapped = int(open("/proc/self/statm").read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
except (OSError, ValueError):  # no /proc (macOS): the limit is --memory alone
    mapped = 0
for limit, value in ((resource.RLIMIT_AS, mapped + memory), (resource.RLIMIT_CPU, cpu),
                     (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_CORE, 0)):
    if value >= 0:
        hard = value + 10 if limit == resource.RLIMIT_CPU else value
        resource.setrlimit(limit, (value, hard))
from ipykernel.kernelapp import launch_new_instance
launch_new_instance()
"""
_KEEP_ENV = ("PATH", "LANG", "LANGUAGE", "TZ", "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX",
             "SYSTEMROOT")
_KERNEL_NAME = "cnncourse-grader"


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
        startup_timeout: seconds to wait for the kernel to start. Default 60.
    """

    cell_timeout: float = 60.0
    notebook_timeout: float = 300.0
    memory_mb: int = 3072
    startup_timeout: float = 60.0


@dataclass(frozen=True)
class CellResult:
    """How a cell ended: ``status`` is ``ok``, ``error`` (it raised; ``error`` says what),
    ``timeout`` (interrupted, the kernel still answers), ``hung`` or ``dead`` (kernel gone)."""

    status: str
    error: str | None = None


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


def kernel_environment(home: Path, mpl_dir: Path | None = None) -> dict[str, str]:
    """The environment of a learner kernel: a short whitelist plus private folders under ``home``."""
    env = {k: v for k, v in os.environ.items() if k in _KEEP_ENV or k.startswith("LC_")}
    folders = {"HOME": home, "TMPDIR": home / "tmp", "IPYTHONDIR": home / ".ipython",
               "JUPYTER_CONFIG_DIR": home / ".jupyter", "JUPYTER_DATA_DIR": home / ".jupyter-data",
               "JUPYTER_RUNTIME_DIR": home / ".jupyter-runtime",
               "MPLCONFIGDIR": mpl_dir or home / ".matplotlib"}
    for name, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    env.update(MPLBACKEND="Agg", CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", MALLOC_ARENA_MAX="2",
               PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1",
               PYDEVD_DISABLE_FILE_VALIDATION="1")
    return env


class KernelSession:
    """A learner kernel in ``workdir`` (its cwd) with private files under ``private``.

    Use as a context manager; :meth:`run` executes one cell and never raises for anything the
    kernel does.
    """

    def __init__(self, workdir: Path, private: Path, limits: Limits, mpl_dir: Path | None = None):
        self.workdir, self.private, self.limits = Path(workdir), Path(private), limits
        self.mpl_dir = mpl_dir
        self.client: _QuietClient | None = None
        self.pgid: int | None = None
        self.runtime: Path | None = None
        self.connection_file: Path | None = None
        spec_dir = self.private / "kernels" / _KERNEL_NAME
        spec_dir.mkdir(parents=True, exist_ok=True)
        cpu = int(limits.notebook_timeout + 4 * limits.cell_timeout + 120)
        argv = [sys.executable, "-c", _LAUNCH, str(limits.memory_mb * 2**20), str(cpu),
                str(256 * 2**20), "{connection_file}"]
        (spec_dir / "kernel.json").write_text(json.dumps(
            {"argv": argv, "display_name": "cnncourse grader", "language": "python"}))

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self) -> None:
        """Start a fresh kernel (stopping any previous one)."""
        self.stop()
        ksm = KernelSpecManager(kernel_dirs=[str(self.private / "kernels")])
        km = AsyncKernelManager(kernel_name=_KERNEL_NAME, kernel_spec_manager=ksm)
        # Sockets are files in a private folder, not open TCP ports (unless the path is too long
        # for a Unix socket); the connection file is deleted once the grader is connected.
        self.runtime = Path(tempfile.mkdtemp(prefix="cnncourse-k-"))
        self.connection_file = self.runtime / f"k-{os.urandom(6).hex()}.json"
        km.connection_file = str(self.connection_file)
        km.transport = "ipc" if len(str(self.connection_file)) < 90 else "tcp"
        nb = nbformat.v4.new_notebook()
        self.client = _QuietClient(nb, km=km, timeout=int(self.limits.cell_timeout),
                                   allow_errors=True, interrupt_on_timeout=False,
                                   startup_timeout=int(self.limits.startup_timeout),
                                   iopub_timeout=5, record_timing=False,
                                   store_widget_state=False, shutdown_kernel="immediate")
        env = kernel_environment(self.private / "home", self.mpl_dir)
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
        client.nb.cells.append(cell)
        client.timeout = max(1, int(round(timeout)))
        try:
            client.execute_cell(cell, len(client.nb.cells) - 1)
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
        self.client.nb.cells.append(cell)
        self.client.timeout = int(grace)
        try:
            self.client.execute_cell(cell, len(self.client.nb.cells) - 1)
        except Exception:
            self._cancel_stale_tasks()
            return False
        return True

    def stop(self) -> None:
        """Kill the kernel and every process it started in its process group."""
        client, self.client = self.client, None
        if client is not None:
            try:
                client._cleanup_kernel()
            except Exception:
                pass
        if self.pgid is not None:
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except OSError:
                pass
            self.pgid = None
        if self.runtime is not None:
            shutil.rmtree(self.runtime, ignore_errors=True)
            self.runtime = None


def copy_submission(folder: Path | None, notebook: bytes | None, name: str, dest: Path,
                    max_bytes: int = 50 * 2**20) -> None:
    """Fill the kernel's working folder: the learner's other files (up to ``max_bytes``) and the
    snapshot of their notebook taken before any learner code ran."""
    dest.mkdir(parents=True, exist_ok=True)
    if folder is not None and folder.is_dir():
        total = 0
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if path.is_symlink() or ".ipynb_checkpoints" in rel.parts or path.suffix == ".ipynb":
                continue
            if path.is_file() and len(rel.parts) <= 3:
                total += path.stat().st_size
                if total > max_bytes:
                    break
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest / rel)
    if notebook is not None:
        (dest / name).write_bytes(notebook)
