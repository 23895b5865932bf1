"""Tests for cnncourse.model_outputs: layer outputs and probabilities for the three kinds of
model (course NumPy, torch, plain callable)."""
import numpy as np
import pytest
import torch

from cnncourse.data import load_mnist
from cnncourse.model_outputs import class_probabilities, layer_outputs, prediction_text
from cnncourse.models import lenet
from cnncourse.widgets.strokes import strokes_to_image
from _digit_models import ONE, ZERO, nearest_mean_weights, three_kinds


@pytest.fixture(scope="module")
def templates():
    return nearest_mean_weights()


def test_template_model_reads_drawn_digits_the_same_in_every_kind(templates):
    x, y = load_mnist("test")
    kinds = three_kinds(templates)
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
