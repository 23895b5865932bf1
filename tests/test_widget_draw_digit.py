"""Tests for lesson 4's "draw a digit" explorer: strokes to a 28x28 digit, shifts, layer outputs
and probabilities for the three kinds of model, and the widget driven without a browser."""
from collections import OrderedDict

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import center_of_mass

from cnncourse import nn
from cnncourse.data import load_mnist
from cnncourse.models import lenet
from cnncourse.widgets import draw_digit
from cnncourse.widgets.draw_digit import (class_probabilities, layer_outputs, plot_digit_view,
                                          prediction_text, shift_image, strokes_to_image)

ONE = [[(140, 40), (140, 240)]]                                    # a vertical stroke
_t = np.linspace(0, 2 * np.pi, 60)
ZERO = [list(zip(140 + 70 * np.cos(_t), 140 + 100 * np.sin(_t)))]  # an upright ellipse


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- strokes_to_image ------------------------------------------------------------------------

@pytest.mark.parametrize("strokes", [ONE, ZERO], ids=["one", "zero"])
def test_drawing_is_prepared_like_mnist(strokes):
    img = strokes_to_image(strokes)
    assert img.shape == (28, 28) and img.dtype == np.float64
    assert img.min() >= 0 and img.max() == 1.0
    cy, cx = center_of_mass(img)
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5          # centred by its mass
    rows, cols = np.nonzero(img > 0)
    height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
    assert height == 20 and width < height                          # the 20x20 box, tall
    assert rows.min() >= 4 and rows.max() <= 23                     # 4-pixel margin, as MNIST
    x, _ = load_mnist("test")                                       # ink like MNIST's digits
    assert 0.2 * (x / 255).sum((1, 2)).min() < img.sum() < 2 * (x / 255).sum((1, 2)).mean()


def test_one_is_a_thin_vertical_bar_and_zero_is_a_ring():
    one, zero = strokes_to_image(ONE), strokes_to_image(ZERO)
    cols = np.nonzero(one.max(axis=0) > 0.5)[0]
    assert len(cols) <= 3 and set(cols) <= {12, 13, 14, 15}
    assert zero[13:15, 12:16].max() == 0                            # the hole of the 0
    assert zero[13:15].max() > 0.8 and zero[:, 13:15].max() > 0.8    # its sides


@pytest.mark.parametrize("scale, dx, dy", [(1, -60.3, 20.7), (0.5, 10, 30), (0.25, 20, 10)])
def test_drawing_position_and_size_on_the_canvas_do_not_matter(scale, dx, dy):
    moved = [[(dx + 140 + (x - 140) * scale, dy + 140 + (y - 140) * scale) for x, y in ZERO[0]]]
    img = strokes_to_image(moved, line_width=20 * scale)       # the same pen, relative to size
    assert np.abs(img - strokes_to_image(ZERO)).mean() < 0.1   # at most a pixel's rounding apart
    assert np.abs(np.subtract(center_of_mass(img), 13.5)).max() <= 0.5


def test_blank_dot_and_points_outside_the_canvas():
    assert not strokes_to_image([]).any() and not strokes_to_image([[]]).any()
    dot = strokes_to_image([[(100, 100)]])
    assert dot.max() == 1 and abs(center_of_mass(dot)[0] - 13.5) <= 0.5
    clipped = strokes_to_image([[(140, -500), (140, 240)]])            # clipped to y = 0
    assert np.abs(clipped - strokes_to_image([[(140, 0), (140, 240)]])).max() == 0


def test_strokes_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"strokes must be a list of strokes.*got 5"):
        strokes_to_image(5)
    with pytest.raises(ValueError, match=r"strokes\[1\] holds a point that is not finite"):
        strokes_to_image([[(1, 1)], [(np.nan, 2)]])
    with pytest.raises(ValueError, match="canvas_size must be a positive number; got canvas_size=0"):
        strokes_to_image(ONE, canvas_size=0)
    with pytest.raises(ValueError, match="line_width must be a positive number; got line_width=-1"):
        strokes_to_image(ONE, line_width=-1)


# --- shift_image -----------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(st.integers(-7, 7), st.integers(-7, 7), st.integers(0, 2**16))
def test_shift_matches_a_loop(dx, dy, seed):
    img = np.random.default_rng(seed).integers(1, 9, size=(2, 5, 6)).astype(np.float32)
    expected = np.zeros_like(img)
    for i in range(5):
        for j in range(6):
            if 0 <= i - dy < 5 and 0 <= j - dx < 6:
                expected[:, i, j] = img[:, i - dy, j - dx]
    out = shift_image(img, dx=dx, dy=dy)
    assert out.dtype == img.dtype and np.array_equal(out, expected)


