"""Tests for cnncourse.torch_ops.device: choosing a device, and clear errors for inputs that
live on different devices or have different dtypes."""
import pytest
import torch
import torch.nn.functional as F

from cnncourse import torch_ops
from cnncourse.torch_ops import check_compatible, default_device


@pytest.mark.parametrize("cuda, mps, expected", [
    (True, True, "cuda"),
    (True, False, "cuda"),
    (False, True, "mps"),
    (False, False, "cpu"),
])
def test_default_device_prefers_cuda_then_mps(monkeypatch, cuda, mps, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    device = default_device()
    assert isinstance(device, torch.device) and device.type == expected


def test_default_device_on_this_machine():
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert default_device().type == expected


def test_check_compatible_accepts_matching_tensors_and_skips_none():
    check_compatible(x=torch.zeros(2), weight=torch.zeros(3), bias=None)
    check_compatible()


def test_different_devices_name_both():
    with pytest.raises(ValueError) as err:
        check_compatible(x=torch.zeros(2), weight=torch.zeros(2, device="meta"))
    message = str(err.value)
    assert "x is on cpu but weight is on meta" in message and "weight.to(x.device)" in message


def test_different_dtypes_name_both():
    with pytest.raises(TypeError, match="x is torch.float32 but bias is torch.float64"):
        check_compatible(x=torch.zeros(2), bias=torch.zeros(2, dtype=torch.float64))


def test_non_float_tensors_are_refused():
    with pytest.raises(TypeError, match="weight must be a floating-point tensor"):
        check_compatible(x=torch.zeros(2), weight=torch.zeros(2, dtype=torch.int64))


@pytest.mark.parametrize("op, args", [
    (torch_ops.conv2d, (torch.zeros(4, 3, 3, 3),)),
    (torch_ops.max_pool2d, (2,)),
    (torch_ops.avg_pool2d, (2,)),
    (torch_ops.adaptive_avg_pool2d, (3,)),
])
def test_ops_run_on_the_device_of_their_inputs(op, args):
    # The "meta" device has shapes but no data: a stand-in for a second device on any machine.
    meta = [a.to("meta") if isinstance(a, torch.Tensor) else a for a in args]
    out = op(torch.zeros(2, 3, 8, 8, device="meta"), *meta)
    assert out.device.type == "meta"


@pytest.mark.gpu
def test_model_on_cuda_matches_cpu():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch_ops.Conv2d(1, 4, 3), torch_ops.ReLU(), torch_ops.MaxPool2d(2),
        torch_ops.Flatten(), torch_ops.Linear(4 * 3 * 3, 2),
    ).double()
    x = torch.randn(5, 1, 8, 8, dtype=torch.float64)
    expected = model(x)
    device = default_device()
    assert device.type == "cuda"
    out = model.to(device)(x.to(device))
    assert out.device.type == "cuda"
    torch.testing.assert_close(out.cpu(), expected, rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match="x is on cpu but weight is on cuda"):
        model(x)
    torch.testing.assert_close(
        torch_ops.conv2d(x.to(device), model[0].weight, model[0].bias),
        F.conv2d(x.to(device), model[0].weight, model[0].bias), rtol=0, atol=1e-10)
