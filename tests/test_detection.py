"""Detection helpers: IoU by hand and by brute-force pixel counting, NMS by its definition, windows."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncourse.detection import (box_iou, detect, image_pyramid, match_detections, nms,
                                 sliding_windows)

box = st.tuples(st.integers(0, 12), st.integers(0, 12), st.integers(1, 8), st.integers(1, 8)).map(
    lambda t: [t[0], t[1], t[0] + t[2], t[1] + t[3]])


def _pixel_iou(a, b):
    ma, mb = np.zeros((24, 24), bool), np.zeros((24, 24), bool)
    ma[a[1]:a[3], a[0]:a[2]] = True
    mb[b[1]:b[3], b[0]:b[2]] = True
    return (ma & mb).sum() / (ma | mb).sum()


@settings(max_examples=60, deadline=None)
@given(st.lists(box, min_size=1, max_size=4), st.lists(box, min_size=1, max_size=4))
def test_iou_equals_pixel_counting(a, b):
    got = box_iou(a, b)
    assert got.shape == (len(a), len(b))
    want = np.array([[_pixel_iou(p, q) for q in b] for p in a])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def _nms_by_definition(boxes, scores, thr):
    keep = []
    for i in sorted(range(len(boxes)), key=lambda i: (-scores[i], i)):
        if all(_pixel_iou(boxes[i], boxes[k]) <= thr for k in keep):
            keep.append(i)
    return keep


@settings(max_examples=60, deadline=None)
@given(st.lists(box, min_size=0, max_size=8), st.floats(0.0, 1.0), st.randoms(use_true_random=False))
def test_nms_matches_definition(boxes, thr, rnd):
    scores = [rnd.choice([0.1, 0.5, 0.9, rnd.random()]) for _ in boxes]
    assert nms(boxes, scores, thr).tolist() == _nms_by_definition(boxes, scores, thr)


def test_nms_against_torchvision_if_installed():
    tv = pytest.importorskip("torchvision")
    import torch
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 50, (40, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 20, (40, 2))], 1)
    scores = rng.uniform(size=40)
    want = tv.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), 0.4).numpy()
    assert nms(boxes, scores, 0.4).tolist() == want.tolist()


def test_sliding_windows_cover_the_image_at_the_right_places():
    img = np.arange(7 * 9, dtype=float).reshape(7, 9)
    patches, boxes = sliding_windows(img, 3, 2)
    assert patches.shape == (3 * 4, 3, 3) and boxes.shape == (12, 4)
    for p, (x0, y0, x1, y1) in zip(patches, boxes):
        np.testing.assert_array_equal(p, img[y0:y1, x0:x1])
    assert boxes[:, 2].max() <= 9 and boxes[:, 3].max() <= 7
    assert sliding_windows(img, 8, 1)[0].shape == (0, 8, 8)


def test_detect_finds_a_bright_square_at_two_scales_and_maps_back():
    img = np.zeros((40, 40))
    img[8:24, 12:28] = 1.0                                   # a 16x16 object at x=12, y=8
    score = lambda p: p.mean(axis=(1, 2))                    # noqa: E731
    boxes, scores = detect(img, score, window=8, stride=2, scales=(0.5,), threshold=0.5)
    assert len(boxes) == 1
    np.testing.assert_allclose(boxes[0], [12, 8, 28, 24])
    pyr = image_pyramid(img, (1.0, 0.5))
    assert [p.shape for _, p in pyr] == [(40, 40), (20, 20)]


def test_match_detections_counts_duplicates_as_false_positives():
    gt = [[0, 0, 10, 10], [20, 20, 30, 30]]
    det = [[0, 0, 10, 10], [1, 1, 10, 10], [40, 40, 50, 50]]
    r = match_detections(det, [0.9, 0.8, 0.7], gt)
    assert (r["tp"], r["fp"], r["fn"]) == (1, 2, 1)
    assert r["precision"] == pytest.approx(1 / 3) and r["recall"] == 0.5
    assert match_detections(np.zeros((0, 4)), [], gt)["recall"] == 0.0


def test_errors_name_swapped_coordinates_and_lengths():
    with pytest.raises(ValueError, match=r"x1 >= x0.*swapped"):
        box_iou([[5, 0, 2, 3]], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="3 boxes but 2 scores"):
        nms([[0, 0, 1, 1]] * 3, [0.1, 0.2], 0.5)