def test_shift_errors():
    with pytest.raises(ValueError, match=r"dx must be a whole number of pixels \(an int\); got dx=1.5"):
        shift_image(np.zeros((4, 4)), dx=1.5)
    with pytest.raises(ValueError, match=r"img must hold images \(..., H, W\).*got shape \(4,\)"):
        shift_image(np.zeros(4), dy=1)


# --- models of three kinds -------------------------------------------------------------------

@pytest.fixture(scope="module")
def templates():
    """A nearest-class-mean classifier, weights chosen by hand (no training): logits
    ``z_k = m_k . x - |m_k|^2 / 2`` with ``m_k`` the mean bundled training digit of class k."""
    x, y = load_mnist("train")
    x = x.reshape(len(x), -1) / 255.0
    means = np.stack([x[y == k].mean(axis=0) for k in range(10)])
    return means, -0.5 * (means ** 2).sum(axis=1)


def _three_kinds(templates):
    weight, bias = templates
    ours = nn.Sequential(OrderedDict(flatten=nn.Flatten(), fc=nn.Linear(784, 10)))
    ours.fc.weight.data[...], ours.fc.bias.data[...] = weight, bias
    theirs = torch.nn.Sequential(OrderedDict(flatten=torch.nn.Flatten(),
                                             fc=torch.nn.Linear(784, 10)))
    theirs.load_state_dict({"fc.weight": torch.tensor(weight, dtype=torch.float32),
                            "fc.bias": torch.tensor(bias, dtype=torch.float32)})
    return {"numpy": ours, "torch": theirs,
            "callable": lambda x: x.reshape(len(x), -1) @ weight.T + bias}


def test_template_model_reads_drawn_digits_the_same_in_every_kind(templates):
    x, y = load_mnist("test")
    kinds = _three_kinds(templates)
    assert np.mean((x.reshape(2000, -1) / 255.0 @ templates[0].T + templates[1]).argmax(1) == y) > 0.75
    for label, strokes in ((1, ONE), (0, ZERO)):
        image = strokes_to_image(strokes)
        probs = {k: class_probabilities(m, image) for k, m in kinds.items()}
        for k, p in probs.items():
            assert p.shape == (10,) and p.dtype == np.float64 and abs(p.sum() - 1) < 1e-12, k
            assert p.argmax() == label, (k, p.round(3))
        np.testing.assert_allclose(probs["numpy"], probs["callable"], atol=1e-5)
        np.testing.assert_allclose(probs["torch"], probs["callable"], atol=1e-5)


LENET_SHAPES = [("input", (1, 28, 28)), ("conv1", (6, 24, 24)), ("relu1", (6, 24, 24)),
                ("pool1", (6, 12, 12)), ("conv2", (16, 8, 8)), ("relu2", (16, 8, 8)),
                ("pool2", (16, 4, 4)), ("flatten", (256,)), ("fc1", (120,)), ("relu3", (120,)),
                ("fc2", (84,)), ("relu4", (84,)), ("fc3", (10,))]


def test_layer_outputs_of_lenet_agree_between_torch_and_numpy():
    torch.manual_seed(0)
    theirs, ours = lenet("torch"), lenet("numpy")
    ours.load_state_dict(theirs.state_dict())
    theirs.train()
    image = strokes_to_image(ZERO)
    a, b = layer_outputs(theirs, image), layer_outputs(ours, image[None])
    assert [(n, v.shape) for n, v in a] == LENET_SHAPES == [(n, v.shape) for n, v in b]
    for (name, va), (_, vb) in zip(a, b):
        assert va.dtype == np.float64
        np.testing.assert_allclose(va, vb, atol=1e-4, err_msg=name)
    assert theirs.training and theirs.conv1.weight.grad is None   # mode put back, no gradients
    np.testing.assert_allclose(class_probabilities(theirs, image),
                               np.exp(a[-1][1]) / np.exp(a[-1][1]).sum(), atol=1e-6)


