"""Tests for cnncourse.training.fit on torch models: the loop does what a hand-written loop does,
its History, progress output, determinism, schedules, early stopping, data kinds and bad input."""
import math

import numpy as np
import pytest
import torch
from _training import blobs, params, tiny_net
from torch import nn

from cnncourse.training import History, TrainingDiverged, evaluate, fit, predict
from cnncourse.training.history import EPOCH_KEYS, STEP_KEYS


def sgd(net, lr=0.1):
    return torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)


def test_fit_learns_and_fills_the_history():
    train, val = blobs(seed=0), blobs(seed=1, n=60)
    net = tiny_net()
    history = fit(net, train, val, epochs=4, optimizer=sgd(net), batch_size=32, quiet=True)
    assert isinstance(history, History) and len(history) == 4
    assert set(history.epochs[0]) == set(EPOCH_KEYS) and set(history.steps[0]) == set(STEP_KEYS)
    assert len(history.steps) == 4 * 3 and history.step_values("step").tolist() == list(range(1, 13))
    assert history["val_acc"][-1] > 0.9 and history["train_loss"][-1] < history["train_loss"][0]
    np.testing.assert_allclose(history["val_error"], 1 - history["val_acc"])
    assert np.all(history["val_error_low"] <= history["val_error"])
    assert np.all(history["val_error"] <= history["val_error_high"])
    assert np.all(np.diff(history["elapsed"]) > 0) and np.all(history["time"] > 0)
    assert np.all(history["cpu_time"] > 0) and np.all(history["lr"] == 0.1)
    final = evaluate(net, val)
    assert final["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-5)
    assert final["accuracy"] == history["val_acc"][-1] and final["n"] == 60


def test_fit_equals_a_hand_written_loop_over_the_documented_batch_order():
    (x, y), seed = blobs(n=70), 3
    net, ref = tiny_net(), tiny_net()
    history = fit(net, (x, y), None, epochs=2, optimizer=sgd(net), batch_size=16, seed=seed, quiet=True)
    opt, loss_fn, losses = sgd(ref), nn.CrossEntropyLoss(), []
    for epoch in range(2):
        order = np.random.default_rng([seed, epoch]).permutation(len(y))
        for start in range(0, len(y), 16):
            index = torch.from_numpy(order[start:start + 16])
            opt.zero_grad()
            loss = loss_fn(ref(x[index]), y[index])
            loss.backward()
            opt.step()
            losses.append(loss.item())
    np.testing.assert_allclose(history.step_values("loss"), losses, rtol=1e-6)
    for k, v in params(ref).items():
        torch.testing.assert_close(net.state_dict()[k], v)
    assert history.steps[-1]["epoch"] == 2 and math.isnan(history["val_loss"][0])


def test_same_seed_same_run_other_seed_other_run():
    train = blobs()
    runs = []
    for seed in (0, 0, 1):
        net = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(16, 3))
        torch.manual_seed(5)
        net[2].reset_parameters()
        fit(net, train, None, epochs=2, optimizer=sgd(net), seed=seed, batch_size=8, quiet=True)
        runs.append(params(net))
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
    assert not all(torch.equal(runs[0][k], runs[2][k]) for k in runs[0])


def test_quiet_prints_nothing_progress_false_prints_epoch_lines_only(capsys):
    train = blobs()
    net = tiny_net()
    fit(net, train, train, epochs=2, optimizer=sgd(net), quiet=True)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    fit(net, train, train, epochs=2, optimizer=sgd(net), progress=False)
    out = capsys.readouterr()
    assert out.err == "" and out.out.count("\n") == 2
    assert out.out.startswith("epoch 1/2  train loss ") and "val loss" in out.out
    fit(net, train, train, epochs=1, optimizer=sgd(net))
    out = capsys.readouterr()
    assert "epoch 1/1" in out.err and "step" in out.err  # the tqdm bar, on stderr


