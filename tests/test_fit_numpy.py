"""fit on NumPy models (cnncourse.nn): the same run as the same torch model step for step, dropout
seeded, early stopping and checkpoints with NumPy arrays, and NumPy-specific bad input."""
import numpy as np
import pytest
import torch
from _training import interrupt_layer

from cnncourse import models, nn, optim
from cnncourse.data import load_mnist
from cnncourse.training import CheckpointError, fit, load_checkpoint, predict, save_checkpoint


@pytest.fixture(scope="module")
def digits():
    x, y = load_mnist("train", as_torch=True)
    return x[:96].double(), y[:96]


def test_a_numpy_lenet_trains_exactly_like_the_torch_lenet(digits):
    x, y = digits
    torch.manual_seed(0)
    torch_net = models.lenet("torch").double()
    numpy_net = models.lenet("numpy").double()
    numpy_net.load_state_dict(torch_net.state_dict())
    kwargs = dict(epochs=2, batch_size=32, seed=4, quiet=True)
    h_torch = fit(torch_net, (x, y), (x, y), optimizer=torch.optim.SGD(
        torch_net.parameters(), lr=0.05, momentum=0.9), **kwargs)
    h_numpy = fit(numpy_net, (x.numpy(), y.numpy()), (x.numpy(), y.numpy()), optimizer=optim.SGD(
        numpy_net.parameters(), lr=0.05, momentum=0.9), **kwargs)
    np.testing.assert_allclose(h_numpy.step_values("loss"), h_torch.step_values("loss"), rtol=1e-10)
    np.testing.assert_allclose(h_numpy["val_loss"], h_torch["val_loss"], rtol=1e-10)
    assert h_numpy.step_values("loss")[-1] < h_numpy.step_values("loss")[0]
    for name, value in torch_net.state_dict().items():
        np.testing.assert_allclose(numpy_net.state_dict()[name], value.numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(predict(numpy_net, x.numpy()), predict(torch_net, x), rtol=1e-8, atol=1e-12)


def dropout_net():
    nn.manual_seed(3)
    return nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(784, 10))


def test_dropout_masks_are_seeded_by_fit(digits):
    x, y = digits[0].float().numpy(), digits[1].numpy()
    finals = []
    for seed in (0, 0, 1):
        net = dropout_net()
        fit(net, (x, y), None, 1, optim.SGD(net.parameters(), lr=0.1), seed=seed, quiet=True)
        finals.append(net.state_dict()["2.weight"])
    assert np.array_equal(finals[0], finals[1]) and not np.array_equal(finals[0], finals[2])


InterruptAt = interrupt_layer(nn.Module)


def test_an_interrupted_numpy_run_resumes_to_the_same_result(digits, tmp_path):
    x, y = digits[0].float().numpy(), digits[1].numpy()

    def run(at=None, resume=False):  # Adam's moments, a one-cycle schedule and dropout to restore
        net = nn.Sequential(InterruptAt(at), dropout_net())
        adam = optim.Adam(net.parameters(), lr=0.01)
        one_cycle = optim.OneCycleLR(adam, max_lr=0.01, total_steps=9)
        fit(net, (x, y), (x, y), 3, adam, batch_size=32, scheduler=one_cycle,
            checkpoint=tmp_path / "np.ckpt", resume=resume, quiet=True)
        return net.state_dict()

    expected = run()
    (tmp_path / "np.ckpt").unlink()
    with pytest.raises(KeyboardInterrupt):
        run(at=5)
    resumed = run(resume=True)
    assert all(np.array_equal(resumed[k], v) for k, v in expected.items())


def test_early_stopping_restores_numpy_weights(digits):
    x, y = digits[0].float().numpy(), digits[1].numpy()
    nn.manual_seed(0)
    net = models.mlp("numpy", hidden=(16,))
    history = fit(net, (x, y), (x, (y + 1) % 10), 20, optim.SGD(net.parameters(), lr=0.1),
                  patience=1, quiet=True)
    assert len(history) < 20 and "restored" in history.stop_reason
    best = history.best("val_loss")
    again = fit(net, (x, y), (x, (y + 1) % 10), 0, optim.SGD(net.parameters(), lr=0.1), quiet=True)
    assert len(again) == 0
    from cnncourse.training import evaluate

    assert evaluate(net, (x, (y + 1) % 10))["loss"] == pytest.approx(best["val_loss"], rel=1e-6)


@pytest.mark.parametrize("build", [models.lenet, models.small_cnn, models.mlp])
def test_checkpoints_move_between_numpy_and_torch(build, tmp_path, digits):
    x = digits[0][:8].float()
    torch.manual_seed(0)
    torch_net = build("torch").eval()
    save_checkpoint(tmp_path / "t.ckpt", torch_net)
    numpy_net = build("numpy").eval()
    load_checkpoint(tmp_path / "t.ckpt", numpy_net)
    np.testing.assert_allclose(numpy_net(x.numpy()), torch_net(x).detach().numpy(), rtol=1e-4, atol=1e-5)
    save_checkpoint(tmp_path / "n.ckpt", numpy_net)
    back = build("torch").eval()
    load_checkpoint(tmp_path / "n.ckpt", back)
    assert all(torch.equal(back.state_dict()[k], v) for k, v in torch_net.state_dict().items())


def test_numpy_bad_input(digits, tmp_path):
    x, y = digits[0].float().numpy(), digits[1].numpy()
    net = models.lenet("numpy")
    opt = optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="NumPy model runs on the CPU only; got device='cuda'"):
        fit(net, (x, y), None, 1, opt, device="cuda", quiet=True)
    with pytest.raises(ValueError, match=r"train labels must be class indices in 0..9.*got a label 10"):
        fit(net, (x, y + 1), None, 1, opt, quiet=True)
    with pytest.raises(ValueError, match="train is empty"):
        fit(net, (x[:0], y[:0]), None, 1, opt, quiet=True)
    save_checkpoint(tmp_path / "mlp.ckpt", models.mlp("numpy"))
    with pytest.raises(CheckpointError, match=r"the model's 'conv1.weight' \(6, 1, 5, 5\) is missing"):
        load_checkpoint(tmp_path / "mlp.ckpt", net)
    with pytest.raises(ValueError, match=r"layer 'fc1' of the model"):  # i14's layer message
        fit(net, (x[:, :, :20, :20], y), None, 1, opt, quiet=True)
