"""Print each dataset's size on disk and load time: ``python -m cnncourse.data``.

Load time is the median of 5 calls after one warm-up call (so it leaves out the one-off
import of scikit-image or scikit-learn), as wall-clock time and as CPU time of this process
(which other programs running at the same time disturb less). Size on disk is the size of
the files the loader reads. The full MNIST is listed only if it is already in the cache (this never downloads).
"""
from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from . import (compose_amount, load_cells, load_digits8x8, load_face_photo, load_faces,
               load_histology, load_landsat_clouds, load_landsat_landcover, load_mnist,
               load_page, load_textures, make_shapes, sample_image)
from ._bundled import FILES_DIR
from .mnist import MNIST_SHA256, mnist_cache_dir
from .samples import SAMPLE_IMAGES

__all__ = ["measure", "main"]


def _median_time(load, repeat: int = 5) -> tuple[float, float]:
    """Median (wall, CPU) seconds of ``repeat`` calls after a warm-up call."""
    load()
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        load()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def _size(*paths) -> int:
    return sum(os.path.getsize(p) for p in paths)


def measure() -> list[tuple[str, str, int, tuple[float, float]]]:
    """Rows ``(dataset, what is returned, bytes on disk, (wall, CPU) seconds per load)``."""
    import skimage.data
    import sklearn.datasets

    skimage_dir = Path(skimage.data.__file__).parent
    sklearn_dir = Path(sklearn.datasets.__file__).parent / "data"
    npz = FILES_DIR / "mnist10k.npz"
    textures = [skimage_dir / f"{n}.png" for n in ("brick", "grass", "gravel")]
    rows = [
        ("MNIST bundled, train", "8000x28x28 uint8", _size(npz),
         _median_time(lambda: load_mnist("train"))),
        ("MNIST bundled, test", "2000x28x28 uint8", _size(npz),
         _median_time(lambda: load_mnist("test"))),
    ]
    cache = mnist_cache_dir()
    if all((cache / name).is_file() for name in MNIST_SHA256):
        rows.append(("MNIST full, train", "60000x28x28 uint8",
                     _size(*(cache / n for n in MNIST_SHA256)),
                     _median_time(lambda: load_mnist("train", "full", progressbar=False), 1)))
    rows += [
        ("8x8 digits (sklearn)", "1797x8x8 uint8", _size(sklearn_dir / "digits.csv.gz"),
         _median_time(load_digits8x8)),
        ("faces (LFW subset), train", "160x25x25 float32", _size(skimage_dir / "lfw_subset.npy"),
         _median_time(load_faces)),
        ("textures, train, patch=32", "576x32x32 uint8", _size(*textures),
         _median_time(load_textures)),
        ("shapes, make_shapes(10000)", "10000x28x28 float32", 0,
         _median_time(lambda: make_shapes(10000), 3)),
        ("face photo, astronaut + box", "512x512 uint8", _size(skimage_dir / "astronaut.png"),
         _median_time(lambda: load_face_photo("astronaut"))),
        ("compose_amount(seed=0)", "32xW uint8", 0, _median_time(compose_amount)),
        ("page scan + lines", "191x384 uint8", _size(skimage_dir / "page.png"),
         _median_time(load_page)),
        ("cells (fluorescence + mask)", "512x512 uint8 + mask", _size(FILES_DIR / "cells.npz"),
         _median_time(load_cells)),
        ("histology (H&E)", "300x500x3 uint8", _size(FILES_DIR / "cells.npz"),
         _median_time(load_histology)),
        ("Landsat clouds (6 bands + QA)", "512x512x6 uint16",
         _size(FILES_DIR / "landsat_clouds.npz"), _median_time(load_landsat_clouds)),
        ("Landsat land cover (RGB)", "640x256x3 uint16",
         _size(FILES_DIR / "landsat_landcover.npz"), _median_time(load_landsat_landcover)),
    ]
    for name, (file, *_rest) in SAMPLE_IMAGES.items():
        shape = "x".join(map(str, sample_image(name).shape))
        rows.append((f"sample_image({name!r})", f"{shape} uint8", _size(skimage_dir / file),
                     _median_time(lambda name=name: sample_image(name))))
    return rows


def main() -> None:
    print("| dataset | returns | on disk (kB) | load, wall (ms) | load, CPU (ms) |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, shape, size, (wall, cpu) in measure():
        print(f"| {name} | {shape} | {size / 1e3:,.1f} | {wall * 1e3:.1f} | {cpu * 1e3:.1f} |")


if __name__ == "__main__":
    main()
