"""Tests for cnncourse.optim.lr_scheduler: the learning rates (and OneCycle's momenta) of
torch's schedules, step for step, and the parameters they lead to."""
import numpy as np
import pytest
import torch

from _optim_oracle import run_side_by_side, twin_parameters
from cnncourse import optim

SCHEDULES = {
    "StepLR": (dict(step_size=3, gamma=0.5),),
    "CosineAnnealingLR": (dict(T_max=10), dict(T_max=7, eta_min=0.01)),
    "OneCycleLR": (dict(max_lr=0.5, total_steps=30), dict(max_lr=0.5, epochs=3, steps_per_epoch=10,
                                                          anneal_strategy="linear"),
                   dict(max_lr=0.5, total_steps=30, three_phase=True, pct_start=0.25),
                   dict(max_lr=[0.5], total_steps=30, cycle_momentum=False)),
}
CASES = [(name, kw) for name, kws in SCHEDULES.items() for kw in kws]


def _twins(name, kwargs, opt="SGD", **opt_kwargs):
    ours_p, theirs_p = twin_parameters()
    ours_opt = getattr(optim, opt)(ours_p, **opt_kwargs)
    theirs_opt = getattr(torch.optim, opt)(theirs_p, **opt_kwargs)
    return (getattr(optim.lr_scheduler, name)(ours_opt, **kwargs), ours_opt,
            getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs), theirs_opt)


@pytest.mark.parametrize("name, kwargs", CASES, ids=str)
@pytest.mark.parametrize("opt, opt_kwargs", [("SGD", dict(lr=0.1, momentum=0.9)),
                                             ("Adam", dict(lr=0.01))])
def test_learning_rates_and_momenta_follow_torch(name, kwargs, opt, opt_kwargs):
    ours, ours_opt, theirs, theirs_opt = _twins(name, kwargs, opt, **opt_kwargs)
    for step in range(30):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12, abs=1e-15)
        for g, h in zip(ours_opt.param_groups, theirs_opt.param_groups):
            assert g["lr"] == pytest.approx(h["lr"], rel=1e-12, abs=1e-15)
            key = "momentum" if opt == "SGD" else "betas"
            assert np.allclose(g[key], h[key], rtol=1e-12, atol=0), (step, key)
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()


@pytest.mark.parametrize("name, kwargs", CASES[:3], ids=str)
def test_training_with_a_schedule_matches_torch(name, kwargs):
    run_side_by_side(lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
                     schedule=(lambda o: getattr(optim.lr_scheduler, name)(o, **kwargs),
                               lambda o: getattr(torch.optim.lr_scheduler, name)(o, **kwargs)))


def test_one_cycle_says_when_it_has_run_out():
    ours, ours_opt, *_ = _twins("OneCycleLR", dict(max_lr=0.5, total_steps=5), lr=0.1, momentum=0.9)
    for _ in range(5):
        ours.step()
    with pytest.raises(ValueError, match="Tried to step 6 times. The specified number of total "
                                         "steps is 5"):
        ours.step()


def test_state_dict_resumes_the_schedule():
    ours, opt, *_ = _twins("CosineAnnealingLR", dict(T_max=10), lr=0.1)
    for _ in range(4):
        ours.step()
    saved_sched, saved_opt = ours.state_dict(), opt.state_dict()
    assert "optimizer" not in saved_sched
    fresh_p, _ = twin_parameters()
    fresh_opt = optim.SGD(fresh_p, lr=0.1)
    fresh = optim.CosineAnnealingLR(fresh_opt, T_max=10)
    fresh_opt.load_state_dict(saved_opt)
    fresh.load_state_dict(saved_sched)
    ours.step()
    fresh.step()
    assert fresh.get_last_lr() == ours.get_last_lr()


@pytest.mark.parametrize("make, match", [
    (lambda o: optim.StepLR(o, step_size=0), "step_size must be a positive int"),
    (lambda o: optim.CosineAnnealingLR(o, T_max=0), "T_max must be a positive int"),
    (lambda o: optim.OneCycleLR(o, max_lr=1.0), "needs total_steps, or epochs and steps_per_epoch"),
    (lambda o: optim.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=2), "pct_start"),
    (lambda o: optim.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=10), "one per group"),
])
def test_bad_arguments(make, match):
    ours_p, _ = twin_parameters()
    with pytest.raises(ValueError, match=match):
        make(optim.SGD(ours_p, lr=0.1, momentum=0.9))
    with pytest.raises(TypeError, match="schedules an optimizer"):
        optim.StepLR(ours_p, step_size=2)
