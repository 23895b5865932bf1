"""Sample images (scikit-image) and 8x8 digits (scikit-learn), and that nothing goes online."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from cnncourse.data import SAMPLE_IMAGES, load_digits8x8, sample_image

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(SAMPLE_IMAGES))
def test_every_sample_image_is_uint8_with_documented_shape(name):
    import skimage.data

    image = sample_image(name)
    original = np.asarray(getattr(skimage.data, name)())
    assert image.dtype == np.uint8
    assert image.shape[:2] == original.shape[:2]
    assert image.ndim == 2 or image.shape[2] == 3
    size = "x".join(map(str, image.shape[:2]))
    assert size in SAMPLE_IMAGES[name][1], f"description of {name!r} must give its size {size}"
    gray = sample_image(name, gray=True)
    assert gray.dtype == np.uint8 and gray.shape == image.shape[:2]


def test_gray_conversion_matches_skimage_rgb2gray():
    from skimage.color import rgb2gray

    rgb = sample_image("chelsea")
    expected = rgb2gray(rgb) * 255  # float in [0, 255]
    assert np.abs(sample_image("chelsea", gray=True) - expected).max() <= 0.5 + 1e-6


def test_special_images():
    import skimage.data

    horse = sample_image("horse")
    assert set(np.unique(horse)) == {0, 255}
    assert np.array_equal(horse == 255, skimage.data.horse())
    logo = sample_image("logo")
    rgba = skimage.data.logo()
    assert np.all(rgba[..., 3] == 255)  # fully opaque, so dropping alpha loses nothing
    assert np.array_equal(logo, rgba[..., :3])


def test_sample_image_returns_a_fresh_copy():
    a = sample_image("camera")
    a[:] = 0
    assert sample_image("camera").max() == 255


@pytest.mark.parametrize("bad", ["lena", "Camera", "eagle", ""])
def test_unknown_name_lists_valid_names(bad):
    with pytest.raises(ValueError) as info:
        sample_image(bad)
    message = str(info.value)
    assert f"name={bad!r}" in message
    for name in ("'camera'", "'chelsea'", "'brick'", "'text'"):
        assert name in message


def test_every_sample_file_ships_in_the_skimage_wheel():
    import skimage.data

    folder = Path(skimage.data.__file__).parent
    missing = [name for name, (file, *_r) in SAMPLE_IMAGES.items() if not (folder / file).is_file()]
    assert missing == []


def test_all_loaders_work_with_networking_impossible(tmp_path):
    """Run every loader in a fresh interpreter where opening a socket raises, with empty
    scikit-image and user caches, so each file must come from an installed package."""
    script = textwrap.dedent("""
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network disabled by the test")

        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        import skimage.data
        from cnncourse.data import (SAMPLE_IMAGES, load_digits8x8, load_faces, load_mnist,
                                    load_textures, make_shapes, sample_image)

        try:  # sanity check: a non-bundled skimage image really cannot be fetched
            skimage.data.eagle()
        except Exception:
            pass
        else:
            raise SystemExit("eagle() loaded: the network block or the empty cache failed")
        for name in SAMPLE_IMAGES:
            sample_image(name)
        load_digits8x8(); load_faces(); load_textures(); make_shapes(4)
        load_mnist("train"); load_mnist("test")
        print("ALL LOADED", len(SAMPLE_IMAGES))
    """)
    python_path = [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]
    env = dict(os.environ, SKIMAGE_DATADIR=str(tmp_path / "skimage"), HOME=str(tmp_path),
               XDG_CACHE_HOME=str(tmp_path / "cache"), CNNCOURSE_DATA_DIR=str(tmp_path / "cc"),
               PYTHONPATH=os.pathsep.join(python_path))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"ALL LOADED {len(SAMPLE_IMAGES)}" in result.stdout


def test_load_digits8x8_matches_sklearn():
    from sklearn.datasets import load_digits

    x, y = load_digits8x8()
    ref = load_digits()
    assert x.shape == (1797, 8, 8) and x.dtype == np.uint8 and y.dtype == np.int64
    assert x.min() == 0 and x.max() == 16
    assert np.array_equal(x, ref.images) and np.array_equal(y, ref.target)
    xt, yt = load_digits8x8(as_torch=True)
    assert xt.shape == (1797, 1, 8, 8) and xt.dtype == torch.float32
    assert float(xt.max()) == 1.0
    assert torch.allclose(xt[:, 0] * 16, torch.from_numpy(x).float())


def test_descriptions_and_licences_are_filled_in():
    for name, (file, description, licence) in SAMPLE_IMAGES.items():
        assert re.search(r"\.(png|jpg)$", file) and description and licence, name
