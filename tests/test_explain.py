"""Saliency and Grad-CAM against a direct autograd computation in float64, and their errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnncourse.explain import grad_cam, grad_cam_from_maps, grad_cam_weights, saliency


def _model():
    torch.manual_seed(0)
    features = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(),
                                   torch.nn.Conv2d(4, 5, 3), torch.nn.ReLU())
    head = torch.nn.Sequential(torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(5 * 3 * 3, 3))
    return torch.nn.Sequential(features, head).double().eval(), features, head


@pytest.fixture(scope="module")
def setup():
    model, features, head = _model()
    x = torch.randn(4, 2, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    return model, features, head, x


def test_saliency_matches_direct_autograd_per_image(setup):
    model, _, _, x = setup
    target = [0, 2, 1, 2]
    got = saliency(model, x, target=target, reduce="none")
    for n, c in enumerate(target):
        xi = x[n:n + 1].clone().requires_grad_(True)
        model(xi)[0, c].backward()
        np.testing.assert_allclose(got[n], xi.grad[0].numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(saliency(model, x, target=target), np.abs(got).max(axis=1))
    np.testing.assert_allclose(saliency(model, x, target=target, reduce="abs"), np.abs(got))


def test_saliency_matches_finite_differences(setup):
    model, _, _, x = setup
    g = saliency(model, x[0], target=1, reduce="none")
    eps = 1e-6
    for k, i, j in [(0, 0, 0), (1, 3, 4), (0, 7, 2)]:
        xp, xm = x[:1].clone(), x[:1].clone()
        xp[0, k, i, j] += eps
        xm[0, k, i, j] -= eps
        with torch.no_grad():
            fd = (model(xp)[0, 1] - model(xm)[0, 1]).item() / (2 * eps)
        assert g[k, i, j] == pytest.approx(fd, rel=1e-5, abs=1e-8)


def test_saliency_default_target_is_predicted_class_and_params_untouched(setup):
    model, x = _model()[0], setup[3]
    pred = model(x).argmax(1).tolist()
    np.testing.assert_allclose(saliency(model, x), saliency(model, x, target=pred))
    grad_cam(model, x, "0")
    assert all(p.grad is None for p in model.parameters())


def test_grad_cam_matches_direct_autograd(setup):
    model, features, head, x = setup
    target = [1, 0, 2, 2]
    got = grad_cam(model, x, features, target=target, upsample=False)
    for n, c in enumerate(target):
        a = features(x[n:n + 1]).detach().requires_grad_(True)
        head(a)[0, c].backward()
        alpha = a.grad[0].mean(dim=(1, 2))
        cam = torch.relu((alpha[:, None, None] * a[0]).sum(0))
        np.testing.assert_allclose(got[n], cam.detach().numpy(), rtol=1e-12, atol=1e-14)
    up = grad_cam(model, x, "0", target=target)
    assert up.shape == (4, 8, 8) and (up >= 0).all()
    ref = F.interpolate(torch.from_numpy(got)[:, None], size=(8, 8), mode="bilinear", align_corners=False)
    np.testing.assert_allclose(up, ref[:, 0].numpy())


def test_grad_cam_pieces_numpy_and_torch_agree():
    rng = np.random.default_rng(0)
    maps, grads = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 3, 4, 5))
    np.testing.assert_allclose(grad_cam_weights(grads), grads.reshape(2, 3, -1).mean(-1))
    cam = grad_cam_from_maps(maps, grads)
    assert (cam >= 0).all() and (cam > 0).any()
    np.testing.assert_allclose(cam, grad_cam_from_maps(torch.from_numpy(maps), torch.from_numpy(grads)).numpy())
    # ReLU at the end differs from ReLU on each channel first
    pre = (grad_cam_weights(grads)[:, :, None, None] * np.maximum(maps, 0)).sum(1)
    assert not np.allclose(cam, np.maximum(pre, 0))


def test_single_image_and_float32_numpy_input(setup):
    model, features, _, x = setup
    m32 = _model()[0].float()
    img = x[0].numpy().astype(np.float32)
    assert saliency(m32, img).shape == (8, 8)
    assert grad_cam(m32, img, m32[0]).shape == (8, 8)


def test_errors_name_the_problem(setup):
    model, _, _, x = setup
    with pytest.raises(ValueError, match=r"class index 3 is out of range: the model has 3 classes"):
        saliency(model, x, target=3)
    with pytest.raises(ValueError, match=r"target has 2 class indices for a batch of 4"):
        grad_cam(model, x, "0", target=[0, 1])
    with pytest.raises(ValueError, match=r"'conv9' is not a submodule.*'0.0', '0.2'"):
        grad_cam(model, x, "conv9")
    with pytest.raises(ValueError, match=r"not a submodule of this model"):
        grad_cam(model, x, torch.nn.Conv2d(2, 4, 3))
    with pytest.raises(ValueError, match=r"feature maps \(N, K, h, w\), got \(4, 45\)"):
        grad_cam(model, x, "1.1")
    with pytest.raises(ValueError, match=r"one image \(C, H, W\) or a batch"):
        saliency(model, x[0, 0])
    with pytest.raises(ValueError, match=r"reduce must be one of"):
        saliency(model, x, reduce="mean")


@pytest.mark.gpu
def test_runs_on_cuda(setup):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    model = _model()[0].cuda()
    x = setup[3]
    np.testing.assert_allclose(saliency(model, x, target=0), saliency(setup[0], x, target=0), rtol=1e-9)
    np.testing.assert_allclose(grad_cam(model, x, "0", target=0), grad_cam(setup[0], x, "0", target=0),
                               rtol=1e-9, atol=1e-12)
