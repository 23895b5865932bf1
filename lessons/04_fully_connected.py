# %% [markdown] slideshow={"slide_type": "slide"}
# # Lesson 4 — Fully connected layers: from feature maps to a class
#
# Lessons 1–3 turned an image into **feature maps**. This lesson turns feature maps into a
# decision: ten scores, one per digit, turned into ten probabilities. The layer that does it is
# the **fully connected** (dense) layer, where every input is connected to every output. A whole
# network can be built from dense layers alone — a *multilayer perceptron* (MLP) — so the lesson
# ends by measuring, on the same digits, what the convolutions add.
#
# **You will learn**
# - flattening a `(C, H, W)` volume into a vector, and why the order matters;
# - a dense layer as one matrix product `x @ W.T + b`, its parameter count, and why a ReLU goes
#   between two of them;
# - softmax, computed so that it never overflows, and the cross-entropy loss as "how surprised
#   the model is by the right answer";
# - the whole CNN — conv, ReLU, pool, conv, ReLU, pool, flatten, dense, softmax — layer by layer
#   on one real digit, with its shapes and parameters;
# - global average pooling, the small alternative to a big dense layer;
# - an MLP and a CNN trained on the same digits and compared: parameters, error rate, time,
#   shifted digits and shuffled pixels.
#
# **You need** lessons 1–3 (arrays, convolution, pooling).
#
# **Time**: about 45 minutes. The notebook trains four small networks for a few seconds each.
#
# **Exercises**: three *predict-before-you-run* questions along the way, and six functions to
# write at the end (`flatten`, `linear`, `softmax`, `cross_entropy`, `mlp_parameters`,
# `small_cnn_forward`), each checked automatically.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from cnncourse import nn, numpy_ops
from cnncourse.checks import check, check_prediction
from cnncourse.data import load_mnist
from cnncourse.metrics import error_rate
from cnncourse.models import lenet, mlp, small_cnn
from cnncourse.training import fit
from cnncourse.viz import show_flattened
from cnncourse.viz.dense import (plot_accuracy_vs_shift, show_dense_weights, show_error_rates,
                                 show_layer_outputs)
from cnncourse.widgets.draw_digit import draw_digit, layer_outputs, shift_image

rng = np.random.default_rng(0)
torch.manual_seed(0)
nn.manual_seed(0)
plt.rcParams["figure.dpi"] = 72


def between(value, low, high, what, fmt="{:.0%}"):
    """Check that a measured value lies in [low, high] and print the band, not the value: the band
    holds on every machine, the exact value depends on the machine's floating-point sums."""
    assert low <= value <= high, f"{what}: {value} is outside [{low}, {high}]"
    print(f"{what}: between {fmt.format(low)} and {fmt.format(high)}")


images, labels = load_mnist("train")
test_images, test_labels = load_mnist("test")
x_train = (images[:, None] / np.float32(255)).astype(np.float32)      # (8000, 1, 28, 28)
x_test = (test_images[:, None] / np.float32(255)).astype(np.float32)  # (2000, 1, 28, 28)
print("train", x_train.shape, "test", x_test.shape)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Flattening: a volume becomes a vector
#
# After its last pooling, a CNN holds a volume of shape `(C, H, W)` per image. A dense layer takes
# a vector, so the volume is **flattened**: its numbers are read in a fixed order into one row.
# NumPy's `reshape(N, -1)` reads row-major — the last axis fastest: channel 0's first row, then
# its second row, …, then channel 1. This is exactly what `torch.flatten(x, 1)` and `nn.Flatten`
# do. A small volume of 2 channels of 2×3 shows the order:

# %%
volume = np.arange(12).reshape(1, 2, 2, 3)          # N=1 image, C=2 channels, H=2, W=3
print(volume[0])
print("flattened:", volume.reshape(1, -1))
print("same as torch.flatten(x, 1):",
      np.array_equal(torch.flatten(torch.as_tensor(volume), 1).numpy(), volume.reshape(1, -1)))

# %% [markdown] slideshow={"slide_type": "subslide"}
# Any fixed order would do for a network trained from scratch, but the order used in training
# must be the order used later: weight number 5 of a dense unit is multiplied by whatever number
# lands in position 5. Reading the same volume channels-last (`(H, W, C)`, the layout of image
# files) puts different numbers in the same positions:

