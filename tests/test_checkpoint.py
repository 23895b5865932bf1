"""Tests for checkpoints: an interrupted fit resumes to exactly the uninterrupted result, a crash
while writing never leaves a truncated file, and a checkpoint of another architecture is refused
with the mismatched parameter's name."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from _training import blobs, interrupt_layer, params, tiny_net
from torch import nn

from cnncourse.models import lenet, mlp
from cnncourse.training import Augment, CheckpointError, fit, load_checkpoint, save_checkpoint
from cnncourse.training.checkpoint import atomic_save

TESTS = Path(__file__).resolve().parent


InterruptAt = interrupt_layer(nn.Module)


class SGDInterruptedInStep(torch.optim.SGD):
    """SGD whose ``at``-th step is interrupted after updating only the first parameter."""

    def __init__(self, params, at=None, **kwargs):
        super().__init__(params, **kwargs)
        self.at, self.calls = at, 0

    def step(self, closure=None):
        self.calls += 1
        if self.calls == self.at:
            with torch.no_grad():
                first = self.param_groups[0]["params"][0]
                first -= self.param_groups[0]["lr"] * first.grad
            raise KeyboardInterrupt
        return super().step(closure)


def run(net, optimizer, checkpoint=None, resume=False, epochs=3):
    """Adam-or-SGD + one-cycle + dropout + shifts: every piece of state a resume must restore."""
    train, val = blobs(n=60), blobs(n=30, seed=1)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=epochs * 4)
    return fit(net, train, val, epochs, optimizer, batch_size=16, scheduler=schedule,
               augment=Augment(shift=1), checkpoint=checkpoint, resume=resume, quiet=True)


def interruptible(at=None, seed=0):
    net = tiny_net(seed, dropout=0.3)
    return nn.Sequential(InterruptAt(at), net)


def same_steps(a, b):
    keys = ("step", "epoch", "loss", "acc", "lr")
    return [[s[k] for k in keys] for s in a.steps] == [[s[k] for k in keys] for s in b.steps]


@pytest.mark.parametrize("at", [7, 9])  # in the middle of epoch 2; the first batch of epoch 3
def test_a_run_interrupted_by_ctrl_c_resumes_to_the_same_result(tmp_path, at):
    reference = interruptible()
    expected = run(reference, torch.optim.Adam(reference.parameters()))
    path = tmp_path / "run.ckpt"
    net = interruptible(at)
    with pytest.raises(KeyboardInterrupt):
        run(net, torch.optim.Adam(net.parameters()), checkpoint=path)
    assert path.exists()
    fresh = interruptible(seed=1)  # other initial weights: everything must come from the file
    resumed = run(fresh, torch.optim.Adam(fresh.parameters()), checkpoint=path, resume=True)
    assert same_steps(resumed, expected) and resumed.step_values("step")[-1] == 12
    assert [e["val_loss"] for e in resumed.epochs] == [e["val_loss"] for e in expected.epochs]
    for k, v in params(reference).items():
        assert torch.equal(fresh.state_dict()[k], v), k
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind


def test_an_interrupt_inside_the_update_keeps_the_last_whole_checkpoint(tmp_path):
    reference = interruptible()
    expected = run(reference, SGDInterruptedInStep(reference.parameters(), lr=0.1, momentum=0.9))
    path = tmp_path / "run.ckpt"
    net = interruptible()
    with pytest.raises(KeyboardInterrupt):  # step 6 is torn: only the end of epoch 1 is saved
        run(net, SGDInterruptedInStep(net.parameters(), at=6, lr=0.1, momentum=0.9), checkpoint=path)
    saved = torch.load(path, weights_only=True)["extra"]["run"]
    assert (saved["epoch"], saved["batch"], saved["step"]) == (1, 0, 4)
    fresh = interruptible(seed=1)
    resumed = run(fresh, SGDInterruptedInStep(fresh.parameters(), lr=0.1, momentum=0.9),
                  checkpoint=path, resume=True)
    assert same_steps(resumed, expected)
    assert all(torch.equal(fresh.state_dict()[k], v) for k, v in params(reference).items())


def test_a_finished_run_resumes_to_itself_and_can_be_extended(tmp_path):
    path = tmp_path / "run.ckpt"
    net = tiny_net()
    first = fit(net, blobs(), None, 2, torch.optim.SGD(net.parameters(), lr=0.1), checkpoint=path,
                quiet=True)
    again = fit(net, blobs(), None, 2, torch.optim.SGD(net.parameters(), lr=0.1), checkpoint=path,
                resume=True, quiet=True)
    assert same_steps(first, again)
    longer = fit(net, blobs(), None, 3, torch.optim.SGD(net.parameters(), lr=0.1), checkpoint=path,
                 resume=True, quiet=True)
    assert len(longer) == 3 and same_steps(first, History_head(longer, 2))


def History_head(history, epochs):
    from cnncourse.training import History

    head = History()
    head.epochs = history.epochs[:epochs]
    head.steps = [s for s in history.steps if s["epoch"] <= epochs]
    return head


SIGINT_SCRIPT = textwrap.dedent("""
    import os, sys, torch
    from _training import blobs, tiny_net
    from cnncourse.training import fit
    import time
    after = []
    def slowly(x, rng):  # leaves the data alone; 3 batches after the first checkpoint (epoch 1's),
        time.sleep(0.004)  # waits for the parent's SIGINT, however busy the machine
        if os.path.exists(sys.argv[1]):
            after.append(1)
            if len(after) > 3:
                time.sleep(120)
        return x
    net = tiny_net()
    fit(net, blobs(), None, int(sys.argv[2]), torch.optim.SGD(net.parameters(), lr=0.05),
        batch_size=8, augment=slowly, checkpoint=sys.argv[1], quiet=True)
