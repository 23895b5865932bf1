"""The two backends offer the same operations: every op of numpy_ops exists in torch_ops with
the same name, and the other way round."""
import inspect

from cnncourse import numpy_ops, torch_ops

# What one backend has that is not an operation of the course.
NUMPY_ONLY = {"conv2d_naive", "conv2d_backward_naive", "max_pool2d_naive", "avg_pool2d_naive",
              "conv_output_size", "im2col", "col2im",                  # reading aids, shapes
              "numerical_gradient", "rel_error", "check_gradient"}      # gradient checking
TORCH_ONLY_KINDS = ("Function", "autograd_function", "default_device", "check_compatible")


def _ops(package, extra):
    return {name for name in package.__all__ if name not in extra}


def test_numpy_ops_and_torch_ops_export_the_same_operations():
    torch_extra = {n for n in torch_ops.__all__ if n.endswith(TORCH_ONLY_KINDS) or n[0].isupper()}
    numpy_ops_, torch_ops_ = _ops(numpy_ops, NUMPY_ONLY), _ops(torch_ops, torch_extra)
    assert numpy_ops_ == torch_ops_, (
        f"only in numpy_ops: {sorted(numpy_ops_ - torch_ops_)}; "
        f"only in torch_ops: {sorted(torch_ops_ - numpy_ops_)}")
    # every forward has its backward
    assert {n for n in numpy_ops_ if not n.endswith("_backward")} == {
        n[:-len("_backward")] for n in numpy_ops_ if n.endswith("_backward")}


def test_the_same_operation_takes_the_same_arguments():
    for name in _ops(numpy_ops, NUMPY_ONLY):
        ours, theirs = (inspect.signature(getattr(p, name)) for p in (numpy_ops, torch_ops))
        assert list(ours.parameters) == list(theirs.parameters), name
        for p in ours.parameters.values():
            assert p.default == theirs.parameters[p.name].default, (name, p.name)
            assert p.kind == theirs.parameters[p.name].kind, (name, p.name)
