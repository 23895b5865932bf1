# %% [markdown] slideshow={"slide_type": "slide"}
# # Lesson 5 — Training a CNN
#
# A network learns by lowering a **loss**, the number that says how wrong it is on the training
# images, one small step at a time: compute the loss, compute its gradient with respect to every
# weight (backpropagation), move every weight a little against its gradient, repeat. This lesson
# does all of it in NumPy, where every gradient is visible, then in PyTorch, on the CPU and on a
# GPU when there is one, and measures the number that matters in the end: the **error rate** on
# digits the network has never seen.
#
# **You will learn**
# - the loss as a function of one weight, and gradient descent on it;
# - backpropagation through a whole CNN by hand, checked four ways (layer objects, PyTorch's
#   autograd, finite differences);
# - training the NumPy LeNet with a progress bar and learning curves; its test error rate with
#   a confidence interval, its confusion matrix and its most confident mistakes;
# - SGD, momentum and Adam on the same budget; a learning rate too low, right and too high, and
#   what to do when the loss becomes `nan`;
# - overfitting on 500 images, and what augmentation, weight decay, dropout and batch norm do
#   about it, measured;
# - the same network in PyTorch (CPU or GPU), a speed ladder measured live, and the recipe that
#   makes training fast on a CPU;
# - what an error rate of 1% means, and how you compare with the CNN on its hardest digits.
#
# **You need** lessons 2–4: convolution, pooling, fully connected layers, softmax and the
# cross-entropy loss (lesson 4).
#
# **Time**: about 50 minutes. The notebook trains only briefly (small subsets, a few epochs), so
# that it runs in under a minute; section 6 says what longer runs give.
#
# **Exercises**: two *predict-before-you-run* questions along the way, and five functions to
# write at the end (`error_rate`, `confusion_matrix`, `sgd_momentum_step`, `adam_step`,
# `train_step`), each checked automatically.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import time
from collections import OrderedDict

import matplotlib.pyplot as plt
import numpy as np
import torch

from cnncourse import metrics, nn, numpy_ops, optim, torch_ops
from cnncourse.checks import check, check_prediction
from cnncourse.checks.lesson05 import descend
from cnncourse.data import load_mnist
from cnncourse.models import lenet
from cnncourse.torch_ops import default_device
from cnncourse.training import Augment, TrainingDiverged, fit, predict, time_steps
from cnncourse.viz import (plot_confusion_matrix, plot_learning_curves, plot_speed_ladder,
                           show_confident_mistakes)
from cnncourse.widgets import digit_quiz, training_dashboard
from cnncourse.widgets.digit_quiz import hardest_digits
from cnncourse.widgets.training_dashboard import train_small

rng = np.random.default_rng(0)
torch.manual_seed(0)
nn.manual_seed(0)
plt.rcParams["figure.dpi"] = 72


def band(value, edges):
    """The first 'below e' of ``edges`` that holds ``value``: a printout stable across machines."""
    for e in edges:
        if value < e:
            return f"below {e:g}"
    return f"at least {edges[-1]:g}"


images, labels = load_mnist("train")
test_images, test_labels = load_mnist("test")
x_all = (images[:, None] / np.float32(255)).astype(np.float32)         # (8000, 1, 28, 28)
x_test = (test_images[:, None] / np.float32(255)).astype(np.float32)   # (2000, 1, 28, 28)
print("train", x_all.shape, "test", x_test.shape)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The loss as a function of one weight
#
# Take a tiny CNN — a convolution with 2 filters of 3×3, ReLU, 2×2 max pooling, and a dense
# layer from the 72 pooled values to 10 class scores — and 200 training digits shrunk to 14×14.
# Its loss (the mean cross-entropy of lesson 4) depends on all 750 weights. Freeze all of them
# but one, the centre of the first filter, and move that one from -3 to 3: the loss becomes a
# curve. The **gradient** of the loss with respect to this weight is the slope of the curve, and
# `backward` computes it without drawing the curve at all.

# %%
x14, y14 = x_all[:200, :, ::2, ::2].astype(np.float64), labels[:200]   # (200, 1, 14, 14)
W1, b1 = rng.normal(0, 0.5, (2, 1, 3, 3)), rng.normal(0, 0.1, 2)
W2, b2 = rng.normal(0, 0.3, (10, 72)), np.zeros(10)
state = {"conv.weight": W1, "conv.bias": b1, "fc.weight": W2, "fc.bias": b2}
tiny = nn.Sequential(OrderedDict(conv=nn.Conv2d(1, 2, 3), relu=nn.ReLU(), pool=nn.MaxPool2d(2),
                                 flatten=nn.Flatten(), fc=nn.Linear(72, 10))).double()
tiny.load_state_dict(state)
criterion = nn.CrossEntropyLoss()
w = tiny.conv.weight.data                     # (2, 1, 3, 3); we move w[0, 0, 1, 1]
start = w[0, 0, 1, 1]


def loss_at(value):
    w[0, 0, 1, 1] = value
    return criterion(tiny(x14), y14)


def slope_at(value):
    tiny.zero_grad()
    loss_at(value)
    tiny.backward(criterion.backward())
    return tiny.conv.weight.grad[0, 0, 1, 1]


