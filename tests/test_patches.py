"""Tests of cnncourse.patches: patches against a direct loop over the image, matching against a
brute-force optimum on small cases and against hand-made examples."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncourse.patches import (background_centres, cut_patches, detection_scores, match_centres,
                               patch_grid)


def _loop_patch(image, r, c, size):
    """One patch by looping over its pixels: zero outside the image."""
    h = size // 2
    out = np.zeros((size, size) + image.shape[2:], dtype=image.dtype)
    for i in range(size):
        for j in range(size):
            y, x = r - h + i, c - h + j
            if 0 <= y < image.shape[0] and 0 <= x < image.shape[1]:
                out[i, j] = image[y, x]
    return out


@settings(max_examples=40, deadline=None)
@given(H=st.integers(1, 9), W=st.integers(1, 9), half=st.integers(0, 4), channels=st.sampled_from([0, 1, 3]),
       seed=st.integers(0, 2**16))
def test_cut_patches_matches_a_loop(H, W, half, channels, seed):
    rng = np.random.default_rng(seed)
    shape = (H, W) if channels == 0 else (H, W, channels)
    image = rng.integers(1, 100, size=shape)
    centres = np.stack([rng.integers(0, H, 5), rng.integers(0, W, 5)], axis=1)
    size = 2 * half + 1
    got = cut_patches(image, centres, size)
    assert got.shape == (5, size, size) + shape[2:] and got.dtype == image.dtype
    for k, (r, c) in enumerate(centres):
        np.testing.assert_array_equal(got[k], _loop_patch(image, r, c, size))


def test_cut_patches_rows_are_rows_and_reflect_mode():
    image = np.arange(20).reshape(4, 5)
    assert cut_patches(image, [[3, 0]], 1)[0, 0, 0] == image[3, 0] == 15
    np.testing.assert_array_equal(cut_patches(image, [[0, 0]], 3, pad_mode="reflect")[0],
                                  np.pad(image, 1, mode="reflect")[:3, :3])


@pytest.mark.parametrize("kwargs, words", [
    (dict(patch_size=4), "odd"), (dict(patch_size=0), "odd"),
    (dict(centres=[[4, 0]]), "inside"), (dict(centres=[[0, -1]]), "inside"),
    (dict(centres=[[0.5, 1.0]]), "integer"), (dict(image=np.zeros(3)), "(H, W)"),
])
def test_cut_patches_errors_name_the_problem(kwargs, words):
    args = dict(image=np.zeros((4, 5)), centres=[[1, 1]], patch_size=3) | kwargs
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        cut_patches(**args)


def test_patch_grid():
    grid = patch_grid((5, 7), 2, offset=1)
    assert grid.tolist() == [[r, c] for r in (1, 3) for c in (1, 3, 5)]
    with pytest.raises(ValueError, match="stride"):
        patch_grid((5, 5), 0)


def test_background_centres_keep_their_distance():
    mask = np.zeros((30, 40), dtype=int)
    mask[10:15, 20:26] = 3
    found = background_centres(mask, 50, 5.0, np.random.default_rng(1))
    assert found.shape == (50, 2) and len({tuple(p) for p in found}) == 50
    object_pixels = np.argwhere(mask > 0)
    nearest = np.min(np.hypot(*(found[:, None, :] - object_pixels[None]).transpose(2, 0, 1)), axis=1)
    assert nearest.min() >= 5.0
    with pytest.raises(ValueError, match="only"):
        background_centres(mask, 10_000, 5.0, np.random.default_rng(1))


def _brute_force_greedy(detections, truth, max_distance):
    """The same greedy rule, written with explicit sets and sorting."""
    free, out = set(range(len(truth))), []
    for d in detections:
        options = sorted((float(np.hypot(*(np.asarray(truth[t]) - d))), t) for t in free)
        options = [o for o in options if o[0] <= max_distance]
        if options:
            out.append(options[0][1])
            free.remove(options[0][1])
        else:
            out.append(-1)
    return out


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), D=st.integers(0, 8), T=st.integers(0, 8))
def test_match_centres_is_the_greedy_rule_and_one_to_one(seed, D, T):
    rng = np.random.default_rng(seed)
    detections, truth = rng.integers(0, 10, (D, 2)), rng.integers(0, 10, (T, 2))
    matched = match_centres(detections, truth, 3.0)
    assert matched.tolist() == _brute_force_greedy(detections, truth, 3.0)
    used = matched[matched >= 0]
    assert len(used) == len(set(used.tolist()))
    scores = detection_scores(detections, truth, 3.0)
    assert scores["tp"] + scores["fp"] == D and scores["tp"] + scores["fn"] == T


def test_match_centres_distance_is_inclusive_and_greedy_can_lose():
    assert match_centres([[0, 0]], [[3, 4]], 5.0).tolist() == [0]
    assert match_centres([[0, 0]], [[3, 4]], 4.999).tolist() == [-1]
    # greedy in detection order: the first detection takes the truth the second needed
    truth, dets = [[0, 0], [0, 3]], [[0, 2], [0, -1]]
    assert match_centres(dets, truth, 2.0).tolist() == [1, 0]


def test_detection_scores_edge_cases():
    assert detection_scores(np.zeros((0, 2)), [[1, 1]], 2.0) == dict(
        tp=0, fp=0, fn=1, precision=0.0, recall=0.0, count_error=-1)
    assert detection_scores([[1, 1]], np.zeros((0, 2)), 2.0)["fp"] == 1