# %%
channels_last = volume.transpose(0, 2, 3, 1).reshape(1, -1)
print("channels-last:", channels_last)
fig, ax = plt.subplots(figsize=(7, 1.2))
show_flattened(np.r_[volume.reshape(1, -1), channels_last], ax=ax,
               labels=["(C, H, W) order", "(H, W, C) order"], cmap="viridis")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. A dense layer is a matrix product
#
# A dense layer with `in_features` inputs and `out_features` outputs has a weight matrix `W` of
# shape `(out_features, in_features)` and a bias `b` of `out_features` numbers. Output `j` is a
# weighted sum of *every* input plus its own bias:
#
# $$y_j = \sum_i W_{j,i}\, x_i + b_j \qquad\text{for a batch: } Y = X W^\top + b$$
#
# The double loop and the matrix product give the same numbers, and so do `numpy_ops.linear`,
# the NumPy layer `nn.Linear` and PyTorch's `torch.nn.Linear` loaded with the same weights:

# %%
x = rng.normal(size=(2, 4))                          # a batch of 2 vectors of 4 features
W = rng.normal(size=(3, 4))                          # 3 outputs, 4 inputs
b = rng.normal(size=3)

loops = np.zeros((2, 3))
for n in range(2):
    for j in range(3):
        loops[n, j] = sum(W[j, i] * x[n, i] for i in range(4)) + b[j]

y = x @ W.T + b
layer = nn.Linear(4, 3).double()
layer.load_state_dict({"weight": W, "bias": b})
torch_layer = torch.nn.Linear(4, 3).double()
torch_layer.load_state_dict({"weight": torch.as_tensor(W), "bias": torch.as_tensor(b)})
print(np.round(y, 4))
print("loops:", np.allclose(loops, y), "| numpy_ops.linear:", np.allclose(numpy_ops.linear(x, W, b), y),
      "| nn.Linear:", np.allclose(layer(x), y),
      "| torch.nn.Linear:", np.allclose(torch_layer(torch.as_tensor(x)).detach().numpy(), y))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Parameters.** Each of the `out_features` units has `in_features` weights **and its own bias**:
# `in_features * out_features + out_features` parameters. Here `4 * 3 + 3 = 15`:

# %%
print("weights", W.size, "+ biases", b.size, "=", sum(p.size for p in layer.parameters()))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Why a ReLU goes between two dense layers.** Two dense layers in a row, with nothing between
# them, are one dense layer: `(x W1ᵀ + b1) W2ᵀ + b2 = x (W2 W1)ᵀ + (W2 b1 + b2)`. Stacking them
# adds parameters and no power. A ReLU between them breaks the equality, and that bend is what
# lets a stack of layers draw boundaries a single matrix cannot:

# %%
W1, b1 = rng.normal(size=(5, 4)), rng.normal(size=5)
W2, b2 = rng.normal(size=(3, 5)), rng.normal(size=3)
two_layers = (x @ W1.T + b1) @ W2.T + b2
one_layer = x @ (W2 @ W1).T + (W2 @ b1 + b2)
with_relu = np.maximum(x @ W1.T + b1, 0) @ W2.T + b2
print("two dense layers == one dense layer:", np.allclose(two_layers, one_layer))
print("with a ReLU between them:           ", np.allclose(with_relu, one_layer))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Predict before you run
#
# LeNet's feature maps before its first dense layer have shape `(16, 4, 4)`. How many parameters
# does a dense layer from them to 120 units have? Write an int.

# %% nbgrader={"solution": true, "grade_id": "q04_dense_params-solution"} slideshow={"slide_type": "skip"}
# your prediction, an int:
### BEGIN SOLUTION
q04_dense_params = 16 * 4 * 4 * 120 + 120
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "q04_dense_params", "points": 1} slideshow={"slide_type": "skip"}
check_prediction("q04_dense_params", q04_dense_params)

# %% slideshow={"slide_type": "fragment"}
fc1 = lenet("numpy").fc1
print(fc1, "->", sum(p.size for p in fc1.parameters()), "parameters")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Scores to probabilities: softmax and cross-entropy
#
# The last dense layer gives one score per class, any real numbers (*logits*). **Softmax** turns
# them into probabilities — positive, summing to 1, the largest score getting the largest share:
#
# $$\mathrm{softmax}(z)_k = \frac{e^{z_k}}{\sum_j e^{z_j}}$$
#
# On three scores, by hand: $e^2 = 7.39$, $e^1 = 2.72$, $e^0 = 1$, total 11.11:

