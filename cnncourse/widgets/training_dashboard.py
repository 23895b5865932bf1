"""The training dashboard of lesson 5: pick the learning rate, the optimizer, the batch size,
augmentation and the number of epochs, train a small NumPy CNN on a few hundred digits, and see
its learning curves and its final validation error rate.

Three parts, each usable alone:

- :func:`train_small` — the compute function: builds the model, trains it with
  :func:`cnncourse.training.fit` and returns the :class:`~cnncourse.training.History`;
- :func:`plot_dashboard` — draws a history (loss and accuracy curves) with the error rate
  and its 95% interval in the title;
- :func:`training_dashboard` — the ``ipywidgets`` wiring (one click on *train* = one run).

The model is a narrow LeNet (``lenet(channels=(4, 8), hidden=(32,))``, about 5,000 weights) and
the data 512 training / 512 validation digits of the bundled MNIST split, so one run of a few
epochs takes a second or two on a laptop CPU.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["OPTIMIZERS", "dashboard_data", "make_optimizer", "train_small", "plot_dashboard",
           "training_dashboard"]

#: The optimizers the dashboard offers, by the name shown in its dropdown.
OPTIMIZERS = ("sgd", "momentum", "adam")


@lru_cache(maxsize=4)
def dashboard_data(n_train: int = 512, n_val: int = 512):
    """``(x_train, y_train, x_val, y_val)``: the first ``n_train`` bundled training digits and the
    first ``n_val`` test digits, float32 ``(N, 1, 28, 28)`` in ``[0, 1]`` and int64 labels.

    Cached: the arrays are shared between calls, so do not write into them.
    """
    from ..data import load_mnist

    for name, n, most in (("n_train", n_train, 8000), ("n_val", n_val, 2000)):
        if not (isinstance(n, int) and 1 <= n <= most):
            raise ValueError(f"{name} must be an int from 1 to {most} (the bundled split); got {n!r}")
    images, labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")

    def scale(a):
        return (a[:, None] / np.float32(255)).astype(np.float32)

    return scale(images[:n_train]), labels[:n_train], scale(test_images[:n_val]), test_labels[:n_val]


def make_optimizer(name: str, parameters, lr: float):
    """``"sgd"`` (plain), ``"momentum"`` (SGD with momentum 0.9) or ``"adam"``, from
    :mod:`cnncourse.optim`, on ``parameters`` with learning rate ``lr``."""
    from .. import optim

    if name == "sgd":
        return optim.SGD(parameters, lr=lr)
    if name == "momentum":
        return optim.SGD(parameters, lr=lr, momentum=0.9)
    if name == "adam":
        return optim.Adam(parameters, lr=lr)
    raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")


def train_small(lr: float = 3e-3, optimizer: str = "adam", batch_size: int = 32,
                augment: bool = False, epochs: int = 3, n_train: int = 512, n_val: int = 512,
                seed: int = 0):
    """Train the dashboard's small NumPy CNN and return its history.

    Args:
        lr: learning rate (> 0). Default: 3e-3.
        optimizer: one of :data:`OPTIMIZERS`. Default: ``"adam"``.
        batch_size: examples per step. Default: 32.
        augment: random shifts of up to 2 pixels during training. Default: False.
        epochs: passes over the training digits (1 to 20). Default: 3.
        n_train, n_val: how many digits to train on and to validate on. Default: 512 each.
        seed: seeds the weights, the shuffling and the augmentation. Default: 0.

    Returns:
        The :class:`~cnncourse.training.History` of the run. A run whose loss became nan or
        infinite stops there: its history ends at the last finished epoch and its
        ``stop_reason`` says where it diverged.

    Example:
        >>> h = train_small(epochs=1, n_train=64, n_val=64)
        >>> len(h), len(h.steps)
        (1, 2)
    """
    from .. import nn
    from ..models import lenet
    from ..training import Augment, TrainingDiverged, fit

    if not (isinstance(epochs, int) and 1 <= epochs <= 20):
        raise ValueError(f"epochs must be an int from 1 to 20 (the dashboard trains briefly); "
                         f"got {epochs!r}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0; got lr={lr!r}")
    x, y, x_val, y_val = dashboard_data(n_train, n_val)
    nn.manual_seed(seed)
    model = lenet("numpy", channels=(4, 8), hidden=(32,))
    opt = make_optimizer(optimizer, model.parameters(), lr)
    try:  # a diverging run overflows: fit stops it and says where, no warnings needed
        with np.errstate(over="ignore", invalid="ignore"):
                return fit(model, (x, y), (x_val, y_val), epochs=epochs, optimizer=opt,
                       batch_size=batch_size, augment=Augment(shift=2) if augment else None,
                       seed=seed, quiet=True)
    except TrainingDiverged as err:
        return err.history


def plot_dashboard(history, axes=None):
    """The learning curves of a run (:func:`cnncourse.viz.plot_learning_curves`), titled with
    its final validation error rate and 95% interval, or with where it diverged.

    Returns:
        The two axes ``[loss_ax, accuracy_ax]``.
    """
    from ..viz import plot_learning_curves

    if not len(history):
        if axes is None:
            import matplotlib.pyplot as plt

            _, axes = plt.subplots(1, 2, figsize=(9.0, 3.4))
        axes = list(np.ravel(axes))[:2]
        for ax in axes:
            ax.text(0.5, 0.5, f"{history.stop_reason or 'no epoch finished'}:\nthe learning rate "
                    "is too high", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        return axes
    loss_ax, acc_ax = plot_learning_curves(history, axes=axes)
    last = history.epochs[-1]
    acc_ax.set_title(f"validation error {100 * last['val_error']:.1f}% (95% interval "
                     f"{100 * last['val_error_low']:.1f}-{100 * last['val_error_high']:.1f}%)",
                     fontsize="medium")
    if history.stop_reason:
        loss_ax.set_title(f"loss: {history.stop_reason}", fontsize="medium")
    return [loss_ax, acc_ax]


def training_dashboard(lr: float = 3e-3, optimizer: str = "adam", batch_size: int = 32,
                       augment: bool = False, epochs: int = 3):
    """Sliders and menus for :func:`train_small`; each click on *train* runs it and redraws.

    The first run is made when the dashboard is built, so it opens with a picture.

    Returns:
        An ``ipywidgets.VBox``; it also carries ``controls`` (dict of the widgets), ``button``,
        ``image`` (the ``Image`` holding the figure as PNG), ``status`` (an ``HTML`` line with the
        result) and ``state`` (dict with the last ``history``).
    """
    import ipywidgets as widgets

    from ._figure import figure_to_png, figure_widget, new_figure

    style = {"description_width": "90px"}
    controls = {
        "lr": widgets.SelectionSlider(options=[1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0],
                                      value=lr, description="learning rate", style=style,
                                      continuous_update=False),
        "optimizer": widgets.Dropdown(options=list(OPTIMIZERS), value=optimizer,
                                      description="optimizer", style=style),
        "batch_size": widgets.Dropdown(options=[8, 16, 32, 64, 128], value=batch_size,
                                       description="batch size", style=style),
        "augment": widgets.Checkbox(value=augment, description="augmentation (shifts)",
                                    style={"description_width": "initial"}),
        "epochs": widgets.IntSlider(epochs, 1, 8, description="epochs", style=style,
                                    continuous_update=False),
    }
    button = widgets.Button(description="train", button_style="primary")
    status = widgets.HTML()
    image = figure_widget()
    state: dict = {}

    def run(_=None):
        status.value = "training…"
        settings = {name: c.value for name, c in controls.items()}
        history = train_small(**settings)
        state["history"] = history
        fig = new_figure(figsize=(9, 3.4))
        plot_dashboard(history, axes=fig.subplots(1, 2))
        image.value = figure_to_png(fig)
        if len(history):
            last = history.epochs[-1]
            status.value = (f"{settings['optimizer']}, lr {settings['lr']:g}, batch "
                            f"{settings['batch_size']}: validation error "
                            f"{100 * last['val_error']:.1f}% after {len(history)} "
                            f"epoch{'s' if len(history) > 1 else ''} "
                            f"({last['elapsed']:.1f} s of training)")
        else:
            status.value = f"{history.stop_reason}: lower the learning rate"

    button.on_click(run)
    run()
    box = widgets.VBox([
        widgets.HBox([controls["lr"], controls["optimizer"], controls["batch_size"]]),
        widgets.HBox([controls["epochs"], controls["augment"], button]),
        status,
        image,
    ])
    box.controls, box.button, box.image, box.status, box.state = controls, button, image, status, state
    box.run = run
    return box
