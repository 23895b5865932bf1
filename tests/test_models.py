"""Tests for the reference models: the architectures they document, in both backends, with the same
state_dict keys and shapes, so that weights move between them and give the same outputs."""
import numpy as np
import pytest
import torch

from cnncourse import models

BUILDERS = {
    "lenet": models.lenet,
    "lenet batch norm, wide": lambda backend: models.lenet(backend, channels=(16, 32), hidden=(128,),
                                                           batch_norm=True),
    "small_cnn": models.small_cnn,
    "mlp": models.mlp,
}


def n_params(model):
    return sum(int(np.prod(v.shape)) for k, v in model.state_dict().items()
               if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))


def test_lenet_is_the_documented_architecture():
    net = models.lenet("torch")
    assert [name for name, _ in net.named_children()] == [
        "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1", "relu3", "fc2",
        "relu4", "fc3"]
    assert (net.conv1.in_channels, net.conv1.out_channels, net.conv1.kernel_size) == (1, 6, (5, 5))
    assert (net.fc1.in_features, net.fc2.in_features, net.fc3.out_features) == (256, 120, 10)
    expected = (6 * 25 + 6) + (16 * 6 * 25 + 16) + (256 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
    assert n_params(net) == expected
    assert net(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    assert models.lenet("torch", in_channels=3, num_classes=4, input_size=32)(
        torch.zeros(2, 3, 32, 32)).shape == (2, 4)


def test_small_cnn_uses_batch_norm_and_global_average_pooling_for_any_size():
    net = models.small_cnn("torch")
    kinds = [type(m).__name__ for m in net.children()]
    assert kinds.count("BatchNorm2d") == 3 and kinds.count("MaxPool2d") == 2
    assert kinds[-3:] == ["AdaptiveAvgPool2d", "Flatten", "Linear"]
    assert all(m.bias is None for m in net.children() if isinstance(m, torch.nn.Conv2d))
    expected = (1 * 16 * 9 + 32) + (16 * 32 * 9 + 64) + (32 * 64 * 9 + 128) + (64 * 10 + 10)
    assert n_params(net) == expected
    for shape in [(2, 1, 28, 28), (2, 1, 13, 17)]:
        assert net(torch.zeros(shape)).shape == (2, 10)
    wide = models.small_cnn("torch", in_channels=3, num_classes=5, channels=(8, 16, 32, 64))
    assert wide(torch.zeros(2, 3, 32, 32)).shape == (2, 5) and wide.fc.in_features == 64


def test_mlp_layers_follow_the_hidden_widths():
    net = models.mlp("torch", in_features=64, hidden=(32, 16, 8), num_classes=3)
    assert [(m.in_features, m.out_features) for m in net.children()
            if isinstance(m, torch.nn.Linear)] == [(64, 32), (32, 16), (16, 8), (8, 3)]
    assert net(torch.zeros(5, 1, 8, 8)).shape == (5, 3)
    assert n_params(models.mlp("torch")) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10


@pytest.mark.parametrize("name", BUILDERS)
def test_numpy_and_torch_versions_are_the_same_network(name):
    """Same keys and shapes; with the same weights, the same outputs and input gradients (float64)."""
    build = BUILDERS[name]
    torch.manual_seed(0)
    torch_net = build("torch").double()
    numpy_net = build("numpy").double()
    assert [(k, tuple(v.shape)) for k, v in numpy_net.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in torch_net.state_dict().items()]
    numpy_net.load_state_dict(torch_net.state_dict())
    x = torch.randn(4, 1, 28, 28, dtype=torch.float64, requires_grad=True)
    for mode in ("train", "eval"):  # batch statistics, then running statistics
        getattr(torch_net, mode)(), getattr(numpy_net, mode)()
        out = torch_net(x)
        np.testing.assert_allclose(numpy_net(x.detach().numpy()), out.detach().numpy(), rtol=1e-10, atol=1e-12)
        grad_out = torch.randn_like(out)
        (grad_x,) = torch.autograd.grad(out, x, grad_out)
        np.testing.assert_allclose(numpy_net.backward(grad_out.numpy()), grad_x.numpy(), rtol=1e-9, atol=1e-12)
    for k, v in torch_net.state_dict().items():  # the running statistics moved the same way
        np.testing.assert_allclose(numpy_net.state_dict()[k], v.numpy(), rtol=1e-10, atol=1e-12)


def test_lenet_with_batch_norm_and_other_widths():
    net = models.lenet("torch", channels=(16, 32), hidden=(128,), batch_norm=True)
    names = [name for name, _ in net.named_children()]
    assert names == ["conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2", "pool2", "flatten",
                     "fc1", "relu3", "fc2"]
    assert net.conv1.bias is None and net.fc1.in_features == 32 * 16 and net.fc2.out_features == 10


@pytest.mark.parametrize("call, match", [
    (lambda: models.lenet("jax"), "backend must be 'numpy' or 'torch'"),
    (lambda: models.lenet("torch", input_size=12), "input_size must be at least 16"),
    (lambda: models.small_cnn("torch", channels=()), "at least one block"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