""")


def test_a_real_sigint_to_a_training_process_loses_nothing(tmp_path):
    path, epochs = tmp_path / "run.ckpt", 40
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-c", SIGINT_SCRIPT, str(path), str(epochs)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not path.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode != 0 and "KeyboardInterrupt" in err, err
    saved = torch.load(path, weights_only=True)["extra"]["run"]
    assert saved["step"] == 12 + 3  # saved when interrupted, mid-epoch
    net = tiny_net(seed=1)
    resumed = fit(net, blobs(), None, epochs, torch.optim.SGD(net.parameters(), lr=0.05), batch_size=8,
                  checkpoint=path, resume=True, quiet=True)
    reference = tiny_net()
    expected = fit(reference, blobs(), None, epochs, torch.optim.SGD(reference.parameters(), lr=0.05),
                   batch_size=8, quiet=True)
    assert same_steps(resumed, expected)
    assert all(torch.equal(net.state_dict()[k], v) for k, v in params(reference).items())


def test_a_failed_write_leaves_the_old_checkpoint_whole(tmp_path, monkeypatch):
    path = tmp_path / "model.ckpt"
    net = tiny_net()
    save_checkpoint(path, net, epoch=1)
    before = path.read_bytes()

    def half_then_fail(obj, f):
        f.write(b"\x80\x02 half a pickle")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", half_then_fail)
    with torch.no_grad():
        net.fc1.weight += 1
    with pytest.raises(OSError, match="No space"):
        save_checkpoint(path, net, epoch=2)
    monkeypatch.undo()
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]
    assert load_checkpoint(path, tiny_net()) == {"epoch": 1}


CRASH_SCRIPT = textwrap.dedent("""
    import os, sys, torch
    from _training import tiny_net
    from cnncourse.training import save_checkpoint
    net = tiny_net()
    real_save = torch.save
    def crash_halfway(obj, f):          # the process dies in the middle of writing the new file
        real_save(obj, f)
        f.flush()
        f.truncate(f.tell() // 2)
        os._exit(3)
    torch.save = crash_halfway
    save_checkpoint(sys.argv[1], net, epoch=2)
""")


def test_a_process_killed_while_writing_leaves_the_old_checkpoint_whole(tmp_path):
    path = tmp_path / "model.ckpt"
    save_checkpoint(path, tiny_net(seed=5), epoch=1)
    before = path.read_bytes()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(path)], env=env, timeout=60,
                            capture_output=True, text=True)
    assert result.returncode == 3, result.stderr
    assert path.read_bytes() == before
    assert load_checkpoint(path, tiny_net()) == {"epoch": 1}
    leftovers = [p for p in tmp_path.iterdir() if p != path]
    assert len(leftovers) == 1 and leftovers[0].name.endswith(".tmp")  # the torn temp file, apart
    save_checkpoint(path, tiny_net(), epoch=3)  # a later save is not disturbed by it
    assert load_checkpoint(path, tiny_net()) == {"epoch": 3}


def test_save_and_load_round_trip_model_optimizer_and_scheduler(tmp_path):
    net = tiny_net()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, 1, 0.5)
    fit(net, blobs(), None, 2, opt, scheduler=sched, scheduler_interval="epoch", quiet=True)
    save_checkpoint(tmp_path / "a" / "b.ckpt", net, opt, sched, note="hi", numbers=[1, 2.5])
    net2 = tiny_net(seed=3)
    opt2 = torch.optim.Adam(net2.parameters(), lr=0.01)
    sched2 = torch.optim.lr_scheduler.StepLR(opt2, 1, 0.5)
    extra = load_checkpoint(tmp_path / "a" / "b.ckpt", net2, opt2, sched2)
    assert extra == {"note": "hi", "numbers": [1, 2.5]}
    assert all(torch.equal(net2.state_dict()[k], v) for k, v in params(net).items())
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.0025
    state, state2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    assert all(torch.equal(state[i]["exp_avg"], state2[i]["exp_avg"]) for i in state)


# --- bad input ------------------------------------------------------------------------------

def test_a_checkpoint_of_another_architecture_names_the_parameter(tmp_path):
    path = tmp_path / "lenet.ckpt"
    save_checkpoint(path, lenet("torch"))
    other = lenet("torch", num_classes=5)
    before = params(other)
    with pytest.raises(CheckpointError, match=r"checkpoint '.*lenet.ckpt' does not fit this model: "
                                              r"'fc3.weight' has shape \(10, 84\) in it but \(5, 84\) "
                                              r"in the model \(and 1 more: 'fc3.bias'.*\)\. It was saved "
                                              r"from a different architecture"):
        load_checkpoint(path, other)
    assert all(torch.equal(other.state_dict()[k], v) for k, v in before.items())  # untouched
    with pytest.raises(CheckpointError, match=r"'fc1.weight' has shape \(120, 256\) in it but "
                                              r"\(256, 784\) in the model \(and 8 more: .*; \.\.\.\)"):
        load_checkpoint(path, mlp("torch"))
    with pytest.raises(CheckpointError, match="different architecture"):
        net = mlp("torch")
        fit(net, (torch.zeros(4, 1, 28, 28), torch.zeros(4, dtype=torch.long)), None, 1,
            torch.optim.SGD(net.parameters(), lr=0.1), checkpoint=path, resume=True, quiet=True)


def test_a_checkpoint_of_another_optimizer_or_not_a_checkpoint_is_refused(tmp_path):
    net = tiny_net()
    save_checkpoint(tmp_path / "sgd.ckpt", net, torch.optim.SGD(net.parameters(), lr=0.1))
    with pytest.raises(CheckpointError, match="saved with a SGD optimizer, not Adam"):
        load_checkpoint(tmp_path / "sgd.ckpt", net, torch.optim.Adam(net.parameters()))
    save_checkpoint(tmp_path / "bare.ckpt", net)
    with pytest.raises(CheckpointError, match="holds no optimizer state"):
        load_checkpoint(tmp_path / "bare.ckpt", net, torch.optim.SGD(net.parameters(), lr=0.1))
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "junk.ckpt", net)
    atomic_save({"weights": torch.zeros(2)}, tmp_path / "plain.pt")
    with pytest.raises(CheckpointError, match="not a cnncourse checkpoint"):
        load_checkpoint(tmp_path / "plain.pt", net)
    with pytest.raises(ValueError, match="resume it with that batch size"):
        path = tmp_path / "mid.ckpt"
        interrupted = nn.Sequential(InterruptAt(3), tiny_net())
        with pytest.raises(KeyboardInterrupt):
            fit(interrupted, blobs(), None, 1, torch.optim.SGD(interrupted.parameters(), lr=0.1),
                batch_size=16, checkpoint=path, quiet=True)
        fit(interrupted, blobs(), None, 1, torch.optim.SGD(interrupted.parameters(), lr=0.1),
            batch_size=32, checkpoint=path, resume=True, quiet=True)
