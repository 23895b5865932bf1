"""Tests for cnncourse.torch_ops.functions: the helper that turns a forward and its hand-written
backward into an autograd Function, and each Function against finite differences."""
import pytest
import torch

from _oracle import DEVICES
from cnncourse.torch_ops import functions
from cnncourse.torch_ops.functions import autograd_function


def test_helper_names_the_node_and_passes_one_gradient_per_argument():
    calls = []

    def scale(x, factor, *, shift=0.0):
        return x * factor + shift

    def scale_backward(grad_out, x, factor, *, shift=0.0):
        calls.append((factor, shift))
        return grad_out * factor

    Scale = autograd_function("ScaleFunction", scale, scale_backward)
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    out = Scale.apply(x, 3.0, 0.5)             # the keyword-only shift, given positionally
    assert out.tolist() == [3.5, 6.5]
    assert type(out.grad_fn).__name__ == "ScaleFunctionBackward"
    out.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0] and calls == [(3.0, 0.5)]
    Scale.apply(x, 2.0).sum().backward()       # trailing arguments take their defaults
    assert calls[-1] == (2.0, 0.0)


def test_helper_gives_no_gradient_to_inputs_that_need_none():
    seen = []
    Mul = autograd_function("MulFunction", lambda a, b: a * b,
                            lambda g, a, b: seen.append(1) or (g * b, g * a))
    a, b = torch.tensor([2.0], requires_grad=True), torch.tensor([5.0])
    Mul.apply(a, b).backward()
    assert a.grad.tolist() == [5.0] and b.grad is None and seen == [1]


def test_every_function_of_the_module_is_made_by_the_helper():
    made = [getattr(functions, n) for n in functions.__all__ if n.endswith("Function")]
    assert len(made) == 12
    for function in made:
        assert issubclass(function, torch.autograd.Function)
        assert function.__module__ == functions.__name__ and "hand-written" in function.__doc__


def _double(*shape, device="cpu"):
    return torch.randn(*shape, dtype=torch.float64, device=device, requires_grad=True)


@pytest.mark.parametrize("name, make_args", [
    ("LinearFunction", lambda d: (_double(3, 4, device=d), _double(2, 4, device=d),
                                  _double(2, device=d))),
    ("LinearFunction", lambda d: (_double(2, 3, 4, device=d), _double(5, 4, device=d), None)),
    ("ReLUFunction", lambda d: (_double(3, 4, device=d),)),
    ("LeakyReLUFunction", lambda d: (_double(3, 4, device=d), 0.3)),
    ("SigmoidFunction", lambda d: (_double(3, 4, device=d),)),
    ("TanhFunction", lambda d: (_double(3, 4, device=d),)),
    ("SoftmaxFunction", lambda d: (_double(3, 4, device=d), 0)),
    ("LogSoftmaxFunction", lambda d: (_double(3, 4, device=d), 1)),
    ("CrossEntropyFunction", lambda d: (_double(4, 3, device=d),
                                        torch.tensor([0, 2, 1, 2], device=d))),
    ("CrossEntropyFunction", lambda d: (_double(4, 3, device=d),
                                        torch.tensor([0, 2, 1, 2], device=d), "none", 0.2)),
    ("CrossEntropyFunction", lambda d: (_double(4, 3, device=d),
                                        torch.tensor([0, 2, 1, 2], device=d), "sum")),
])
@pytest.mark.parametrize("device", DEVICES)
def test_functions_gradcheck(name, make_args, device):
    torch.manual_seed(0)
    args = make_args(device)
    if name == "ReLUFunction":       # keep finite differences away from the kink at 0
        args = (args[0] + torch.sign(args[0].detach()) * 0.1,)
    assert torch.autograd.gradcheck(getattr(functions, name).apply, args)