def test_schedulers_step_per_step_or_per_epoch():
    train = blobs(n=64)
    net = tiny_net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    step_lr = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = fit(net, train, None, epochs=3, optimizer=opt, batch_size=32, scheduler=step_lr,
                  scheduler_interval="epoch", quiet=True)
    np.testing.assert_allclose(history.step_values("lr"), [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    net = tiny_net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    one_cycle = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=6)
    expected = []
    probe_opt = torch.optim.SGD(tiny_net().parameters(), lr=0.1)
    probe = torch.optim.lr_scheduler.OneCycleLR(probe_opt, max_lr=0.5, total_steps=6)
    for _ in range(6):
        expected.append(probe_opt.param_groups[0]["lr"])
        probe_opt.step()
        probe.step()
    history = fit(net, train, None, epochs=3, optimizer=opt, batch_size=32, scheduler=one_cycle,
                  quiet=True)
    np.testing.assert_allclose(history.step_values("lr"), expected)


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = blobs(n=96)
    confusing = (x, (y + 1) % 3)  # validation labels the training makes worse and worse
    net = tiny_net()
    history = fit(net, (x, y), confusing, epochs=30, optimizer=sgd(net, 0.05), patience=2,
                  monitor="val_loss", quiet=True)
    best = history.best("val_loss")
    assert len(history) == best["epoch"] + 2 < 30
    assert "early stopping" in history.stop_reason and "restored" in history.stop_reason
    assert evaluate(net, confusing)["loss"] == pytest.approx(best["val_loss"], rel=1e-5)
    net = tiny_net()
    history = fit(net, (x, y), confusing, epochs=30, optimizer=sgd(net, 0.05), patience=2,
                  monitor="val_acc", restore_best=False, quiet=True)
    assert len(history) < 30 and "restored" not in history.stop_reason


def test_numpy_arrays_dataloaders_and_datasets_are_all_accepted():
    x, y = blobs(n=64)
    net = tiny_net()
    history = fit(net, (x.double().numpy(), y.numpy()), (x.numpy(), y.numpy()), epochs=1,
                  optimizer=sgd(net), batch_size=16, quiet=True)
    assert len(history.steps) == 4
    dataset = torch.utils.data.TensorDataset(x, y)
    loader = torch.utils.data.DataLoader(dataset, batch_size=10)
    net = tiny_net()
    history = fit(net, loader, loader, epochs=2, optimizer=sgd(net), quiet=True)
    assert len(history.steps) == 2 * 7 and history.steps[-1]["epoch"] == 2
    assert history.epochs[-1]["val_acc"] == evaluate(net, dataset)["accuracy"]
    net = tiny_net()
    history = fit(net, dataset, dataset, epochs=1, optimizer=sgd(net), batch_size=32, quiet=True)
    assert len(history.steps) == 2


def test_augment_gets_each_training_batch_and_a_seeded_generator():
    train = blobs(n=40)
    seen = []

    def augment(x, rng):
        seen.append((x.shape[0], rng.integers(1 << 30)))
        return x + 0.0

    net = tiny_net()
    fit(net, train, train, epochs=2, optimizer=sgd(net), batch_size=16, augment=augment, quiet=True)
    again = seen[:]
    seen.clear()
    net = tiny_net()
    fit(net, train, None, epochs=2, optimizer=sgd(net), batch_size=16, augment=augment, quiet=True)
    assert [n for n, _ in seen] == [16, 16, 8] * 2 and seen == again
    assert len({draw for _, draw in seen}) == 6  # a new draw for every batch


def test_predict_gives_probabilities_and_logits_in_eval_mode():
    x, _ = blobs(n=20)
    net = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(16, 3))
    probs = predict(net, x, batch_size=7)
    assert probs.shape == (20, 3) and np.allclose(probs.sum(1), 1) and net.training
    np.testing.assert_allclose(predict(net, x), probs)  # dropout is off: the same twice
    logits = predict(net, x.numpy(), probabilities=False)
    net.eval()
    np.testing.assert_allclose(logits, net(x).detach().numpy(), rtol=1e-5, atol=1e-6)


# --- bad input ------------------------------------------------------------------------------

def test_labels_out_of_range_name_the_range_and_the_label():
    x, y = blobs()
    net = tiny_net()
    with pytest.raises(ValueError, match=r"train labels must be class indices in 0..2.*got a label 3"):
        fit(net, (x, y + 1), None, epochs=1, optimizer=sgd(net), quiet=True)
    with pytest.raises(ValueError, match=r"val labels .* got a label -1"):
        fit(net, (x, y), (x, y - 1), epochs=1, optimizer=sgd(net), quiet=True)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y * 4), batch_size=8)
    with pytest.raises(ValueError, match=r"Linear\(\.\.\., 9\)"):
        fit(net, loader, None, epochs=1, optimizer=sgd(net), quiet=True)


@pytest.mark.parametrize("make, match", [
    (lambda x, y: (x[:0], y[:0]), "train is empty"),
    (lambda x, y: torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[:0], y[:0])),
     "train is empty"),
    (lambda x, y: torch.utils.data.TensorDataset(x[:0], y[:0]), "train is empty"),
    (lambda x, y: (x, y[:5]), "one label per example"),
    (lambda x, y: ((255 * x).to(torch.uint8), y), "floating point"),
    (lambda x, y: (x, y.float()), "integer class indices"),
    (lambda x, y: [x, y, y], "must be a pair"),
    (lambda x, y: ([1, 2], [0, 1]), "NumPy arrays or torch tensors"),
])
def test_bad_training_data_gets_a_clear_error(make, match):
    x, y = blobs()
    net = tiny_net()
    with pytest.raises((ValueError, TypeError), match=match):
        fit(net, make(x, y), None, epochs=1, optimizer=sgd(net), quiet=True)


