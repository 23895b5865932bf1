"""The fit loop under torch.distributed: ``torchrun --nproc_per_node 2`` with gloo on the CPU trains
to the same parameters on both ranks, equal to one process training on the same global batches."""
import os
import re
import subprocess
import sys

import numpy as np
import torch

from cnncourse.models import lenet
from cnncourse.training.__main__ import main

ARGS = ["--model", "lenet", "--limit", "192", "--batch-size", "64", "--epochs", "2", "--lr", "0.05"]


def epoch_numbers(text):
    """(train loss, train acc, val loss, val acc) of each printed epoch line."""
    pattern = r"train loss ([\d.]+) acc ([\d.]+)%  val loss ([\d.]+) acc ([\d.]+)%"
    return np.array([[float(v) for v in m] for m in re.findall(pattern, text)])


def test_two_ranks_end_identical_and_equal_to_one_process(tmp_path, capsys):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "cnncourse.training", *ARGS, "--save", str(tmp_path / "rank{rank}.pt")],
        env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert rank0.keys() == rank1.keys() and len(rank0) == 10
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)  # DDP kept the copies identical

    history = main([*ARGS, "--save", str(tmp_path / "single.pt")])
    single = torch.load(tmp_path / "single.pt", weights_only=True)
    for k in single:  # the same updates; only the order of the gradient sums differs
        torch.testing.assert_close(rank0[k], single[k], rtol=1e-5, atol=1e-6)
    torch.manual_seed(0)
    initial = lenet("torch").state_dict()  # what the command line starts from (seed 0)
    assert len(history.steps) == 2 * 3
    assert all(not torch.equal(single[k], initial[k]) for k in single)  # every parameter trained

    printed = epoch_numbers(result.stdout)  # only rank 0 prints, with the global batch's numbers
    expected = epoch_numbers(capsys.readouterr().out)
    assert printed.shape == expected.shape == (2, 4)
    np.testing.assert_allclose(printed, expected, atol=1.01e-4)