def test_model_errors_say_what_is_expected():
    with pytest.raises(TypeError, match=r"needs a Sequential model .*got model of type function"):
        layer_outputs(lambda x: x, np.zeros((28, 28)))
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, .* got int"):
        class_probabilities(3, np.zeros((28, 28)))
    with pytest.raises(ValueError, match=r"\(N, K\) logits with K >= 2 .* got shape \(1, 1\)"):
        class_probabilities(lambda x: np.zeros((1, 1)), np.zeros((28, 28)))
    with pytest.raises(ValueError, match=r"image must be one image .* got shape \(2, 1, 28, 28\)"):
        class_probabilities(lambda x: np.zeros((1, 10)), np.zeros((2, 1, 28, 28)))


def test_prediction_text_is_floored_and_capped():
    assert prediction_text([0.1, 0.899999, 0.000001]) == "predicted 1 (p = 0.89)"
    assert prediction_text(np.r_[0.9951, np.full(9, 0.0049 / 9)]) == "predicted 0 (p > 0.99)"


# --- plot and widget -------------------------------------------------------------------------

def _tiny_cnn():
    torch.manual_seed(0)
    return torch.nn.Sequential(OrderedDict(conv=torch.nn.Conv2d(1, 2, 3), relu=torch.nn.ReLU(),
                                           pool=torch.nn.MaxPool2d(2), flatten=torch.nn.Flatten(),
                                           fc=torch.nn.Linear(2 * 13 * 13, 10)))


def test_plot_shows_maps_of_the_first_sequential_and_bars_of_every_model(templates):
    kinds = _three_kinds(templates)
    fig = plot_digit_view(strokes_to_image(ONE), {"cnn": _tiny_cnn(), "mine": kinds["callable"]},
                          max_channels=2)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[:3] == ["input (1, 28, 28)", "conv (2, 26, 26)", "relu (2, 26, 26)"]
    assert fig.axes[-2].get_title().startswith("cnn: predicted ")
    assert fig.axes[-1].get_title().startswith("mine: predicted 1 (p ")
    assert [len(ax.patches) for ax in fig.axes[-2:]] == [10, 10]
    only_bars = plot_digit_view(np.zeros((28, 28)), kinds["callable"])
    assert [ax.get_title() for ax in only_bars.axes][0] == "28x28 input"
    assert len(only_bars.axes) == 2 and len(only_bars.axes[1].patches) == 10


def test_widget_follows_its_controls_and_the_mouse(templates):
    mine = _three_kinds(templates)["callable"]
    digits = (load_mnist("test")[0][:5]).astype(np.uint8)
    both = draw_digit({"cnn": _tiny_cnn(), "mine": mine}, digits=digits, max_channels=2)
    assert both.text.value.count("predicted") == 2 and "<b>cnn</b>" in both.text.value
    box = draw_digit({"mine": mine}, digits=digits)  # probabilities only: quicker to redraw
    assert bytes(box.picture.value).startswith(b"\x89PNG")
    np.testing.assert_array_equal(box.state["image"], digits[0] / 255.0)
    first_png = bytes(box.picture.value)
    box.controls["digit"].value = 3
    np.testing.assert_array_equal(box.state["image"], digits[3] / 255.0)
    assert bytes(box.picture.value) != first_png
    box.controls["clear"].click()
    assert not box.state["image"].any() and box.state["strokes"] == []
    for event, (x, y) in [("mouse_down", (140, 40)), ("mouse_move", (140, 140)),
                          ("mouse_move", (140, 240)), ("mouse_up", (140, 240))]:
        box.canvas._handle_frontend_event(None, {"event": event, "x": x, "y": y}, None)
    assert box.state["strokes"] == [[(140, 40), (140, 140), (140, 240)]]
    np.testing.assert_array_equal(box.state["image"], strokes_to_image(ONE))
    assert "<b>mine</b>: predicted 1" in box.text.value
    box.draw_strokes(ZERO)
    assert "<b>mine</b>: predicted 0" in box.text.value
    assert box.state["probabilities"]["mine"].argmax() == 0
    box.controls["dx"].value = 2
    np.testing.assert_array_equal(box.state["image"], shift_image(strokes_to_image(ZERO), dx=2))


def test_widget_without_a_model_and_bad_digits():
    box = draw_digit(digits=np.zeros((2, 1, 28, 28)))
    assert "Pass a model" in box.text.value and box.state["probabilities"] == {}
    with pytest.raises(ValueError, match=r"digits must be \(N, 28, 28\) or \(N, 1, 28, 28\) .* "
                                         r"got shape \(3, 27, 28\)"):
        draw_digit(digits=np.zeros((3, 27, 28)))
    with pytest.raises(TypeError, match=r"model\['x'\] must be a model"):
        draw_digit({"x": 3})