def test_empty_validation_data_is_an_error():
    x, y = blobs()
    net = tiny_net()
    with pytest.raises(ValueError, match="val is empty"):
        fit(net, (x, y), (x[:0], y[:0]), epochs=1, optimizer=sgd(net), quiet=True)


def test_a_nan_loss_stops_with_the_step_and_the_learning_rate():
    x, y = blobs(n=64)
    net = tiny_net()
    with pytest.raises(TrainingDiverged, match=r"loss is (nan|inf) at step \d+ \(epoch \d+, batch "
                                               r"\d+ of 4\) with learning rate 1e\+06") as error:
        fit(net, (x * 100, y), None, epochs=20, optimizer=torch.optim.SGD(net.parameters(), lr=1e6),
            batch_size=16, quiet=True)
    assert "lower the learning rate (try 100000)" in str(error.value)
    history = error.value.history
    assert history.steps and all(math.isfinite(s["loss"]) for s in history.steps)
    x_bad = x.clone()
    x_bad[3, 0, 0, 0] = float("nan")
    with pytest.raises(TrainingDiverged, match=r"at step 1 .*nan or inf inputs"):
        net = tiny_net()
        fit(net, (x_bad, y), None, epochs=1, optimizer=sgd(net), batch_size=64, quiet=True)


def test_wrong_device_mix_is_named():
    x, y = blobs()
    net = tiny_net()
    net.fc2.to("meta")  # a layer left behind on another device
    with pytest.raises(ValueError, match=r"one device.*'fc1.weight' is on cpu.*'fc2.weight' is on meta"):
        fit(net, (x, y), None, epochs=1, optimizer=sgd(net), quiet=True)
    net = tiny_net()
    weighted = nn.CrossEntropyLoss(weight=torch.ones(3, device="meta"))
    with pytest.raises(ValueError, match=r"loss_fn's 'weight' is on meta"):
        fit(net, (x, y), None, epochs=1, optimizer=sgd(net), loss_fn=weighted, quiet=True)


@pytest.mark.parametrize("kwargs, match", [
    (dict(optimizer=None), "needs an optimizer"),
    (dict(optimizer="other model"), "updates none of this model's parameters"),
    (dict(epochs=-1), "epochs must be an int >= 0"),
    (dict(batch_size=0), "batch_size must be an int >= 1"),
    (dict(scheduler_interval="batch"), "scheduler_interval"),
    (dict(monitor="val_accuracy"), "monitor must be"),
    (dict(patience=2, val=None), "needs validation data"),
    (dict(patience=0), "patience must be"),
    (dict(resume=True), "resume=True needs checkpoint"),
])
def test_bad_arguments_name_the_argument(kwargs, match):
    x, y = blobs()
    net = tiny_net()
    args = dict(val=(x, y), epochs=1, optimizer=sgd(net), quiet=True)
    args.update(kwargs)
    if args["optimizer"] == "other model":
        args["optimizer"] = sgd(tiny_net())
    with pytest.raises((ValueError, TypeError), match=match):
        fit(net, (x, y), **args)


# --- on a GPU (skipped without one) -----------------------------------------------------------

@pytest.mark.gpu
def test_fit_runs_on_the_models_cuda_device_with_cpu_data_and_resumes_there(tmp_path):
    from cnncourse.training import Augment

    x, y = blobs(n=64)
    net = tiny_net().cuda()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    history = fit(net, (x, y), (x.numpy(), y.numpy()), epochs=2, optimizer=opt, batch_size=16,
                  augment=Augment(shift=1), checkpoint=tmp_path / "gpu.ckpt", quiet=True)
    assert len(history.steps) == 8 and history["val_acc"][-1] > 0.5
    assert all(p.device.type == "cuda" for p in net.parameters())
    more = fit(net, (x, y), (x, y), epochs=3, optimizer=opt, batch_size=16, augment=Augment(shift=1),
               checkpoint=tmp_path / "gpu.ckpt", resume=True, quiet=True)
    assert len(more) == 3 and opt.state[next(net.parameters())]["exp_avg"].device.type == "cuda"
    probs = predict(net, x)
    assert probs.shape == (64, 3) and isinstance(probs, np.ndarray)


@pytest.mark.gpu
def test_a_loss_weight_left_on_the_cpu_is_named():
    x, y = blobs()
    net = tiny_net().cuda()
    with pytest.raises(ValueError, match=r"loss_fn's 'weight' is on cpu"):
        fit(net, (x, y), None, epochs=1, optimizer=sgd(net), quiet=True,
            loss_fn=nn.CrossEntropyLoss(weight=torch.ones(3)))
