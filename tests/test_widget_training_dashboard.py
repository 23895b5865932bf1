"""Tests for lesson 5's training dashboard: the compute function trains (without a browser), the
plot reads the history, the widget redraws when its button is clicked."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

from cnncourse.widgets import training_dashboard
from cnncourse.widgets.training_dashboard import (OPTIMIZERS, dashboard_data, make_optimizer,
                                                  plot_dashboard, train_small)

SMALL = dict(n_train=96, n_val=64)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_dashboard_data_is_scaled_and_cached():
    x, y, xv, yv = dashboard_data(96, 64)
    assert x.shape == (96, 1, 28, 28) and xv.shape == (64, 1, 28, 28)
    assert x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1 and x.max() > 0.9
    assert y.dtype == np.int64 and set(np.unique(y)) <= set(range(10))
    assert dashboard_data(96, 64)[0] is x
    with pytest.raises(ValueError, match="n_train must be an int from 1 to 8000"):
        dashboard_data(0, 64)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_lowers_the_training_loss(name):
    lr = {"sgd": 0.1, "momentum": 0.03, "adam": 3e-3}[name]
    h = train_small(lr=lr, optimizer=name, epochs=3, batch_size=16, **SMALL)
    assert len(h) == 3 and len(h.steps) == 3 * 6
    assert h["train_loss"][-1] < h["train_loss"][0]
    assert np.all((0 <= h["val_error"]) & (h["val_error"] <= 1))


def test_runs_are_seeded_and_augmentation_changes_them():
    a = train_small(epochs=1, **SMALL)
    b = train_small(epochs=1, **SMALL)
    c = train_small(epochs=1, augment=True, **SMALL)
    assert a.step_values("loss").tolist() == b.step_values("loss").tolist()
    assert a.step_values("loss")[1:].tolist() != c.step_values("loss")[1:].tolist()


def test_a_diverging_run_returns_its_history_and_the_plot_says_so():
    h = train_small(lr=1e12, optimizer="sgd", epochs=2, **SMALL)
    assert h.stop_reason.startswith("diverged at step")
    axes = plot_dashboard(h)
    text = " ".join(t.get_text() for ax in axes for t in ax.texts + [ax.title])
    assert "diverged" in text


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="optimizer must be one of sgd, momentum, adam"):
        make_optimizer("rmsprop", [], 0.1)
    with pytest.raises(ValueError, match="epochs must be an int from 1 to 20"):
        train_small(epochs=0, **SMALL)
    with pytest.raises(ValueError, match="lr must be > 0"):
        train_small(lr=0, **SMALL)


def test_plot_titles_the_final_error_rate():
    h = train_small(epochs=2, **SMALL)
    loss_ax, acc_ax = plot_dashboard(h)
    last = h.epochs[-1]
    assert acc_ax.get_title().startswith(f"validation error {100 * last['val_error']:.1f}%")
    assert loss_ax.get_ylabel() == "loss"


def test_widget_opens_with_a_picture_and_retrains_on_click(monkeypatch):
    import sys

    td = sys.modules["cnncourse.widgets.training_dashboard"]

    calls = []
    real = td.train_small
    monkeypatch.setattr(td, "train_small", lambda **kw: calls.append(kw) or real(**kw, **SMALL))
    box = training_dashboard(epochs=1)
    assert bytes(box.image.value).startswith(b"\x89PNG") and "validation error" in box.status.value
    assert "after 1 epoch (" in box.status.value                    # not "1 epochs"
    assert calls == [dict(lr=3e-3, optimizer="adam", batch_size=32, augment=False, epochs=1)]
    box.controls["optimizer"].value = "momentum"
    box.controls["lr"].value = 0.03
    first = box.image.value
    box.button.click()
    assert calls[-1]["optimizer"] == "momentum" and calls[-1]["lr"] == 0.03
    assert box.image.value != first and "momentum, lr 0.03" in box.status.value
