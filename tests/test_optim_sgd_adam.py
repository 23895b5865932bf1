"""Tests for cnncourse.optim.sgd and cnncourse.optim.adam: 20 steps against torch.optim in
float64 for every option, parameter groups, and bad arguments."""
import numpy as np
import pytest
import torch

from _optim_oracle import run_side_by_side, twin_parameters
from cnncourse import optim

SGD_OPTIONS = [dict(lr=0.1), dict(lr=0.05, momentum=0.9), dict(lr=0.05, momentum=0.9, dampening=0.3),
               dict(lr=0.05, momentum=0.9, nesterov=True), dict(lr=0.1, weight_decay=0.01),
               dict(lr=0.02, momentum=0.8, nesterov=True, weight_decay=0.05), dict()]
ADAM_OPTIONS = [dict(), dict(lr=0.01), dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
                dict(lr=0.01, weight_decay=0.1), dict(lr=0.01, amsgrad=True),
                dict(lr=0.01, weight_decay=0.05, amsgrad=True)]


@pytest.mark.parametrize("kwargs", SGD_OPTIONS, ids=str)
def test_sgd_matches_torch_step_for_step(kwargs):
    run_side_by_side(lambda p: optim.SGD(p, **kwargs), lambda p: torch.optim.SGD(p, **kwargs))


@pytest.mark.parametrize("kwargs", ADAM_OPTIONS, ids=str)
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_and_adamw_match_torch_step_for_step(name, kwargs):
    run_side_by_side(lambda p: getattr(optim, name)(p, **kwargs),
                     lambda p: getattr(torch.optim, name)(p, **kwargs))


def test_parameter_groups_with_their_own_options_match_torch():
    groups = [dict(lr=0.1, momentum=0.5), dict(weight_decay=0.1)]
    ours, theirs, _ = run_side_by_side(lambda p: optim.SGD(p, lr=0.01, momentum=0.9),
                                       lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
                                       groups=groups)
    assert [g["lr"] for g in ours.param_groups] == [g["lr"] for g in theirs.param_groups]
    assert [g["momentum"] for g in ours.param_groups] == [0.5, 0.9]


def test_defaults_are_torch_s():
    ours_p, theirs_p = twin_parameters()
    for name in ("SGD", "Adam", "AdamW"):
        ours, theirs = getattr(optim, name)(ours_p), getattr(torch.optim, name)(theirs_p)
        for key, value in ours.defaults.items():
            assert value == theirs.defaults[key], (name, key)


@pytest.mark.parametrize("name, kwargs", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                          ("Adam", dict(lr=0.01, amsgrad=True)),
                                          ("AdamW", dict(lr=0.01))])
def test_state_dict_resumes_exactly_and_has_torch_s_layout(name, kwargs):
    # 20 steps in one go, or 10 steps, a checkpoint, a new optimizer and 10 more: the same.
    straight, _, straight_p = run_side_by_side(lambda p: getattr(optim, name)(p, **kwargs),
                                               lambda p: getattr(torch.optim, name)(p, **kwargs))
    first, theirs, params = run_side_by_side(lambda p: getattr(optim, name)(p, **kwargs),
                                             lambda p: getattr(torch.optim, name)(p, **kwargs),
                                             steps=10)
    saved = first.state_dict()
    assert set(saved) == {"state", "param_groups"}
    assert set(saved["state"][0]) == set(theirs.state_dict()["state"][0])
    assert saved["param_groups"][0]["params"] == [0, 1, 2]
    resumed = getattr(optim, name)(params, lr=123.0)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == kwargs["lr"]
    rng = np.random.default_rng(1)
    for _ in range(10):                         # replay the generator of run_side_by_side
        [rng.normal(size=p.shape) for p in params]
    for _ in range(10):
        resumed.zero_grad()
        for p in params:
            p.grad += rng.normal(size=p.shape)
        resumed.step()
    for p, q in zip(params, straight_p):
        np.testing.assert_allclose(p.data, q.data, rtol=0, atol=1e-12)


def test_load_state_dict_of_another_model_raises():
    ours_p, _ = twin_parameters()
    opt = optim.SGD(ours_p, lr=0.1, momentum=0.9)
    opt.step()
    other_p, _ = twin_parameters(shapes=[(3, 4), (5,), (2, 1, 3, 3)])
    other = optim.SGD(other_p, lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"state 'momentum_buffer' of parameter 1 has shape \(4,\)"):
        other.load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="saved for another model"):
        optim.SGD(ours_p[:2]).load_state_dict(opt.state_dict())


def test_zero_grad_clears_every_gradient():
    ours_p, _ = twin_parameters()
    for p in ours_p:
        p.grad += 1
    optim.Adam(ours_p).zero_grad()
    assert not any(p.grad.any() for p in ours_p)


@pytest.mark.parametrize("make, error, match", [
    (lambda p: optim.SGD([]), ValueError, "empty parameter list"),
    (lambda p: optim.SGD(p, lr=-1), ValueError, r"lr must be in >= 0.0; got lr=-1"),
    (lambda p: optim.SGD(p, nesterov=True), ValueError, "Nesterov momentum needs momentum > 0"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), ValueError, r"betas\[1\] must be in \[0.0, 1.0\)"),
    (lambda p: optim.Adam(p, betas=0.9), TypeError, "betas must be a pair"),
    (lambda p: optim.SGD([torch.zeros(2, requires_grad=True)]), TypeError, "use torch.optim"),
    (lambda p: optim.SGD(p + p[:1]), ValueError, "appears twice"),
])
def test_bad_arguments(make, error, match):
    ours_p, _ = twin_parameters()
    with pytest.raises(error, match=match):
        make(ours_p)


def test_passing_the_model_instead_of_its_parameters_says_how():
    from cnncourse import nn
    with pytest.raises(TypeError, match=r"SGD\(model.parameters\(\), \.\.\.\)"):
        optim.SGD(nn.Linear(2, 2), lr=0.1)


def test_float32_parameters_stay_float32():
    from cnncourse import nn
    layer = nn.Linear(3, 2)
    opt = optim.Adam(layer.parameters(), lr=0.1, weight_decay=0.1)
    layer.weight.grad += 1
    opt.step()
    assert layer.weight.dtype == np.float32 and opt.state[layer.weight]["exp_avg"].dtype == np.float32
