"""Test helper: run one of our optimizers and the same torch.optim optimizer side by side on the
same parameters and the same (random) gradients, in float64."""
from __future__ import annotations

import numpy as np
import torch

from cnncourse.nn import Parameter

SHAPES = [(3, 4), (4,), (2, 1, 3, 3)]


def twin_parameters(seed=0, shapes=SHAPES):
    """The same starting values as our Parameters and as torch leaf tensors."""
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=s) for s in shapes]
    ours = [Parameter(v.copy()) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    return ours, theirs


def run_side_by_side(make_ours, make_theirs, steps=20, seed=0, groups=None, schedule=None):
    """Step both optimizers ``steps`` times on the same gradients; assert the parameters agree
    to 1e-10 after every step. ``groups`` splits the parameters into two groups with options;
    ``schedule`` is ``(ours_factory, theirs_factory)`` of learning-rate schedulers."""
    ours_p, theirs_p = twin_parameters(seed)
    if groups is not None:
        ours_arg = [{"params": ours_p[:1], **groups[0]}, {"params": ours_p[1:], **groups[1]}]
        theirs_arg = [{"params": theirs_p[:1], **groups[0]}, {"params": theirs_p[1:], **groups[1]}]
    else:
        ours_arg, theirs_arg = ours_p, theirs_p
    ours, theirs = make_ours(ours_arg), make_theirs(theirs_arg)
    scheds = (schedule[0](ours), schedule[1](theirs)) if schedule else None
    rng = np.random.default_rng(seed + 1)
    for step in range(steps):
        ours.zero_grad()
        theirs.zero_grad()
        for p, q in zip(ours_p, theirs_p):
            g = rng.normal(size=p.shape)
            p.grad += g
            q.grad = torch.from_numpy(g.copy())
        ours.step()
        theirs.step()
        if scheds:
            scheds[0].step()
            scheds[1].step()
            np.testing.assert_allclose(scheds[0].get_last_lr(), scheds[1].get_last_lr(),
                                       rtol=1e-12, atol=0)
        for i, (p, q) in enumerate(zip(ours_p, theirs_p)):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=0, atol=1e-10,
                                       err_msg=f"parameter {i} after step {step + 1}")
    return ours, theirs, ours_p