# %%
z = np.array([2.0, 1.0, 0.0])
print("softmax:", np.round(np.exp(z) / np.exp(z).sum(), 3))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Computed stably.** `exp(1000)` does not fit in a float (the largest float64 is about
# `1.8e308 = e^709.8`): it becomes `inf`, and `inf / inf` is `nan`. Subtracting the largest score
# first changes nothing mathematically — the factor $e^{-\max z}$ cancels above and below — and
# makes every exponent ≤ 0, so nothing overflows:

# %%
big = z + 1000
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(big) / np.exp(big).sum()
shifted = np.exp(big - big.max())
print("naive on z + 1000:  ", naive)
print("stable on z + 1000: ", np.round(shifted / shifted.sum(), 3))
print("numpy_ops.softmax:  ", np.round(numpy_ops.softmax(big), 3), "(PyTorch calls the axis `dim`)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Cross-entropy** is the loss every classifier in this course minimises: minus the log of the
# probability the model gives to the **right** class, averaged over the batch,
#
# $$\ell = -\log p_{\text{right class}} .$$
#
# It is the model's *surprise*: 0 when it gives the right class probability 1, large when it gave
# it almost nothing. With the three scores above, class 0 (p = 0.665) costs 0.408 and class 2
# (p = 0.090) costs 2.408:

# %%
p = np.exp(z) / np.exp(z).sum()
for right in (0, 2):
    print(f"right class {right}: p = {p[right]:.3f}, loss = -log p = {-np.log(p[right]):.3f}")
logits = torch.tensor([[2.0, 1.0, 0.0], [2.0, 1.0, 0.0]], dtype=torch.float64)
print("torch F.cross_entropy, mean of the two:", round(F.cross_entropy(logits, torch.tensor([0, 2])).item(), 3))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The log of zero.** When one score is far below the others its probability rounds to exactly
# 0, and `-log 0` is `inf` — a loss that makes training stop. The cure is the same shift, done
# inside the log: $\log \mathrm{softmax}(z)_k = z_k - \max z - \log \sum_j e^{z_j - \max z}$, which
# never takes the log of 0:

# %%
far = np.array([0.0, -800.0])                        # class 1 is the right one
with np.errstate(divide="ignore"):
    loss_naive = -np.log(np.exp(far - far.max()) / np.exp(far - far.max()).sum())[1]
log_p = far - far.max() - np.log(np.exp(far - far.max()).sum())
print("via log(softmax):", loss_naive, "| via log-softmax:", -log_p[1],
      "| numpy_ops.cross_entropy:", numpy_ops.cross_entropy(far[None], np.array([1])))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The whole CNN, layer by layer
#
# Now the pieces of lessons 2–4 make a classic CNN, LeNet: convolution (6 filters of 5×5), ReLU,
# max pooling; convolution (16 filters), ReLU, max pooling; flatten; three dense layers with ReLUs
# between them; softmax at the end. `nn.summary` runs one empty image through the NumPy version and
# prints every layer's output shape and parameters:

# %%
net = lenet("numpy")
rows = nn.summary(net, (1, 1, 28, 28))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The dense layers hold most of the parameters: `fc1` alone has 30,840 of the 44,426, while the
# two convolutions, which do the looking, have 2,572 together. We train the PyTorch version of
# the same network for 3 passes over the 8,000 training digits (a few seconds), then copy its
# weights into the NumPy network — same layer names, same state dict — and check that both give
# the same scores:

# %%
def train(model, x, y, epochs=3, lr=2e-3):
    """Train a torch model with Adam on (x, y); return it in eval mode and the seconds it took."""
    torch.manual_seed(0)
    start = time.perf_counter()
    fit(model, (torch.as_tensor(x), torch.as_tensor(y)), None, epochs=epochs, batch_size=64,
        optimizer=torch.optim.Adam(model.parameters(), lr=lr), seed=0, quiet=True)
    return model.eval(), time.perf_counter() - start


def predict(model, x):
    with torch.no_grad():
        return model(torch.as_tensor(x)).argmax(1).numpy()


torch.manual_seed(0)
cnn, t_cnn = train(lenet("torch"), x_train, labels)
net.load_state_dict(cnn.state_dict())
digit = x_test[:1]
with torch.no_grad():
    torch_scores = cnn(torch.as_tensor(digit)).numpy()
print("NumPy and PyTorch scores agree:", np.allclose(net(digit), torch_scores, atol=1e-4))

# %% [markdown] slideshow={"slide_type": "subslide"}
# One test digit as it passes from layer to layer: the 28×28 input, the 6 maps of the first
# convolution (24×24), their pooled 12×12 versions, the 16 maps of the second convolution (8×8)
# and their pooled 4×4 versions — the volume the dense layers read — and, at the end, the ten
# class probabilities:

# %%
outputs = layer_outputs(cnn, digit[0, 0])
print([(name, tuple(a.shape)) for name, a in outputs])
show_layer_outputs(outputs, max_channels=6)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The flatten order of section 1, measured: the trained dense layers expect the `(C, H, W)`
# order. Feed them the same pooled volume read channels-last and the network, unchanged otherwise,
# no longer reads digits:

# %%
with torch.no_grad():
    volume_test = cnn[:6](torch.as_tensor(x_test))           # conv1 ... pool2: (2000, 16, 4, 4)
    right_order = cnn[7:](volume_test.flatten(1)).argmax(1).numpy()
    wrong_order = cnn[7:](volume_test.permute(0, 2, 3, 1).flatten(1)).argmax(1).numpy()
acc_right = np.mean(right_order == test_labels)
acc_wrong = np.mean(wrong_order == test_labels)
between(acc_right, 0.93, 0.98, "test accuracy, (C, H, W) order as in training")
between(acc_wrong, 0.0, 0.3, "test accuracy, channels-last order (guessing gives 10%)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Global average pooling instead of a big dense layer
#
# `fc1` costs 30,840 parameters because it connects each of the 256 numbers of the volume to each
# of 120 units. **Global average pooling** (lesson 3) first replaces each of the 16 maps by its
# mean: 16 numbers, whatever the size of the maps, and the dense layer after it is small.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Predict before you run
#
# With global average pooling, the 16 feature maps become 16 numbers. How many parameters does a
# dense layer from them straight to the 10 classes have? Write an int.

# %% nbgrader={"solution": true, "grade_id": "q04_gap_params-solution"} slideshow={"slide_type": "skip"}
# your prediction, an int:
### BEGIN SOLUTION
q04_gap_params = 16 * 10 + 10
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "q04_gap_params", "points": 1} slideshow={"slide_type": "skip"}
check_prediction("q04_gap_params", q04_gap_params)

# %% slideshow={"slide_type": "fragment"}
def n_params(model):
    return sum(p.numel() for p in model.parameters())


print("16 maps -> flatten -> 10 classes:", n_params(torch.nn.Linear(16 * 4 * 4, 10)))
print("16 maps -> global average -> 10 classes:", n_params(torch.nn.Linear(16, 10)))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The course's `small_cnn` ends this way (three 3×3 convolution blocks, global average pooling,
# one dense layer of 64 × 10 + 10 = 650 parameters). A second gain: it takes images of any size,
# while LeNet's `fc1` only fits the 256 numbers of a 28×28 input:

# %%
gap_net = small_cnn("torch").eval()
print("small_cnn parameters:", n_params(gap_net), "| its dense layer:", n_params(gap_net.fc))
bigger = torch.zeros(1, 1, 32, 32)
print("small_cnn on 32x32:", tuple(gap_net(bigger).shape))
try:
    cnn(bigger)
except RuntimeError as error:
    print("LeNet on 32x32:", error)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. MLP versus CNN, measured on the same digits
#
# An MLP sees only the flattened pixels: 784 inputs, a hidden dense layer of 128 units, a ReLU,
# 10 outputs. The CNN is the LeNet of section 4. Both were trained the same way — Adam, learning
# rate 0.002, 3 passes over the same 8,000 digits, seed 0 — and are tested on the same 2,000
# digits they have never seen. The error rates come with a 95% confidence interval (Wilson, as in
# `cnncourse.metrics`): 2,000 test digits measure an error rate to about ±1 percentage point.

# %%
mlp_net, t_mlp = train(mlp("torch", hidden=(128,)), x_train, labels)
err_mlp = error_rate(predict(mlp_net, x_test), test_labels)
err_cnn = error_rate(predict(cnn, x_test), test_labels)
print(f"parameters: MLP {n_params(mlp_net):,}, CNN {n_params(cnn):,}")
between(err_mlp.rate, 0.05, 0.10, "MLP test error rate")
between(err_cnn.rate, 0.025, 0.06, "CNN test error rate", fmt="{:.1%}")
assert err_cnn.rate < 0.75 * err_mlp.rate, (err_cnn, err_mlp)
print("the CNN makes at most three quarters of the MLP's errors")
show_error_rates({"MLP": err_mlp, "CNN": err_cnn})
plt.show()

# %% tags=["nbval-ignore-output"] slideshow={"slide_type": "fragment"}
print(f"this run: MLP {err_mlp}, trained in {t_mlp:.1f} s")
print(f"          CNN {err_cnn}, trained in {t_cnn:.1f} s")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The CNN makes about half the errors with less than half the parameters: its convolutions reuse
# the same small kernels at every position, the MLP learns a separate weight for every pixel.
# Each of the MLP's 128 hidden units is a 28×28 template; here are ten of them (red positive,
# blue negative):

# %%
show_dense_weights(mlp_net.fc1.weight.detach().numpy(), n=10)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Shifted digits.** Move every test digit 0 to 4 pixels to the right (zeros come in from the
# left) and measure both networks again. The MLP's templates are tied to positions; the CNN's
# kernels slide, and its pooling forgives small moves (lesson 3):

# %%
shifts = [0, 1, 2, 3, 4]
shifted_err = {"MLP": [], "CNN": []}
for k in shifts:
    moved = shift_image(x_test, dx=k, dy=0)
    shifted_err["MLP"].append(error_rate(predict(mlp_net, moved), test_labels))
    shifted_err["CNN"].append(error_rate(predict(cnn, moved), test_labels))
shifted_acc = {name: [1 - e.rate for e in errors] for name, errors in shifted_err.items()}
bands = {name: np.array([[1 - e.high, 1 - e.low] for e in errors]).T for name, errors in
         {"MLP": shifted_err["MLP"], "CNN": shifted_err["CNN"]}.items()}
ax = plot_accuracy_vs_shift(shifts, shifted_acc, bands=bands)
ax.set(xlabel="shift to the right (pixels)", title="the same 2,000 test digits, shifted (95% bands)")
plt.show()
between(shifted_acc["MLP"][2], 0.5, 0.8, "MLP accuracy at 2 pixels")
between(shifted_acc["CNN"][2], 0.78, 0.93, "CNN accuracy at 2 pixels")
assert all(c > m for c, m in zip(shifted_acc["CNN"][1:], shifted_acc["MLP"][1:])), shifted_acc
print("the CNN is more accurate than the MLP at every shift of 1 to 4 pixels")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Neither network is shift-*invariant*: both were trained on centred digits only, and at 4
# pixels both have lost most of their accuracy. Training on shifted digits (augmentation,
# lesson 5) teaches it.
#
# **Shuffled pixels.** Now take one fixed random permutation of the 784 pixel positions and apply
# it to every training and test image. Each image keeps exactly its pixel values, but neighbours
# are no longer neighbours. To us the digits become noise:

# %%
perm = np.random.default_rng(1).permutation(28 * 28)


def permute_pixels(x):
    """The same fixed shuffle of the 784 pixel positions, applied to every image."""
    return x.reshape(len(x), -1)[:, perm].reshape(x.shape)


fig, axes = plt.subplots(2, 6, figsize=(7, 2.6))
for j in range(6):
    axes[0, j].imshow(x_test[j, 0], cmap="gray")
    axes[1, j].imshow(permute_pixels(x_test[j:j + 1])[0, 0], cmap="gray")
    axes[0, j].set_title(str(test_labels[j]))
for a in axes.ravel():
    a.axis("off")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Predict before you run
#
# A fresh MLP is trained on the shuffled training images and tested on the shuffled test images.
# Its test accuracy, compared with the MLP trained on normal images, is 1 = much lower,
# 2 = about the same, 3 = much higher? Write 1, 2 or 3.

# %% nbgrader={"solution": true, "grade_id": "q04_permuted_mlp-solution"} slideshow={"slide_type": "skip"}
# your prediction, 1, 2 or 3:
### BEGIN SOLUTION
q04_permuted_mlp = 2
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "q04_permuted_mlp", "points": 1} slideshow={"slide_type": "skip"}
check_prediction("q04_permuted_mlp", q04_permuted_mlp)

# %% slideshow={"slide_type": "fragment"}
mlp_shuffled, t_mlp_shuffled = train(mlp("torch", hidden=(128,)), permute_pixels(x_train), labels)
cnn_shuffled, t_cnn_shuffled = train(lenet("torch"), permute_pixels(x_train), labels)
err_mlp_shuffled = error_rate(predict(mlp_shuffled, permute_pixels(x_test)), test_labels)
err_cnn_shuffled = error_rate(predict(cnn_shuffled, permute_pixels(x_test)), test_labels)
between(err_mlp_shuffled.rate, 0.05, 0.10, "MLP on shuffled pixels, test error rate")
between(err_cnn_shuffled.rate, 0.10, 0.22, "CNN on shuffled pixels, test error rate")
assert abs(err_mlp_shuffled.rate - err_mlp.rate) < 0.025, (err_mlp_shuffled, err_mlp)
assert err_cnn_shuffled.rate > 2 * err_cnn.rate and err_cnn_shuffled.low > err_mlp_shuffled.high
print("MLP: the same error rate within 2.5 points; CNN: more than twice its error rate, now worse than the MLP")
show_error_rates({"MLP": err_mlp, "CNN": err_cnn, "MLP, shuffled": err_mlp_shuffled,
                  "CNN, shuffled": err_cnn_shuffled})
plt.show()

# %% tags=["nbval-ignore-output"] slideshow={"slide_type": "skip"}
print(f"this run: MLP shuffled {err_mlp_shuffled}, {t_mlp_shuffled:.1f} s; "
      f"CNN shuffled {err_cnn_shuffled}, {t_cnn_shuffled:.1f} s")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The MLP does not care: a dense layer has no idea which inputs are neighbours, so shuffling its
# inputs only shuffles the columns of its first weight matrix, and training finds the shuffled
# weights just as well. Un-shuffle the templates of the shuffled MLP and they look like those of
# the normal one:

# %%
unshuffled = np.empty_like(mlp_shuffled.fc1.weight.detach().numpy())
unshuffled[:, perm] = mlp_shuffled.fc1.weight.detach().numpy()
show_dense_weights(unshuffled, n=10)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The CNN loses: a 5×5 kernel now covers 25 pixels scattered over the digit, and "strokes" and
# "edges" no longer exist to be found. This is what convolution **assumes**: that nearby pixels
# belong together and that the same pattern means the same thing anywhere in the image. On
# images that assumption is true, and it buys the CNN its accuracy with fewer parameters; on data
# without such structure (a table of unrelated measurements), an MLP is the right tool.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The draw-a-digit explorer
#
# Draw a digit with the mouse (or start from a test digit and shift it) and watch the feature
# maps of the trained CNN change, layer by layer, down to the ten probabilities. Pass any model
# — the MLP, or one of your own — to compare: `draw_digit(mlp_net)` shows its probabilities.

# %%
draw_digit(cnn, digits=x_test[:50, 0])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Where dense layers fit in real networks
#
# Large classic CNNs ended in big dense layers: VGG-16 flattens a 512 × 7 × 7 volume into 4,096
# units, then 4,096, then 1,000 classes. Modern ones (ResNet, from 2015) use global average
# pooling and a single dense layer. Counted from the layer sizes:

# %%
vgg_dense = [512 * 7 * 7, 4096, 4096, 1000]
vgg_dense_params = sum(a * b + b for a, b in zip(vgg_dense[:-1], vgg_dense[1:]))
resnet_dense_params = 2048 * 1000 + 1000
print(f"VGG-16's three dense layers: {vgg_dense_params:,} parameters (of about 138 million)")
print(f"ResNet-50's one dense layer after global average pooling: {resnet_dense_params:,}")

# %% [markdown]
# What a dense layer cannot do: it knows nothing of neighbours or position (section 6), it needs
# a fixed input size (section 5), and its parameters grow with the product of its input and
# output sizes. What it does well is the last step: combining the features the convolutions
# found, wherever they are, into a score per class.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - Flattening reads a `(C, H, W)` volume into a vector, row-major; the order used in training
#   must be used later (measured: the trained LeNet fails when it is read channels-last).
# - A dense layer computes `x @ W.T + b`: every input to every output, `in * out + out`
#   parameters (one bias per unit). Without a ReLU between them, two dense layers are one.
# - Softmax turns scores into probabilities; subtract the maximum first so that nothing
#   overflows. Cross-entropy, `-log p` of the right class, is the model's surprise; compute it
#   from the log-softmax so that it never takes the log of 0.
# - LeNet's dense layers hold most of its parameters; global average pooling replaces the big
#   one by a small one and accepts any input size.
# - On the same 8,000 digits, the CNN made about half the MLP's errors with fewer than half the
#   parameters, and stayed more accurate when the digits were shifted. With the pixels shuffled
#   the MLP did as well as before and the CNN got worse: convolution assumes that neighbouring
#   pixels belong together.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# In each exercise cell, replace the line `raise NotImplementedError(...)` with your code, run
# the cell, then run the `check` cell under it. The check tries your function on many inputs: it
# shows ✓ when all of them pass, "not done yet" while the line is still there, and otherwise the
# likely mistake, the smallest input on which your function fails, and what to look at. A check
# never stops the notebook: Run All always reaches the end. Use NumPy only — not `numpy_ops`,
# `nn` or `torch`.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 (easy): flatten
#
# Write `flatten(x)` for `x` of shape `(N, ...)`: return an `(N, D)` array, each row one example's
# values in row-major order (as `torch.flatten(x, 1)`), with `D` the product of the other axes.

# %% nbgrader={"solution": true, "grade_id": "flatten-solution"} slideshow={"slide_type": "skip"}
def flatten(x):
    """Flatten every axis but the first: (N, d1, d2, ...) -> (N, d1 * d2 * ...), row-major.

    Args:
        x: an array with a batch axis first.

    Shape:
        (N, d1, ..., dk) -> (N, d1 * ... * dk)

    Returns:
        The (N, D) array.
    """
    ### BEGIN SOLUTION
    return x.reshape(x.shape[0], -1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "flatten", "points": 1} slideshow={"slide_type": "skip"}
check("flatten", flatten)
### BEGIN HIDDEN TESTS
check("flatten", flatten, hidden=True)
### END HIDDEN TESTS

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 (easy): a dense layer
#
# Write `linear(x, weight, bias)`: `x` is `(N, in_features)`, `weight` is
# `(out_features, in_features)` (PyTorch's layout) and `bias` is `(out_features,)`. Return
# `x @ weight.T + bias`, of shape `(N, out_features)`.

# %% nbgrader={"solution": true, "grade_id": "linear-solution"} slideshow={"slide_type": "skip"}
def linear(x, weight, bias):
    """A dense layer: y[n, j] = sum_i weight[j, i] * x[n, i] + bias[j].

    Args:
        x: (N, in_features) array.
        weight: (out_features, in_features) array.
        bias: (out_features,) array.

    Shape:
        (N, in_features) -> (N, out_features)

    Returns:
        The (N, out_features) array.
    """
    ### BEGIN SOLUTION
    return x @ weight.T + bias
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "linear", "points": 1} slideshow={"slide_type": "skip"}
check("linear", linear)
### BEGIN HIDDEN TESTS
check("linear", linear, hidden=True)
### END HIDDEN TESTS

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 (medium): a softmax that never overflows
#
# Write `softmax(z, axis=-1)`: the probabilities along `axis`, for an array of any shape. Subtract
# the maximum **of each slice along `axis`** (`keepdims=True` keeps it broadcastable), so that
# scores of 1000 work and a row far below another does not become 0 / 0.

# %% nbgrader={"solution": true, "grade_id": "softmax-solution"} slideshow={"slide_type": "skip"}
def softmax(z, axis=-1):
    """Softmax along an axis: exp(z - max) / sum(exp(z - max)), the max taken per slice.

    Args:
        z: an array of scores.
        axis: the axis along which the probabilities sum to 1. Default: -1.

    Shape:
        the shape of z.

    Returns:
        An array of the shape of z, positive, summing to 1 along axis.
    """
    ### BEGIN SOLUTION
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "softmax", "points": 2} slideshow={"slide_type": "skip"}
check("softmax", softmax)
### BEGIN HIDDEN TESTS
check("softmax", softmax, hidden=True)
### END HIDDEN TESTS

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 4 (medium): cross-entropy
#
# Write `cross_entropy(logits, target)`: `logits` is `(N, K)`, `target` is `(N,)` ints in
# `0..K-1`. Return the mean over the batch of `-log softmax(logits)[n, target[n]]`, a float, as
# `torch.nn.functional.cross_entropy` does. Use the log-softmax of section 3, so that a right
# class with a score 800 below the others gives a large finite loss, not `inf`.