values = np.linspace(-3, 3, 61)
curve = np.array([loss_at(v) for v in values])
slope = slope_at(start)
h = 1e-5
numeric = (loss_at(start + h) - loss_at(start - h)) / (2 * h)
print(f"weight {start:.3f}, loss {loss_at(start):.4f}")
print(f"slope from backward {slope:.5f}, from finite differences {numeric:.5f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Gradient descent** repeats one rule: `w = w - lr * slope`, with a learning rate `lr`. Where
# the curve falls to the right, the slope is negative and the weight moves right; where it rises,
# the weight moves left. Ten steps from the current weight, on this one weight alone:

# %%
path = [start]
for _ in range(10):
    path.append(path[-1] - 0.5 * slope_at(path[-1]))           # lr = 0.5
path_loss = [loss_at(v) for v in path]
loss_at(start)

fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.plot(values, curve, color="C0", label="loss(w)")
ax.plot(path, path_loss, "o-", color="C1", ms=4, label="gradient descent, lr = 0.5")
ax.set(xlabel="conv.weight[0, 0, 1, 1]", ylabel="mean cross-entropy", title="one weight of 750")
ax.legend()
plt.show()
print(f"after 10 steps: weight {path[-1]:.2f}, loss {path_loss[0]:.3f} -> {path_loss[-1]:.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The loss goes down until the slope is flat: one weight alone cannot do much. Training moves
# all the weights at once, each against its own slope: the same rule with `w` a vector of all
# the weights and the gradient from one backward pass.
#
# The learning rate sets the size of the steps. Take the simplest curve, `loss(w) = (w - 3)**2`,
# whose slope is `2 * (w - 3)` and whose minimum is at 3, and start at `w = 0`.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Predict before you run
#
# With learning rate 1.5, every step is `w = w - 1.5 * 2 * (w - 3)`. What is `w` after 3 steps?

# %% nbgrader={"solution": true, "grade_id": "q05_lr_too_high-solution"} slideshow={"slide_type": "skip"}
# your prediction, a number:
### BEGIN SOLUTION
q05_lr_too_high = 27
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "q05_lr_too_high", "points": 1} slideshow={"slide_type": "skip"}
check_prediction("q05_lr_too_high", q05_lr_too_high)

# %% slideshow={"slide_type": "fragment"}
for lr in (0.1, 0.5, 0.9, 1.5):
    ws = [descend(0.0, lr, k) for k in range(6)]
    print(f"lr {lr}: w = " + ", ".join(f"{v:g}" for v in ws))

# %% [markdown] slideshow={"slide_type": "subslide"}
# With `lr = 0.1` the steps shrink as the slope flattens; `lr = 0.5` lands on the minimum in one
# step (only on this curve); `lr = 0.9` overshoots but still converges, zig-zagging; `lr = 1.5`
# overshoots so far that every step lands further away: the distance to 3 doubles at each step
# and the loss explodes. A network's loss has millions of such directions at once, and a
# learning rate too large for the steepest one makes the whole run diverge (section 4).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Backpropagation by hand, checked four ways
#
# The tiny CNN of section 1, on 2 of its digits, in float64. The forward pass keeps every
# intermediate result; the backward pass applies the chain rule from the loss down, one layer at
# a time, each with its `numpy_ops` backward function (lessons 2–4):

# %%
xb, yb = x14[:2], y14[:2]                                     # (2, 1, 14, 14)
w[0, 0, 1, 1] = start                                         # the weights of `state` again


def tiny_cnn_loss(W1, b1, W2, b2, keep=None):
    z1 = numpy_ops.conv2d(xb, W1, b1)                         # (2, 2, 12, 12)
    a1 = numpy_ops.relu(z1)
    p1 = numpy_ops.max_pool2d(a1, 2)                          # (2, 2, 6, 6)
    f = p1.reshape(len(xb), -1)                               # (2, 72)
    logits = numpy_ops.linear(f, W2, b2)                      # (2, 10)
    if keep is not None:
        keep.update(z1=z1, a1=a1, p1=p1, f=f, logits=logits)
    return numpy_ops.cross_entropy(logits, yb)


saved = {}
loss = tiny_cnn_loss(W1, b1, W2, b2, keep=saved)
g_logits = numpy_ops.cross_entropy_backward(saved["logits"], yb)       # (softmax - one_hot) / N
g_f, g_W2, g_b2 = numpy_ops.linear_backward(g_logits, saved["f"], W2, b2)
g_p1 = g_f.reshape(saved["p1"].shape)                                  # undo the flatten
g_a1 = numpy_ops.max_pool2d_backward(g_p1, saved["a1"], 2)             # to each window's arg-max
g_z1 = numpy_ops.relu_backward(g_a1, saved["z1"])                      # 0 where z1 <= 0
g_x, g_W1, g_b1 = numpy_ops.conv2d_backward(g_z1, xb, W1, b1)
by_hand = {"conv.weight": g_W1, "conv.bias": g_b1, "fc.weight": g_W2, "fc.bias": g_b2}
print(f"loss {loss:.4f}; gradients:", {k: v.shape for k, v in by_hand.items()})

# %% [markdown] slideshow={"slide_type": "subslide"}
# Now the same gradients three other ways: from the NumPy layer objects of `cnncourse.nn` (the
# model `tiny`: its `backward` chains the same functions for you), from PyTorch's autograd on the
# same weights, and from finite differences (nudge every weight by ±`h`, watch the loss, lesson
# 2). We print the largest relative error of each against the hand-made ones, as a band (the
# exact values depend on the machine's floating-point summation order, the bands do not):

# %%
tiny.zero_grad()
criterion(tiny(xb), yb)
tiny.backward(criterion.backward())
from_layers = {name: p.grad for name, p in tiny.named_parameters()}

torch_tiny = torch.nn.Sequential(OrderedDict(
    conv=torch.nn.Conv2d(1, 2, 3), relu=torch.nn.ReLU(), pool=torch.nn.MaxPool2d(2),
    flatten=torch.nn.Flatten(), fc=torch.nn.Linear(72, 10))).double()
torch_tiny.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
torch.nn.functional.cross_entropy(torch_tiny(torch.tensor(xb)), torch.tensor(yb)).backward()
from_autograd = {name: p.grad.numpy() for name, p in torch_tiny.named_parameters()}

args = [W1, b1, W2, b2]
from_differences = {}
for i, name in enumerate(state):
    def loss_of(value, i=i):
        return np.array(tiny_cnn_loss(*[value if j == i else a for j, a in enumerate(args)]))
    from_differences[name] = numpy_ops.numerical_gradient(loss_of, args[i].copy())

edges = [1e-12, 1e-9, 1e-6, 1e-3]
for method, grads in (("NumPy layers", from_layers), ("PyTorch autograd", from_autograd),
                      ("finite differences", from_differences)):
    errors = [numpy_ops.rel_error(by_hand[k], grads[k]) for k in by_hand]
    assert max(errors) < (1e-12 if method != "finite differences" else 1e-6), errors
    print(f"{method:>18}: largest relative error {band(max(errors), edges)}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# All four agree: the layers and autograd to the last few digits of float64 (they do the same
# arithmetic in another order), finite differences to about 7 digits (their own error, which is
# why they are a check and not a way to train). Every trained network of the course computes its
# gradients with exactly these functions.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Training the NumPy LeNet
#
# `fit` (from `cnncourse.training`; read it with `fit??`) is the loop of section 1 over batches:
# for each batch of 32 digits, forward, loss, backward, one optimizer step; after each pass over
# the data (an *epoch*) it measures the loss and accuracy on the 2,000 test digits. Two epochs on
# 1,500 digits, with Adam (section 4). The progress bar moves while it trains; the lines under it
# give each epoch's numbers and training time.

# %% tags=["nbval-ignore-output"]
nn.manual_seed(0)
model = lenet("numpy")
initial_state = {k: v.copy() for k, v in model.state_dict().items()}   # for PyTorch, section 6
history = fit(model, (x_all[:1500], labels[:1500]), (x_test, test_labels), epochs=2,
              optimizer=optim.Adam(model.parameters(), lr=2e-3), batch_size=32)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The learning curves: the loss of every training step (faint), each epoch's mean training loss,
# and the test loss and accuracy after each epoch, with a band for the 95% interval of the
# accuracy (the test set is finite; below).

# %%
plot_learning_curves(history)
plt.show()
probs = predict(model, x_test)                                # (2000, 10) class probabilities
pred = probs.argmax(axis=1)
err = metrics.error_rate(pred, test_labels)
assert 0.06 <= err.rate <= 0.25, err
print("test error after 2 epochs on 1,500 digits: between 6% and 25% (this machine's value: below)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The error rate and its interval.** `metrics.error_rate` counts the wrong predictions and puts
# a 95% confidence interval (Wilson's) around their share: another 2,000 digits of the same kind
# would give another number, and the interval says where the true error rate probably lies. The
# **confusion matrix** counts, for each true digit (row), what the network said (column): the
# diagonal is right, the rest shows which digits it mixes up. And the gallery shows the
# mistakes it was most sure of.

# %%
fig, (ax_cm, ax_note) = plt.subplots(1, 2, figsize=(10, 4.4), width_ratios=[5, 2])
plot_confusion_matrix(metrics.confusion_matrix(test_labels, pred, 10), ax=ax_cm)
ax_note.axis("off")
ax_note.text(0, 0.5, str(err).replace(", 95%", "\n95%"), fontsize=10)
plt.show()
show_confident_mistakes(x_test, test_labels, probs, k=6)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# After two short epochs the network is far from done (the error rate is above 5%); section 6
# quotes what a longer run gives. Some of its confident mistakes are digits a person would also
# hesitate over; some are plain mistakes that more training fixes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Optimizers and learning rates
#
# An **optimizer** turns gradients into steps (exercises 3 and 4 write them):
#
#     SGD:       w = w - lr * g
#     momentum:  v = momentum * v + g;  w = w - lr * v                 (a running sum of gradients)
#     Adam:      m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g**2;  m_hat = m / (1 - b1**t),
#                v_hat = v / (1 - b2**t);  w = w - lr * m_hat / (sqrt(v_hat) + eps)
#
# Momentum keeps going in the directions the gradients agree on. Adam divides each weight's step
# by the typical size of its gradient, so every weight moves at about the same pace, `lr`.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Predict before you run
#
# Adam with `lr=0.01` (default betas and eps) takes its first step on a weight whose gradient is
# 0.5. By how much does the weight decrease?

# %% nbgrader={"solution": true, "grade_id": "q05_adam_first_step-solution"} slideshow={"slide_type": "skip"}
# your prediction, a number:
### BEGIN SOLUTION
q05_adam_first_step = 0.01
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "q05_adam_first_step", "points": 1} slideshow={"slide_type": "skip"}
check_prediction("q05_adam_first_step", q05_adam_first_step)

# %% slideshow={"slide_type": "fragment"}
for g in (0.5, 50.0, 0.005):
    p = nn.Parameter(np.array([1.0]))
    p.grad[...] = g
    optim.Adam([p], lr=0.01).step()
    print(f"gradient {g:g}: the weight decreases by {1 - p.data[0]:.6f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The bias correction makes `m_hat = g` and `v_hat = g**2` on the first step, so the step is
# `lr * g / |g| = lr`, whatever the gradient's size. Without it, `m` and `v` start near 0 and the
# first steps are wrong by a factor `0.1 / sqrt(0.001) ≈ 3.2` (exercise 4).
#
# Now the three optimizers on one budget: the dashboard's small LeNet (4 and 8 filters), 512
# training digits, 3 epochs of 16 steps, each optimizer with a learning rate that suits it.

# %%
runs = {"SGD, lr 0.1": train_small(lr=0.1, optimizer="sgd"),
        "momentum, lr 0.03": train_small(lr=0.03, optimizer="momentum"),
        "Adam, lr 0.003": train_small(lr=3e-3, optimizer="adam")}
fig, ax = plt.subplots(figsize=(6.5, 3.2))
for name, h in runs.items():
    ax.plot(h.step_values("loss"), label=name, alpha=0.8)
ax.set(xlabel="step", ylabel="training loss (batch)", title="the same 48 steps")
ax.legend()
plt.show()
final = {name: h["train_loss"][-1] for name, h in runs.items()}
assert final["Adam, lr 0.003"] < final["SGD, lr 0.1"], final
print("lowest training loss after 3 epochs:", min(final, key=final.get))

# %% [markdown] slideshow={"slide_type": "subslide"}
# On a short budget, Adam usually gets furthest without tuning; SGD with momentum, well tuned
# and with a schedule, often ends as well or better on long runs. What matters most is the
# learning rate. Momentum SGD with one that is too low, right, and too high:

# %%
lr_runs = {"too low, 0.001": train_small(lr=1e-3, optimizer="momentum"),
           "right, 0.03": runs["momentum, lr 0.03"],
           "too high, 1.0": train_small(lr=1.0, optimizer="momentum")}
fig, axes = plt.subplots(1, 3, figsize=(11, 2.9), sharey=True)
for ax, (name, h) in zip(axes, lr_runs.items()):
    ax.plot(h.step_values("loss"), color="C0")
    ax.set(title=f"lr {name}", xlabel="step")
axes[0].set_ylabel("training loss")
plt.show()
low, right, high = (h["train_loss"][-1] for h in lr_runs.values())
assert right < 1.6 and low > 2.0 and high > 2.0, (low, right, high)
print("the loss after 3 epochs: too low and too high stay above 2.0, the right one goes below 1.6")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Too low: every step is safe and tiny, the loss hardly moves. Too high: the steps overshoot
# (section 1); the loss jumps about, or the ReLUs stop firing ("die") and the loss stays stuck
# near `log(10) = 2.30`, the loss of a network that guesses uniformly. Far too high and the
# numbers overflow: the loss becomes `inf` or `nan`, and `fit` stops at once, saying where:

# %%
nn.manual_seed(0)
doomed = lenet("numpy")
try:
    with np.errstate(over="ignore", invalid="ignore"):
        fit(doomed, (x_all[:256], labels[:256]), epochs=1, quiet=True,
            optimizer=optim.SGD(doomed.parameters(), lr=1e12))
except TrainingDiverged as error:
    print(str(error).replace("; ", ";\n"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **When the loss is `nan`**: lower the learning rate (by 10); check the inputs (scaled to
# `[0, 1]`? any `nan` in the data: `np.isfinite(x).all()`?); check the labels (`0..9`, not
# `1..10`); compute the loss from logits with a stable cross-entropy (never `log(softmax(x))`
# by hand: lesson 4); then build the model again, since its weights are garbage now. A learning
# rate schedule with a warm-up (one-cycle, section 6) avoids the first large steps.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Overfitting, and four ways to fight it
#
# With few training images a network learns them by heart: the training accuracy climbs towards
# 100% while the accuracy on new digits lags behind and levels off; trained long enough, the
# validation loss rises again. The small LeNet of section 4 (4 and 8 filters) with Adam, 500
# training digits, 10 epochs of 10 steps, 500 validation digits:

# %%
x500, y500 = x_all[:500], labels[:500]
val = (x_test[:500], test_labels[:500])
small = dict(channels=(4, 8), hidden=(32,))          # the dashboard's small LeNet


def lenet_with_dropout(p=0.5):
    layers = []
    for name, layer in lenet("numpy", **small).named_children():
        if name in ("fc1", "fc2"):                    # dropout before the first two dense layers
            layers.append((f"dropout_{name}", nn.Dropout(p)))
        layers.append((name, layer))
    return nn.Sequential(OrderedDict(layers))


def overfit_run(make_model, weight_decay=0.0, augment=None):
    nn.manual_seed(0)
    net = make_model()
    opt = (optim.AdamW(net.parameters(), lr=1e-2, weight_decay=weight_decay) if weight_decay
           else optim.Adam(net.parameters(), lr=1e-2))
    return fit(net, (x500, y500), val, epochs=10, optimizer=opt, batch_size=50, augment=augment,
               quiet=True)


def small_lenet(batch_norm=False):
    return lenet("numpy", batch_norm=batch_norm, **small)


baseline = overfit_run(small_lenet)
plot_learning_curves(baseline)
plt.show()
gap = baseline["train_acc"][-1] - baseline["val_acc"][-1]
assert baseline["train_acc"][-1] > 0.9 and gap > 0.04, (baseline["train_acc"][-1], gap)
print("last epoch: training accuracy above 90%, more than 4 points above the validation accuracy")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Four remedies, each measured on the same 500 digits and budget:
#
# - **data augmentation**: every batch is shifted at random by up to 2 pixels, so the network
#   never sees the same image twice (`Augment(shift=2)`);
# - **weight decay**: each step also shrinks the weights a little towards 0 (AdamW,
#   `weight_decay=0.1`), which keeps the network from using huge weights to fit single images;
# - **dropout**: during training, each unit of the dense layers is switched off with probability
#   0.5 (`nn.Dropout(0.5)`; off in `model.eval()`), so no unit can rely on another;
# - **batch normalisation**: each convolution's outputs are normalised over the batch
#   (`lenet(..., batch_norm=True)`), which mostly makes training faster and steadier.

# %%
remedies = {"none": baseline,
            "augmentation": overfit_run(small_lenet, augment=Augment(shift=2)),
            "weight decay": overfit_run(small_lenet, weight_decay=0.1),
            "dropout": overfit_run(lenet_with_dropout),
            "batch norm": overfit_run(lambda: small_lenet(batch_norm=True))}
errors = {name: 100 * h["val_error"][-1] for name, h in remedies.items()}
fig, ax = plt.subplots(figsize=(6.5, 2.8))
ax.barh(list(errors)[::-1], list(errors.values())[::-1], color="C0")
ax.set(xlabel="validation error after 10 epochs (%)", title="500 training digits")
plt.show()
assert errors["augmentation"] < errors["none"] and errors["batch norm"] < errors["none"], errors
assert all(3 < e < 25 for e in errors.values()), errors
print("validation error without a remedy: between 3% and 25%; augmentation and batch norm lower it")

# %% [markdown] slideshow={"slide_type": "subslide"}
# On 500 validation digits, differences of two or three points are within the noise (the 95%
# interval is about ±3 points wide); the bar chart shows this machine's numbers. On this budget,
# augmentation (which creates new training images) and batch norm (which makes the network
# learn faster) lower the error by several points; weight decay changes it by about the noise;
# dropout slows the fit so much that after 10 epochs it is worse. Weight decay and dropout pay
# off in longer runs of larger networks, and the remedies combine: the best recipes use several.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The same network in PyTorch, on the CPU or a GPU
#
# `cnncourse.models.lenet("torch")` is the same architecture in `torch.nn`, with the same
# parameter names, so the NumPy network's initial weights load into it. `fit` trains either; a
# torch model trains on the device its weights are on. `default_device()` is the GPU when there
# is one, else the CPU: this cell runs everywhere.

# %% tags=["nbval-ignore-output"]
device = default_device()
torch.manual_seed(0)
torch_model = lenet("torch")
torch_model.load_state_dict({k: torch.tensor(v) for k, v in initial_state.items()})
torch_model.to(device)
start_clock = time.perf_counter()
torch_history = fit(torch_model, (x_all[:1500], labels[:1500]), (x_test, test_labels), epochs=1,
                    optimizer=torch.optim.Adam(torch_model.parameters(), lr=2e-3), batch_size=32,
                    progress=False, quiet=True)
print(f"trained on {device.type} ({torch.cuda.get_device_name(0) if device.type == 'cuda' else 'no GPU here'}) "
      f"in {time.perf_counter() - start_clock:.1f} s")

# %%
gap = abs(torch_history["val_acc"][0] - history["val_acc"][0])
assert gap < 0.05, gap
print("after one epoch, same start, same batches: PyTorch's and NumPy's test accuracies are "
      "within 5 points of each other")

# %% [markdown] slideshow={"slide_type": "subslide"}
# One epoch of the same computation as section 3's first: step for step, in float64, the two
# agree to 1e-10 (the test suite checks it); in float32 they drift apart by rounding, so the
# accuracies differ a little. On a GPU the same cell runs there, unchanged, and says so.
#
# **A speed ladder, measured now on this machine**: one training step (batch 64, forward,
# backward, update) of the same LeNet in NumPy, with the `torch_ops` layers (the course's own
# ops inside autograd), with `torch.nn` on the CPU, and on the GPU when there is one.

# %% tags=["nbval-ignore-output"]
def lenet_torch_ops():
    """The same LeNet built from cnncourse.torch_ops layers (our ops, our backward functions)."""
    L = torch_ops
    return torch.nn.Sequential(L.Conv2d(1, 6, 5), L.ReLU(), L.MaxPool2d(2), L.Conv2d(6, 16, 5),
                               L.ReLU(), L.MaxPool2d(2), L.Flatten(), L.Linear(256, 120), L.ReLU(),
                               L.Linear(120, 84), L.ReLU(), L.Linear(84, 10))


batch_x, batch_y = x_all[:640], labels[:640]
ladder = {}
for name, build, where in (("NumPy (cnncourse.nn)", lambda: lenet("numpy"), "cpu"),
                           ("torch_ops layers", lambda: lenet_torch_ops(), "cpu"),
                           ("torch.nn, CPU", lambda: lenet("torch"), "cpu"),
                           ("torch.nn, GPU", lambda: lenet("torch"), "cuda")):
    if where == "cuda" and not torch.cuda.is_available():
        continue
    net = build()
    if where == "cuda":
        net = net.to("cuda")
    opt = (optim if name.startswith("NumPy") else torch.optim).SGD(net.parameters(), lr=0.01)
    ladder[name] = time_steps(net, opt, batch_x, batch_y, batch_size=64, steps=8,
                              warmup=2)["seconds_per_step"]
for name, s in ladder.items():
    print(f"{name:>22}: {1000 * s:6.1f} ms per step, {1 / s:6.0f} steps/s")
plot_speed_ladder(ladder)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Read the numbers above, measured on this machine just now. On a 2-core CPU the NumPy
# network and `torch.nn` take comparable times for a LeNet step (the NumPy layers are tuned for
# it; `benchmarks/bench_train.py` measures the ratio carefully, on a quiet machine). The
# `torch_ops` layers pay for running our own ops inside autograd. A GPU (its row appears only
# where there is one) pays off for large batches and large networks; for a network as small as
# LeNet, launching its work can cost as much as the arithmetic.
#
# **Making PyTorch training fast on a CPU**: the steps that matter, two of them measured live:
#
# 1. keep the data as one tensor and slice batches from it, instead of a `DataLoader` that
#    collates one example at a time;
# 2. use larger batches (256): fewer, larger matrix products use the cores better (raise the
#    learning rate with them);
# 3. a **one-cycle** learning-rate schedule (warm up, then anneal to almost 0) and **Adam**:
#    these do not make a step faster, they make fewer steps reach the same accuracy.

# %% tags=["nbval-ignore-output"]
recipe = {}
for name, batch, loader in (("DataLoader, batch 64", 64, True), ("one tensor, batch 64", 64, False),
                            ("one tensor, batch 256", 256, False)):
    torch.manual_seed(0)
    net = lenet("torch")
    r = time_steps(net, torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9), x_all[:2560],
                   labels[:2560], batch_size=batch, steps=10, warmup=3, loader=loader)
    recipe[name] = 1000 / r["images_per_second"]                    # seconds per 1,000 images
for name, s in recipe.items():
    print(f"{name:>22}: {s:.3f} s per 1,000 images ({recipe['DataLoader, batch 64'] / s:.1f}x)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **What longer runs give.** `benchmarks/bench_lesson05.py` trains on the whole bundled split
# (8,000 digits) for 15 epochs and measures the test accuracy after each epoch. Measured on the
# course's 2-core build machine (shared with other jobs, so its times are only rough; re-run it
# on yours): the NumPy LeNet with Adam (lr 0.001, batch 64) reached 97% after 8 s of training
# and ended at 97.05% (95% interval 96.2–97.7%); the same recipe in `torch.nn` ended at 97.85%,
# SGD with momentum on one tensor at 97.95%. None of these plain LeNets reached 98% on 8,000
# digits in 15 epochs; with the full 60,000 MNIST digits LeNet-5 reaches about 99% (LeCun et
# al., 1998, report 0.95% error).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Error rates in context
#
# An error rate of 1% on these 2,000 test digits means 20 wrong digits. With 20 errors in 2,000
# the 95% interval is 0.65% to 1.54%: a second model with 1.3% error (26 digits) is not
# measurably worse. To tell 1.0% from 1.3% reliably you need tens of thousands of test images.

# %%
for errors_ in (20, 26, 200):
    low, high = metrics.wilson_interval(errors_, 2000)
    print(f"{errors_:>3} wrong of 2,000: {100 * errors_ / 2000:.2f}%, 95% interval "
          f"[{100 * low:.2f}%, {100 * high:.2f}%]")
low, high = metrics.wilson_interval(200, 20000)
print(f"200 wrong of 20,000: 1.00%, 95% interval [{100 * low:.2f}%, {100 * high:.2f}%]")

# %% [markdown] slideshow={"slide_type": "subslide"}
# How good is 1%? People label MNIST digits with an error of a few tenths of a percent, and many of
# the digits the best CNNs still get wrong are ones people disagree on. Try it: here are the 10
# test digits our short-trained network of section 3 found hardest (the smallest margin between
# its two most likely classes). Label them, press **score**, and compare.

# %%
hard = hardest_digits(probs, k=10)
digit_quiz(x_test[hard], test_labels[hard], pred[hard])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Scaling out: many GPUs, many machines
#
# One GPU trains LeNet on MNIST in seconds; a large network on millions of images needs many.
# **Data parallelism** (PyTorch's `DistributedDataParallel`, DDP) runs one copy of the model per
# GPU (or CPU process), gives each a slice of every batch, and after each backward pass averages
# the gradients over all copies, so that every copy takes the same step and they stay identical.
# `fit` does this by itself when it is started by `torchrun`:
#
#     torchrun --standalone --nproc_per_node=gpu -m cnncourse.training --epochs 2    # every GPU here
#     torchrun --standalone --nproc_per_node=2 -m cnncourse.training --epochs 2      # 2 CPU processes
#     torchrun --nnodes=2 --nproc_per_node=8 --rdzv_backend=c10d \
#              --rdzv_endpoint=host0:29500 -m cnncourse.training                     # 2 machines
#
# The test suite runs the two-process CPU version (`tests/test_distributed.py`) and checks that
# both processes end with identical weights, equal to one process training on the same global
# batch. `cnncourse.training.distributed` explains the pieces (`distributed??`).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. The training dashboard
#
# Train the small LeNet of section 4 yourself: choose the learning rate, the optimizer, the batch
# size, augmentation and the number of epochs, press **train** (a few seconds), and read the
# curves and the validation error. Try:
#
# - Adam at 0.003, then at 0.3: the loss jumps and the error stays high;
# - plain SGD at 0.003 (too low), then at 0.3;
# - batch size 8 against 128 at the same learning rate and epochs: more, noisier steps, or
#   fewer, smoother ones;
# - augmentation on, with 8 epochs: slower at first, but the gap between training and
#   validation accuracy stays smaller.

# %%
training_dashboard(epochs=2)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - Training repeats: forward, loss, backward (the chain rule, layer by layer), an optimizer
#   step. The gradient is the slope of the loss along each weight; the four ways to compute it
#   agree.
# - The learning rate matters most: too low crawls, too high overshoots, diverges or kills the
#   ReLUs; a `nan` loss means lower it, check the data, rebuild the model.
# - Momentum sums gradients; Adam scales each weight's step by its gradient's size, with a bias
#   correction that makes its first step `lr`.
# - Measure the error rate on data the network never trained on, with its confidence
#   interval; read the confusion matrix and the confident mistakes.
# - Few images overfit. On 500 digits and 10 epochs, augmentation and batch norm lowered the
#   validation error by several points; weight decay and dropout pay off only in longer runs.
# - The same `fit` trains NumPy and PyTorch models, on a CPU or a GPU, and with `torchrun` on
#   many.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# In each exercise cell, replace the line `raise NotImplementedError(...)` with your code, run
# the cell, then run the `check` cell under it. The check tries your function on small fixed
# inputs: it shows ✓ when all of them pass, "not done yet" while the line is still there, and
# otherwise the likely mistake, the smallest input on which your function fails, and what to look
# at. Use NumPy only (not `cnncourse` or `torch`). Never change the arrays you are given: return
# new ones.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 (easy): the error rate
#
# Write `error_rate(labels, pred)`: the share of examples whose predicted class differs from the
# true one, a float between 0 and 1.

# %% nbgrader={"solution": true, "grade_id": "error_rate-solution"} slideshow={"slide_type": "skip"}
def error_rate(labels, pred):
    """Error rate: (number of i with pred[i] != labels[i]) / N.

    Args:
        labels: (N,) int array of true classes.
        pred: (N,) int array of predicted classes.

    Returns:
        A float in [0, 1].
    """
    ### BEGIN SOLUTION
    return float(np.mean(pred != labels))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "error_rate", "points": 1} slideshow={"slide_type": "skip"}
check("error_rate", error_rate)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 (easy): the confusion matrix
#
# Write `confusion_matrix(labels, pred, num_classes)`: an int64 array `M` of shape
# `(num_classes, num_classes)` with `M[i, j]` the number of examples of true class `i` predicted
# as class `j` (rows: true classes, columns: predictions). Careful: with index arrays,
# `M[labels, pred] += 1` does not count a pair that occurs twice; a loop over the examples does.

# %% nbgrader={"solution": true, "grade_id": "confusion_matrix-solution"} slideshow={"slide_type": "skip"}
def confusion_matrix(labels, pred, num_classes):
    """Confusion matrix: M[i, j] = number of k with labels[k] == i and pred[k] == j.

    Args:
        labels: (N,) int array of true classes in 0..num_classes-1.
        pred: (N,) int array of predicted classes in 0..num_classes-1.
        num_classes: K, an int.

    Returns:
        (K, K) int64 array.
    """
    ### BEGIN SOLUTION
    M = np.zeros((num_classes, num_classes), dtype=np.int64)
    for true_class, predicted in zip(labels, pred):
        M[true_class, predicted] += 1
    return M
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "confusion_matrix", "points": 2} slideshow={"slide_type": "skip"}
check("confusion_matrix", confusion_matrix)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 (medium): SGD with momentum
#
# Write `sgd_momentum_step(param, grad, velocity, lr, momentum)`, one step of SGD with momentum
# as PyTorch takes it: first `velocity = momentum * velocity + grad`, then
# `param = param - lr * velocity` with the **new** velocity. Return `(new_param, new_velocity)`.

# %% nbgrader={"solution": true, "grade_id": "sgd_momentum_step-solution"} slideshow={"slide_type": "skip"}
def sgd_momentum_step(param, grad, velocity, lr, momentum):
    """One step of SGD with momentum (torch.optim.SGD, dampening 0, no weight decay).

    velocity_new = momentum * velocity + grad
    param_new    = param - lr * velocity_new

    Args:
        param, grad, velocity: float arrays of one shape.
        lr: learning rate, a float.
        momentum: momentum factor, a float in [0, 1).

    Returns:
        (param_new, velocity_new), new arrays of param's shape.
    """
    ### BEGIN SOLUTION
    velocity_new = momentum * velocity + grad
    return param - lr * velocity_new, velocity_new
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "sgd_momentum_step", "points": 2} slideshow={"slide_type": "skip"}
check("sgd_momentum_step", sgd_momentum_step)
### BEGIN HIDDEN TESTS
check("sgd_momentum_step", sgd_momentum_step, hidden=True)
### END HIDDEN TESTS

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 4 (medium): Adam
#
# Write `adam_step(param, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08)`, step
# number `t` of Adam (`t = 1` for the first step; `m` and `v` are then zeros):
#
#     m = beta1 * m + (1 - beta1) * grad          v = beta2 * v + (1 - beta2) * grad**2
#     m_hat = m / (1 - beta1**t)                   v_hat = v / (1 - beta2**t)
#     param = param - lr * m_hat / (sqrt(v_hat) + eps)
#
# Return `(new_param, new_m, new_v)` (the averages without the correction: the next step needs
# them).

# %% nbgrader={"solution": true, "grade_id": "adam_step-solution"} slideshow={"slide_type": "skip"}
def adam_step(param, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08):
    """Step t of Adam (torch.optim.Adam, no weight decay), with bias correction.

    Args:
        param, grad, m, v: float arrays of one shape (m, v: the running averages so far).
        t: the number of this step, an int >= 1.
        lr, beta1, beta2, eps: floats.

    Returns:
        (param_new, m_new, v_new), new arrays.
    """
    ### BEGIN SOLUTION
    m_new = beta1 * m + (1 - beta1) * grad
    v_new = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m_new / (1 - beta1 ** t)
    v_hat = v_new / (1 - beta2 ** t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "adam_step", "points": 3} slideshow={"slide_type": "skip"}
check("adam_step", adam_step)
### BEGIN HIDDEN TESTS
check("adam_step", adam_step, hidden=True)
### END HIDDEN TESTS

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 5 (hard): one full training step
#
# The model is one linear layer on flattened inputs (softmax regression, lesson 4):
# `logits = x @ weight.T + bias`, loss = the **mean** cross-entropy over the batch. Write
# `train_step(x, y, weight, bias, grad_weight, grad_bias, lr, weight_decay=0.0)`, one step of SGD
# as `optimizer.zero_grad(); loss.backward(); optimizer.step()` would take it:
#
# 1. forward: the logits, then the softmax probabilities (subtract each row's maximum first);
# 2. backward: `d = (probs - one_hot(y)) / N`, `grad_weight = d.T @ x`, `grad_bias = d.sum(0)`.
#    `grad_weight` and `grad_bias` hold what `.grad` held before this step (the last step's
#    gradients): in PyTorch, backward **adds** to `.grad`, so zero them first — that is, do not
#    use them at all;
# 3. update, with weight decay on the weight only (not on the bias):
#    `weight - lr * (grad_weight + weight_decay * weight)`, `bias - lr * grad_bias`.
#
# Return `(new_weight, new_bias, grad_weight, grad_bias)`: the updated parameters and this
# step's gradients (what `.grad` holds after backward).

# %% nbgrader={"solution": true, "grade_id": "train_step-solution"} slideshow={"slide_type": "skip"}
def train_step(x, y, weight, bias, grad_weight, grad_bias, lr, weight_decay=0.0):
    """One SGD step of softmax regression, logits = x @ weight.T + bias, mean cross-entropy.

    Args:
        x: (N, D) float array; y: (N,) int array of classes in 0..K-1.
        weight: (K, D); bias: (K,).
        grad_weight, grad_bias: what .grad held before this step (ignore: zero_grad).
        lr: learning rate; weight_decay: L2 penalty on the weight only.

    Returns:
        (new_weight, new_bias, grad_weight, grad_bias): new arrays.
    """
    ### BEGIN SOLUTION
    N = len(y)
    logits = x @ weight.T + bias
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = exp / exp.sum(axis=1, keepdims=True)
    d = probs.copy()
    d[np.arange(N), y] -= 1
    d /= N
    g_weight, g_bias = d.T @ x, d.sum(axis=0)
    new_weight = weight - lr * (g_weight + weight_decay * weight)
    new_bias = bias - lr * g_bias
    return new_weight, new_bias, g_weight, g_bias
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "train_step", "points": 3} slideshow={"slide_type": "skip"}
check("train_step", train_step)
### BEGIN HIDDEN TESTS
check("train_step", train_step, hidden=True)
### END HIDDEN TESTS

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where next
#
# You have trained a CNN from its gradients up, and measured what it gets right. Lesson 6 puts
# the same `fit` to work on real applications: faces, handwritten documents, cells under a
# microscope and satellite images, each with its own data, its own pitfalls and its own error
# rate to beat.
