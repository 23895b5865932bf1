"""Shared pytest setup for tests/: hypothesis settings and the `gpu` marker (matplotlib is set headless in the root conftest.py)."""
import os

import pytest
from hypothesis import HealthCheck, settings

# Property tests compare against PyTorch; the first call of an op can be slow, so no deadline.
settings.register_profile(
    "default", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a hard dependency
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
