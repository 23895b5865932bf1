"""The lesson-6 loaders (faces, documents, cells, satellite) work with networking impossible."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_lesson6_loaders_work_with_networking_impossible(tmp_path):
    """A fresh interpreter where opening a socket raises, with empty scikit-image and user
    caches, loads every lesson-6 dataset: each file comes from the course or an installed
    package."""
    script = textwrap.dedent("""
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network disabled by the test")

        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        import skimage.data
        from cnncourse.data import (compose_amount, face_cascade, load_cells, load_face_photo,
                                    load_histology, load_landsat_clouds,
                                    load_landsat_landcover, load_page)

        try:  # sanity check: a non-bundled skimage image really cannot be fetched
            skimage.data.eagle()
        except Exception:
            pass
        else:
            raise SystemExit("eagle() loaded: the network block or the empty cache failed")
        load_face_photo("astronaut"); load_face_photo("camera"); face_cascade()
        compose_amount(seed=1); load_page()
        cells = load_cells(); load_histology()
        clouds = load_landsat_clouds(); land = load_landsat_landcover()
        print("ALL LOADED", int(cells.mask.max()), clouds.bands.shape, land.bands.shape)
    """)
    python_path = [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]
    env = dict(os.environ, SKIMAGE_DATADIR=str(tmp_path / "skimage"), HOME=str(tmp_path),
               XDG_CACHE_HOME=str(tmp_path / "cache"), CNNCOURSE_DATA_DIR=str(tmp_path / "cc"),
               PYTHONPATH=os.pathsep.join(python_path))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ALL LOADED 125 (512, 512, 6) (640, 256, 3)" in result.stdout


def test_lesson6_loaders_write_nothing_into_the_package():
    import cnncourse.data as data

    folder = data._bundled.FILES_DIR.parent

    def snapshot():
        return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if "__pycache__" not in p.parts}

    before = snapshot()
    data.load_cells("test")
    data.load_histology()
    data.load_landsat_clouds("train")
    data.load_landsat_landcover()
    data.compose_amount(seed=2)
    data.load_page()
    data.load_face_photo("camera")
    assert snapshot() == before
