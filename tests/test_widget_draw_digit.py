"""Tests for lesson 4's "draw a digit" explorer: the plot and the widget, driven without a
browser (the compute functions have their own tests: test_widget_strokes, test_model_outputs)."""
from collections import OrderedDict

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from cnncourse.data import load_mnist
from cnncourse.widgets import draw_digit
from cnncourse.widgets.draw_digit import plot_digit_view
from cnncourse.widgets.strokes import shift_image, strokes_to_image
from _digit_models import ONE, ZERO, nearest_mean_weights, three_kinds


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def templates():
    return nearest_mean_weights()


def _tiny_cnn():
    torch.manual_seed(0)
    return torch.nn.Sequential(OrderedDict(conv=torch.nn.Conv2d(1, 2, 3), relu=torch.nn.ReLU(),
                                           pool=torch.nn.MaxPool2d(2), flatten=torch.nn.Flatten(),
                                           fc=torch.nn.Linear(2 * 13 * 13, 10)))


def test_plot_shows_maps_of_the_first_sequential_and_bars_of_every_model(templates):
    kinds = three_kinds(templates)
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
    mine = three_kinds(templates)["callable"]
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
