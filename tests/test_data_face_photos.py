"""Photos with hand-marked face boxes, and the LBP face cascade."""
from __future__ import annotations

import numpy as np
import pytest

from cnncourse.data import FACE_PHOTOS, ChecksumError, face_cascade, load_face_photo, sample_image


def _iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    area = lambda box: (box[2] - box[0]) * (box[3] - box[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


@pytest.mark.parametrize("name", sorted(FACE_PHOTOS))
def test_photo_and_boxes(name):
    photo = load_face_photo(name)
    assert photo.image.shape == (512, 512) and photo.image.dtype == np.uint8
    assert np.array_equal(photo.image, sample_image(name, gray=True))
    assert photo.boxes.shape == (1, 4) and photo.boxes.dtype == np.int64
    x0, y0, x1, y1 = photo.boxes[0]
    assert 0 <= x0 < x1 <= 512 and 0 <= y0 < y1 <= 512
    assert 50 <= x1 - x0 <= 150 and 50 <= y1 - y0 <= 150  # a face, not the whole photo
    colour = load_face_photo(name, gray=False).image
    assert colour.shape[:2] == (512, 512)
    photo.image[:] = 0  # the caller owns the arrays
    assert load_face_photo(name).image.max() > 0


def test_cascade_finds_the_astronaut_face_and_misses_the_profile():
    cascade = face_cascade()
    kwargs = dict(scale_factor=1.2, step_ratio=1, min_size=(30, 30), max_size=(300, 300))
    found = {}
    for name in FACE_PHOTOS:
        photo = load_face_photo(name)
        found[name] = [(d["c"], d["r"], d["c"] + d["width"], d["r"] + d["height"])
                       for d in cascade.detect_multi_scale(img=photo.image / 255, **kwargs)]
    (box,) = found["astronaut"]
    assert _iou(box, load_face_photo("astronaut").boxes[0]) > 0.5
    assert found["camera"] == []  # a frontal-face detector does not see a profile


def test_changed_photo_is_caught(monkeypatch):
    import cnncourse.data.face_photos as module

    def shifted(name, gray=False):
        image = sample_image(name, gray)
        return np.roll(image, 5, axis=1)

    monkeypatch.setattr(module, "sample_image", shifted)
    with pytest.raises(ChecksumError, match="not the photo the face boxes were drawn on"):
        load_face_photo("astronaut")


def test_unknown_photo():
    with pytest.raises(ValueError, match="name must be one of 'astronaut', 'camera'"):
        load_face_photo("chelsea")
