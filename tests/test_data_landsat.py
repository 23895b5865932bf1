"""Landsat-8 cuts: cloud labels from the quality band, land-cover polygons, the build script."""
from __future__ import annotations

import importlib.util
import sqlite3
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from cnncourse.data import (CLOUD_BANDS, LANDCOVER_CLASSES, ChecksumError, cloud_labels,
                            load_landsat_clouds, load_landsat_landcover, qa_field)
from cnncourse.data._bundled import FILES_DIR, SHA256, sha256_file
from cnncourse.data.landsat import QA_FIELDS

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["landsat_clouds.npz", "landsat_landcover.npz"])
def test_files_match_recorded_checksums_in_code_and_readme(name):
    actual = sha256_file(FILES_DIR / name)
    assert actual == SHA256[name]
    assert actual in (ROOT / "data" / "README.md").read_text()


def test_all_new_files_together_stay_small():
    names = ["cells.npz", "landsat_clouds.npz", "landsat_landcover.npz"]
    assert sum((FILES_DIR / n).stat().st_size for n in names) < 3.5e6


# ---------------------------------------------------------------- quality band
def test_qa_field_decodes_each_field_of_a_built_value():
    rng = np.random.default_rng(0)
    values = {name: rng.integers(0, 1 << bits, 50) for name, (_, bits) in QA_FIELDS.items()}
    qa = sum(values[name].astype(np.uint16) << first for name, (first, _) in QA_FIELDS.items())
    for name, expected in values.items():
        assert np.array_equal(qa_field(qa, name), expected), name


def test_qa_fields_do_not_overlap_and_fit_16_bits():
    used = [bit for first, n in QA_FIELDS.values() for bit in range(first, first + n)]
    assert len(used) == len(set(used)) and max(used) == 15


def test_cloud_labels_rule():
    # cloud conf (bits 14-15), cirrus conf (bits 12-13) -> label
    cases = {(1, 1): 0, (1, 3): -1, (2, 1): 1, (3, 3): 1, (0, 0): -1, (1, 2): -1}
    qa = np.array([(cl << 14) | (ci << 12) for cl, ci in cases], np.uint16)
    assert cloud_labels(qa).tolist() == list(cases.values())


def test_qa_field_errors():
    with pytest.raises(ValueError, match="name must be one of 'fill'"):
        qa_field(np.zeros(3, np.uint16), "clouds")
    with pytest.raises(ValueError, match="qa must hold integers"):
        qa_field(np.zeros(3), "cloud")


# ---------------------------------------------------------------- clouds
def test_cloud_scene_contents():
    scene = load_landsat_clouds()
    assert scene.bands.shape == (512, 512, 6) and scene.bands.dtype == np.uint16
    assert scene.qa.shape == scene.labels.shape == (512, 512) and scene.labels.dtype == np.int64
    assert list(CLOUD_BANDS) == ["blue", "green", "red", "nir", "swir1", "thermal"]
    assert np.array_equal(scene.labels, cloud_labels(scene.qa))
    # the pre-collection layout: no fill, and only values with confidence bits set
    assert qa_field(scene.qa, "fill").max() == 0 and qa_field(scene.qa, "cloud").min() >= 1
    fractions = [(scene.labels == v).mean() for v in (1, 0, -1)]
    assert 0.1 < fractions[0] < 0.3 and 0.4 < fractions[1] < 0.7
    # physics check of the labels: clouds are bright in blue and cold (low thermal DN)
    blue, thermal = scene.bands[..., 0], scene.bands[..., 5]
    cloud, clear = scene.labels == 1, scene.labels == 0
    assert np.median(blue[cloud]) > np.median(blue[clear]) + 1000
    assert np.median(thermal[cloud]) < np.median(thermal[clear]) - 1000
    assert scene.transform.tolist() == [454185.0, 30.0, 0.0, 3407295.0, 0.0, -30.0]


def test_cloud_splits_are_the_halves():
    whole = load_landsat_clouds()
    for split, rows in (("train", slice(0, 256)), ("test", slice(256, 512))):
        part = load_landsat_clouds(split)
        assert np.array_equal(part.bands, whole.bands[rows])
        assert np.array_equal(part.labels, whole.labels[rows])
        assert part.transform[3] == whole.transform[3] - 30 * rows.start
    with pytest.raises(ValueError, match="split must be one of 'all', 'train', 'test'"):
        load_landsat_clouds("validation")