# %% nbgrader={"solution": true, "grade_id": "cross_entropy-solution"} slideshow={"slide_type": "skip"}
def cross_entropy(logits, target):
    """Mean cross-entropy: mean over n of -log_softmax(logits[n])[target[n]].

    Args:
        logits: (N, K) array of scores.
        target: (N,) int array of the right classes.

    Shape:
        (N, K), (N,) -> a scalar

    Returns:
        The mean loss, a float.
    """
    ### BEGIN SOLUTION
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(target)), target].mean())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "cross_entropy", "points": 2} slideshow={"slide_type": "skip"}
check("cross_entropy", cross_entropy)
### BEGIN HIDDEN TESTS
check("cross_entropy", cross_entropy, hidden=True)
### END HIDDEN TESTS

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 5 (easy): counting parameters
#
# Write `mlp_parameters(sizes)`: `sizes` lists the widths of a stack of dense layers, input
# first, e.g. `[784, 128, 10]` for the MLP of section 6 (784 → 128 → 10). Return the total
# number of weights and biases, an int.

# %% nbgrader={"solution": true, "grade_id": "mlp_parameters-solution"} slideshow={"slide_type": "skip"}
def mlp_parameters(sizes):
    """Parameters of dense layers sizes[0] -> sizes[1] -> ... : sum of a * b + b.

    Args:
        sizes: the layer widths, input first, a list of ints.

    Returns:
        The number of parameters, an int.
    """
    ### BEGIN SOLUTION
    return int(sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "mlp_parameters", "points": 1} slideshow={"slide_type": "skip"}