# ---------------------------------------------------------------- land cover
def test_landcover_scene_contents():
    scene = load_landsat_landcover()
    assert scene.bands.shape == (640, 256, 3) and scene.bands.dtype == np.uint16
    assert scene.bands.min() > 0  # no no-data border in the crop
    assert LANDCOVER_CLASSES == ("water", "crop", "tree", "developed")
    assert np.bincount(scene.labels[scene.labels >= 0]).tolist() == [212, 192, 198, 81]
    assert len(scene.polygons) == 4
    from skimage.draw import polygon

    for k, vertices in enumerate(scene.polygons):
        assert np.allclose(vertices[0], vertices[-1])  # closed rings
        rr, cc = polygon(vertices[:, 0], vertices[:, 1], scene.labels.shape)
        assert np.all(scene.labels[rr, cc] == k) and len(rr) == (scene.labels == k).sum()
    # the polygons sit on what they name: developed land is the brightest class in every
    # band, the forest the darkest in green, the water darker than crop land in red
    means = np.array([[scene.bands[..., b][scene.labels == k].mean() for b in range(3)]
                      for k in range(4)])
    assert np.all(means.argmax(axis=0) == 3) and means[:, 1].argmin() == 2
    assert means[0, 2] < means[1, 2] - 500


def test_landcover_checksum_verified(monkeypatch, tmp_path):
    (tmp_path / "landsat_landcover.npz").write_bytes(b"not an npz")
    monkeypatch.setattr("cnncourse.data._bundled.FILES_DIR", tmp_path)
    with pytest.raises(ChecksumError, match="build_landsat.py"):
        load_landsat_landcover()


# ---------------------------------------------------------------- the build script
def _load_script():
    sys.path.insert(0, str(ROOT / "scripts"))
    path = ROOT / "scripts" / "build_landsat.py"
    spec = importlib.util.spec_from_file_location("build_landsat", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _gpkg_blob(rings, order="<", envelope=1, multi=False):
    """A GeoPackage geometry blob: GP header, srs 32621, envelope, WKB (multi)polygon."""
    flags = (envelope << 1) | (1 if order == "<" else 0)
    n_env = {0: 0, 1: 4}[envelope]
    header = b"GP" + bytes([0, flags]) + struct.pack(order + "i", 32621)
    header += struct.pack(order + "d" * n_env, *range(n_env))
    bo = b"\x01" if order == "<" else b"\x00"

    def polygon():
        body = bo + struct.pack(order + "II", 3, len(rings))
        for ring in rings:
            body += struct.pack(order + "I", len(ring)) + struct.pack(
                order + "d" * 2 * len(ring), *np.ravel(ring))
        return body

    wkb = bo + struct.pack(order + "II", 6, 2) + polygon() + polygon() if multi else polygon()
    return header + wkb


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("envelope", [0, 1])
def test_gpkg_polygon_parser(order, envelope):
    script = _load_script()
    ring = [(0.0, 0.0), (3.0, 0.0), (3.0, 2.0), (0.0, 0.0)]
    (parsed,) = script.parse_gpkg_polygon(_gpkg_blob([ring], order, envelope))
    assert parsed.tolist() == [list(p) for p in ring]
    multi = script.parse_gpkg_polygon(_gpkg_blob([ring], order, envelope, multi=True))
    assert len(multi) == 2


def test_gpkg_reader_on_a_real_sqlite_file(tmp_path):
    script = _load_script()
    path = tmp_path / "p.gpkg"
    con = sqlite3.connect(path)
    con.execute("create table gpkg_geometry_columns (table_name, srs_id)")
    con.execute("insert into gpkg_geometry_columns values ('land_cover', 32621)")
    con.execute("create table land_cover (fid, geometry, name)")
    ring = [(1.0, 1.0), (2.0, 1.0), (2.0, 2.0), (1.0, 1.0)]
    con.execute("insert into land_cover values (1, ?, 'water')", (_gpkg_blob([ring]),))
    con.commit()
    con.close()
    ((name, (parsed,)),) = script.read_polygons(path.read_bytes())
    assert name == "water" and parsed.shape == (4, 2)


def test_crop_corner_is_half_a_pixel_from_the_point_tie():
    script = _load_script()
    x0, y0 = script.crop_corner((717360.0, -2777010.0), (slice(576, 1216), slice(640, 896)))
    assert (x0, y0) == (717345.0 + 30 * 640, -2776995.0 - 30 * 576)
    assert load_landsat_landcover().transform[[0, 3]].tolist() == [x0, y0]