check("mlp_parameters", mlp_parameters)
### BEGIN HIDDEN TESTS
check("mlp_parameters", mlp_parameters, hidden=True)
### END HIDDEN TESTS

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 6 (hard): a whole small CNN
#
# Write `small_cnn_forward(x, params)`: `x` is `(N, C, H, W)`; `params` holds `"conv.weight"`
# `(F, C, K, K)`, `"conv.bias"` `(F,)`, `"fc.weight"` `(classes, F * PH * PW)` and `"fc.bias"`
# `(classes,)`. Compute a valid convolution (cross-correlation, stride 1, as in lesson 2), ReLU,
# 2×2 max pooling with stride 2, flatten in `(F, PH, PW)` order, and the dense layer; return the
# `(N, classes)` scores (no softmax). You may call your `flatten` and `linear` from above.

# %% nbgrader={"solution": true, "grade_id": "small_cnn_forward-solution"} slideshow={"slide_type": "skip"}
def small_cnn_forward(x, params):
    """conv -> ReLU -> 2x2 max pool -> flatten -> dense, from given weights.

    Args:
        x: (N, C, H, W) array.
        params: dict with "conv.weight" (F, C, K, K), "conv.bias" (F,), "fc.weight"
            (classes, F * PH * PW) and "fc.bias" (classes,).

    Shape:
        (N, C, H, W) -> (N, classes), with OH = H - K + 1, PH = OH // 2 (and the same for W).

    Returns:
        The (N, classes) scores.
    """
    ### BEGIN SOLUTION
    w, b = params["conv.weight"], params["conv.bias"]
    K = w.shape[-1]
    N, C, H, W = x.shape
    OH, OW = H - K + 1, W - K + 1
    maps = np.zeros((N, w.shape[0], OH, OW))
    for i in range(OH):
        for j in range(OW):
            window = x[:, :, i:i + K, j:j + K]                       # (N, C, K, K)
            maps[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    maps = np.maximum(maps, 0)
    PH, PW = OH // 2, OW // 2
    pooled = maps[:, :, :2 * PH, :2 * PW].reshape(N, -1, PH, 2, PW, 2).max(axis=(3, 5))
    return pooled.reshape(N, -1) @ params["fc.weight"].T + params["fc.bias"]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "small_cnn_forward", "points": 3} slideshow={"slide_type": "skip"}
check("small_cnn_forward", small_cnn_forward)
### BEGIN HIDDEN TESTS
check("small_cnn_forward", small_cnn_forward, hidden=True)
### END HIDDEN TESTS

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where next
#
# You can now run a whole CNN forward, from pixels to probabilities, and compute its loss. Lesson 5
# trains it: the gradient of the cross-entropy with respect to every weight (backpropagation),
# gradient descent, and the error rate measured on digits the network has never seen.
