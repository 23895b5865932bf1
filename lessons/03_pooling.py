# %% [markdown] slideshow={"slide_type": "slide"}
# # Lesson 3 — Pooling
#
# A **pooling** layer shrinks a feature map: it cuts the map into small windows and replaces each
# window by one number, its maximum (*max pooling*) or its mean (*average pooling*). It has no
# weights. CNNs put it after convolution + ReLU so that later layers see a smaller map, each of
# whose pixels summarises a larger patch of the image, and so that the map changes less when the
# object moves a little.
#
# **You will learn**
# - max and average pooling over 2×2 windows, by hand and with `numpy_ops`;
# - how kernel size and stride set the output size;
# - what pooling keeps (the strongest response, or the mean) and what it throws away (where in
#   the window it was);
# - global pooling, which turns a map of any size into one number per channel;
# - how much pooling reduces the effect of a 1–4 pixel shift, measured on 1,000 real digits;
# - how pooling compares with a strided convolution;
# - the backward pass: max pooling sends the gradient to the arg-max, average pooling spreads it.
#
# **You need** lesson 2 (convolution, feature maps, the output-size formula, ReLU).
#
# **Time**: about 30 minutes. The whole notebook runs in well under a minute.
#
# **Exercises**: two *predict-before-you-run* questions along the way, and three functions to write
# at the end (`max_pool2d`, `avg_pool2d`, `max_pool2d_backward`), each checked automatically.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from cnncourse import numpy_ops
from cnncourse.checks import check, check_prediction
from cnncourse.data import load_mnist
from cnncourse.kernels import kernel_bank
from cnncourse.numpy_ops.gradcheck import check_gradient, numerical_gradient
from cnncourse.shapes import pool_output_size
from cnncourse.viz import (plot_shift_robustness, relative_change, show_feature_maps,
                           show_grad_routing, show_pooling, show_shift_comparison)
from cnncourse.widgets import pool_explorer

rng = np.random.default_rng(0)
torch.manual_seed(0)
plt.rcParams["figure.dpi"] = 72

# %% [markdown]
# As in lesson 2, `numpy_ops` is the course's NumPy reference, with the names, arguments and
# `(N, C, H, W)` layout of `torch.nn.functional`. We always write the prefix
# (`numpy_ops.max_pool2d`), because at the end you will write your own `max_pool2d`.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Max and average pooling on a 4×4 grid
#
# Cut a 4×4 map into four 2×2 windows. Max pooling keeps the largest value of each window,
# average pooling its mean:
#
#     max pooling:      out[i, j] = max  of x[2i:2i+2, 2j:2j+2]
#     average pooling:  out[i, j] = mean of x[2i:2i+2, 2j:2j+2]

# %%
x = np.array([[1, 3, 2, 0],
              [5, 2, 1, 4],
              [0, 1, 6, 2],
              [3, 2, 1, 1]], dtype=float)
x4 = x[None, None]                                   # (N, C, H, W) = (1, 1, 4, 4)
out_max = numpy_ops.max_pool2d(x4, kernel_size=2)
out_avg = numpy_ops.avg_pool2d(x4, kernel_size=2)
print("max pooling:\n", out_max[0, 0])
print("average pooling:\n", out_avg[0, 0])

# %% [markdown] slideshow={"slide_type": "subslide"}
# The top-left window holds 1, 3, 5, 2: its maximum is 5 and its mean is 11/4 = 2.75. In the
# picture each window has its own colour, and so does the output value it produces; a dot marks
# the value max pooling keeps.

# %%
fig, axes = plt.subplots(1, 4, figsize=(10, 2.9), width_ratios=[4, 2.5, 4, 2.5])
show_pooling(x, out_max[0, 0], 2, axes=axes[:2], mark_argmax=True)
show_pooling(x, out_avg[0, 0], 2, axes=axes[2:], fmt="{:.2f}")
axes[1].set_title("max pooling", fontsize=9)
axes[3].set_title("average pooling", fontsize=9)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# PyTorch agrees, and, like convolution, pooling works on a whole batch at once. Unlike
# convolution, it never mixes channels: each channel is pooled on its own, so `C` stays the same.

# %%
xt = torch.tensor(x4)
print("same as torch:", np.allclose(F.max_pool2d(xt, 2).numpy(), out_max),
      np.allclose(F.avg_pool2d(xt, 2).numpy(), out_avg))

x3 = rng.normal(size=(2, 3, 4, 4))                   # 2 images, 3 channels
pooled = numpy_ops.max_pool2d(x3, 2)
one_by_one = np.stack([numpy_ops.max_pool2d(x3[:, [c]], 2)[:, 0] for c in range(3)], axis=1)
print(x3.shape, "->", pooled.shape, "| pooling each channel alone gives the same:",
      np.array_equal(pooled, one_by_one))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Stride and output size
#
# A pooling window moves by `stride` pixels. The output size follows the same formula as a
# convolution's (lesson 2), here without dilation:
#
#     OH = floor((H + 2*padding - KH) / stride) + 1        (the same for OW)
#
# The one difference is the **default stride: `stride=None` means `stride=kernel_size`**, so
# the windows tile the map without overlapping, and a 2×2 pooling halves height and width.
# Pooling can be padded too (by at most half the window; max pooling pads with `-inf`, so a
# padded value never wins). `pool_output_size` in `cnncourse.shapes` computes the formula:

# %%
for H, k, s in [(28, 2, None), (27, 2, None), (28, 3, 2), (13, 3, 2), (28, 2, 1)]:
    print(f"H = {H}, kernel_size = {k}, stride = {s}: OH = {pool_output_size(H, k, s)}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# A 27-pixel side with 2×2 windows gives 13: the last row and column fit in no window and are
# dropped. With `kernel_size=3, stride=2` (used in AlexNet and ResNet) neighbouring windows
# overlap by one row or column. Both cases on a 7×7 map:

# %%
grid = np.arange(49.0).reshape(7, 7)
fig, axes = plt.subplots(1, 4, figsize=(10, 2.9), width_ratios=[7, 3.5, 7, 3.5])
show_pooling(grid, numpy_ops.max_pool2d(grid[None, None], 2)[0, 0], 2, axes=axes[:2])
show_pooling(grid, numpy_ops.max_pool2d(grid[None, None], 3, 2)[0, 0], 3, 2, axes=axes[2:])
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Predict before you run
#
# `x` has shape `(8, 16, 28, 28)` (8 images, 16 channels). What is the shape of
# `max_pool2d(x, kernel_size=2)`? Write it as a tuple.

# %% nbgrader={"solution": true, "grade_id": "q03_pool_shape-solution"} slideshow={"slide_type": "skip"}
# your prediction, a tuple of four ints (N, C, OH, OW):
### BEGIN SOLUTION
q03_pool_shape = (8, 16, 14, 14)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "q03_pool_shape", "points": 1} slideshow={"slide_type": "skip"}
check_prediction("q03_pool_shape", q03_pool_shape)

# %% slideshow={"slide_type": "fragment"}
print(numpy_ops.max_pool2d(np.zeros((8, 16, 28, 28)), kernel_size=2).shape)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Pooling a real feature map: what is kept, what is thrown away
#
# Take an MNIST test digit, find its vertical and horizontal edges with the Sobel kernels of
# lesson 2, apply ReLU, and pool the result three times, with max and with average pooling.

# %%
digits, labels = load_mnist("test")
images = (digits / 255.0)[:, None]                   # (2000, 1, 28, 28) floats in [0, 1]
sobel = kernel_bank(["sobel_x", "sobel_y"], dtype=np.float64)   # (2, 1, 3, 3)
fmap = numpy_ops.relu(numpy_ops.conv2d(images[:1], sobel))      # (1, 2, 26, 26)

maxed, averaged = [fmap], [fmap]
for _ in range(3):
    maxed.append(numpy_ops.max_pool2d(maxed[-1], 2))
    averaged.append(numpy_ops.avg_pool2d(averaged[-1], 2))
print("digit:", labels[0], "| sizes:", [m.shape[-1] for m in maxed])
for name, maps in (("max", maxed), ("avg", averaged)):
    print(f"{name} pooling, largest value per step:", ", ".join(f"{m.max():.2f}" for m in maps))

# %%
fig, axes = plt.subplots(2, 4, figsize=(8, 4.4))
show_feature_maps([m[0, 0] for m in maxed], axes=axes[0],
                  titles=[f"max pool x{k}: {m.shape[-1]}x{m.shape[-1]}" for k, m in enumerate(maxed)])
show_feature_maps([m[0, 0] for m in averaged], axes=axes[1],
                  titles=[f"avg pool x{k}: {m.shape[-1]}x{m.shape[-1]}" for k, m in enumerate(averaged)])
for ax in axes.ravel():                              # one gray scale for all: 0 to the map's max
    ax.images[0].set_clim(0, fmap[0, 0].max())
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The vertical-edge channel (`sobel_x` + ReLU) above: after three max poolings the 3×3 map
# still says "there is a strong vertical edge here, and here". Max pooling **keeps the strongest
# response** in each window, so a thin edge survives at full strength and even grows thicker.
# Average pooling **keeps the mean**: a 1-pixel edge in a 2×2 window is diluted by the zeros
# around it, so its largest value drops at every step (the printed numbers), and the map blurs.
# That is why max pooling is the usual choice after edge- or pattern-detecting layers: the
# question "is the pattern somewhere in this window?" is answered by the maximum.
#
# What both throw away is **where** in the window the value was. Rotate the values inside every
# 2×2 window of the grid from section 1: the input changes, the pooled output does not.

# %%
moved = x.copy()
for i in (0, 2):
    for j in (0, 2):
        moved[i:i + 2, j:j + 2] = np.rot90(x[i:i + 2, j:j + 2])   # same values, new places
print(moved)
print("same max pooling:", np.array_equal(numpy_ops.max_pool2d(moved[None, None], 2), out_max))
print("same average pooling:", np.array_equal(numpy_ops.avg_pool2d(moved[None, None], 2), out_avg))

# %% [markdown] slideshow={"slide_type": "subslide"}
# Max pooling also throws away the other three values of each window: 75% of the numbers are
# gone after a 2×2 pooling. Two 2×2 poolings in a row are one pooling with a bigger window: for max
# pooling, exactly a 4×4 max pooling (the maximum of maxima).

# %%
twice = numpy_ops.max_pool2d(numpy_ops.max_pool2d(fmap, 2), 2)
print(twice.shape, "equal to one 4x4 max pooling:",
      np.array_equal(twice, numpy_ops.max_pool2d(fmap, 4)))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Global pooling: one number per channel
#
# Pool with a window as large as the whole map and each channel becomes a single number: global
# average pooling is the channel's mean, global max pooling its maximum. `adaptive_avg_pool2d(x,
# output_size)` picks the windows for you so that the output has `output_size`, whatever the
# input size; with `output_size=1` it is global average pooling.

# %%
g_avg = numpy_ops.adaptive_avg_pool2d(fmap, 1)
g_max = numpy_ops.max_pool2d(fmap, kernel_size=fmap.shape[2:])
print(fmap.shape, "->", g_avg.shape)
print("= the mean of each channel:", np.allclose(g_avg[:, :, 0, 0], fmap.mean(axis=(2, 3))))
print("= the maximum of each channel:", np.array_equal(g_max[:, :, 0, 0], fmap.max(axis=(2, 3))))
print("same as torch:", np.allclose(F.adaptive_avg_pool2d(torch.tensor(fmap), 1).numpy(), g_avg))
print("vertical-edge mean {:.3f}, horizontal-edge mean {:.3f}".format(*g_avg[0, :, 0, 0]))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The output size no longer depends on the input size. Pad the digit to 40×40 or crop it to
# 20×20: the feature maps change size, the globally pooled output is still `(1, 2, 1, 1)`. This
# is why most modern CNNs (ResNet, for example) end with global average pooling before the final
# dense layer: the same network then accepts images of any size.

# %%
for image in (np.pad(images[:1], ((0, 0), (0, 0), (6, 6), (6, 6))), images[:1, :, 4:24, 4:24]):
    maps = numpy_ops.relu(numpy_ops.conv2d(image, sobel))
    print("input", image.shape, "-> feature maps", maps.shape, "-> global pool",
          numpy_ops.adaptive_avg_pool2d(maps, 1).shape)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Global pooling keeps *what* (how much of each feature there is) and throws away *where*
# entirely: shuffle all pixels of the feature map at random and the result is the same.

# %%
shuffled = rng.permutation(fmap.reshape(2, -1), axis=1).reshape(fmap.shape)
print("shuffled pixels, same global average:",
      np.allclose(numpy_ops.adaptive_avg_pool2d(shuffled, 1), g_avg))


# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Small shifts: measured on 1,000 digits
#
# A handwritten digit is rarely in exactly the same place twice. Move a digit one pixel to the
# right (zeros come in on the left) and compare every stage before and after the shift. We
# measure the change of a map `m` that becomes `m'` by
#
#     relative change = ||m' - m|| / ||m||        (L2 norms over the whole map)
#
# 0 means unchanged; 1 means the change is as large as the map itself.

# %%
def shift_right(images, pixels):
    # Move (N, C, H, W) images `pixels` columns to the right; zeros come in on the left.
    shifted = np.zeros_like(images)
    shifted[..., pixels:] = images[..., :-pixels]
    return shifted


def stages(images):
    # Every representation we compare, for a batch of (N, 1, 28, 28) digits.
    maps = numpy_ops.relu(numpy_ops.conv2d(images, sobel))
    max2 = numpy_ops.max_pool2d(maps, 2)
    return {"pixels": images,
            "conv + ReLU": maps,
            "+ 2x2 max pool": max2,
            "+ 2x2 avg pool": numpy_ops.avg_pool2d(maps, 2),
            "+ 2x2 max pool twice": numpy_ops.max_pool2d(max2, 2),
            "+ global avg pool": numpy_ops.adaptive_avg_pool2d(maps, 1)}


one, moved_one = stages(images[:1]), stages(shift_right(images[:1], 1))
show_shift_comparison({name: (one[name][0, 0], moved_one[name][0, 0])
                       for name in ("pixels", "conv + ReLU", "+ 2x2 max pool",
                                    "+ 2x2 max pool twice")})
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Each row: the map before the shift, after it, and the difference (yellow = grew, dark blue =
# shrank), titled with the relative change. The raw pixels and the edge map change a lot after a
# one-pixel move, because thin strokes and edges land on new pixels. After max pooling, an edge
# that moves but stays inside its window produces the same output, so the change is smaller;
# after two poolings smaller still. One digit is an anecdote; here are 1,000, shifted by 1 to 4
# pixels:

# %%
batch = images[:1000]
before = stages(batch)
shifts = [1, 2, 3, 4]
changes = {name: np.zeros((len(batch), len(shifts))) for name in before}
for k, pixels in enumerate(shifts):
    after = stages(shift_right(batch, pixels))
    for name in before:
        changes[name][:, k] = relative_change(before[name], after[name], axis=(1, 2, 3))

print("mean relative change for a shift of", shifts, "pixels")
for name, values in changes.items():
    print(f"{name:>22}: " + "  ".join(f"{v:.3f}" for v in values.mean(axis=0)))
fewer = (changes["+ 2x2 max pool"][:, 0] < changes["conv + ReLU"][:, 0]).mean()
print(f"a 1-pixel shift changes the max-pooled map less than the unpooled one for {fewer:.1%} of the digits")

# %%
plot_shift_robustness(shifts, changes)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The lines are means over the 1,000 digits; the bands hold the middle half of them. What the
# numbers say:
#
# - **Pooling reduces the effect of a small shift; it does not remove it.** For a 1-pixel shift
#   the edge maps change by about 0.73, by 0.54 after one 2×2 max pooling and by 0.36 after two.
# - **The benefit fades for shifts larger than the window.** A 2-pixel shift moves the 13×13
#   map of a 2×2 pooling by one whole cell: its change rises to 0.89, and at 3 and 4 pixels the
#   pooled map changes almost as much as the unpooled one (1.11 against 1.25, 1.21 against 1.29).
#   Two poolings (4×4 windows) still help clearly at 2 and 3 pixels.
# - **Max pooling helps more than average pooling**, which is linear and only blurs the map.
# - **Global average pooling hardly changes at all** (below 0.02 here; only pixels that cross
#   the border count) — but it has also thrown away where every feature was.
#
# So a CNN becomes *less sensitive* to small shifts by stacking convolution and pooling, with the
# tolerance growing layer by layer, not *invariant* to them. (Networks trained on shifted copies of
# their images, *data augmentation*, learn the rest.)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Pooling versus strided convolution
#
# A convolution with stride 2 also halves a map. Which should a network use?

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Predict before you run
#
# How many trainable parameters does a 2×2 max-pooling layer have?

# %% nbgrader={"solution": true, "grade_id": "q03_pool_params-solution"} slideshow={"slide_type": "skip"}
# your prediction, an int:
### BEGIN SOLUTION
q03_pool_params = 0
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "q03_pool_params", "points": 1} slideshow={"slide_type": "skip"}
check_prediction("q03_pool_params", q03_pool_params)

# %% slideshow={"slide_type": "fragment"}
weight = rng.normal(size=(2, 2, 2, 2))               # (F, C, KH, KW): 2 -> 2 channels
bias = np.zeros(2)
strided = numpy_ops.conv2d(fmap, weight, bias, stride=2)
print("2x2 max pooling:       ", numpy_ops.max_pool2d(fmap, 2).shape, "| parameters: 0")
print("2x2 conv with stride 2:", strided.shape, "| parameters:", weight.size + bias.size)
print("a 3x3 conv, stride 2, 64 -> 64 channels:", 64 * 64 * 3 * 3 + 64, "parameters")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Same output size, same formula. The differences are in what each computes:
#
# - **Average pooling is a strided convolution** with fixed weights `1/(KH*KW)`, one filter per
#   channel that looks at that channel only (`groups=C` in `conv2d`).
# - **Max pooling is not a convolution at all**: a convolution is linear,
#   `conv(a + b) = conv(a) + conv(b)`, and a maximum is not, so no choice of weights reproduces it.

# %%
box = np.full((2, 1, 2, 2), 1 / 4)                   # one 2x2 averaging filter per channel
as_conv = numpy_ops.conv2d(fmap, box, stride=2, groups=2)
print("avg pooling == depthwise conv with weights 1/4:",
      np.allclose(as_conv, numpy_ops.avg_pool2d(fmap, 2)))

a, b = rng.normal(size=(2, 1, 1, 4, 4))
print("conv(a + b) == conv(a) + conv(b):", np.allclose(
    numpy_ops.conv2d(a + b, weight[:1, :1], stride=2),
    numpy_ops.conv2d(a, weight[:1, :1], stride=2) + numpy_ops.conv2d(b, weight[:1, :1], stride=2)))
print("max_pool(a + b) == max_pool(a) + max_pool(b):", np.allclose(
    numpy_ops.max_pool2d(a + b, 2), numpy_ops.max_pool2d(a, 2) + numpy_ops.max_pool2d(b, 2)))

# %% [markdown] slideshow={"slide_type": "subslide"}
# How close can a learned strided convolution get? Fit the best 2×2, stride-2 filter (4 weights
# and a bias) by least squares to reproduce each pooling on the edge maps of 500 digits:

# %%
maps = before["conv + ReLU"][:500]                       # (500, 2, 26, 26)
N, C, H, W = maps.shape
windows = maps.reshape(N, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(-1, 4)
design = np.column_stack([windows, np.ones(len(windows))])   # 4 pixels and a 1 for the bias
for name, target in (("average pooling", windows.mean(axis=1)), ("max pooling", windows.max(axis=1))):
    coef = np.linalg.lstsq(design, target, rcond=None)[0]
    error = relative_change(target, design @ coef)
    print(f"{name:>15}: weights {np.round(coef[:4], 2) + 0.0}, bias {round(coef[4], 2) + 0.0:.2f}, "
          f"relative error {error:.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The best filter reproduces average pooling exactly (weights 1/4) and misses max pooling by
# about a quarter of its size. In exchange a strided convolution can learn what pooling cannot:
# its weights are trained to keep whatever the task needs, and it mixes channels. It costs
# parameters and computation, pooling costs neither.
#
# |                  | max / average pooling                      | strided convolution              |
# |------------------|--------------------------------------------|----------------------------------|
# | output size      | `floor((H + 2*padding - KH) / stride) + 1` | the same                         |
# | parameters       | 0                                          | `F * C * KH * KW + F`            |
# | channels         | each pooled alone (`C` kept)               | mixed; any number `F` of outputs |
# | what it computes | fixed: max (non-linear) or mean            | learned, linear (ReLU follows)   |
#
# Both are in use: VGG halves its maps with 2×2 max pooling; the "all-convolutional net"
# (Springenberg et al., 2015) replaced every pooling with a strided convolution at no loss in
# accuracy; ResNet uses one max pooling, then stride-2 convolutions, and global average pooling
# at the end.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The backward pass
#
# To train a CNN, the gradient of the loss flows backwards through every layer (lesson 2,
# section 10). A pooling layer has no weights, so its backward pass only computes `grad_x` from
# `grad_out` (the gradient with respect to its output).
#
# - **Max pooling**: `out[i, j]` equals one input, the arg-max of its window. Nudging that input
#   moves the output by the same amount; nudging any other input of the window changes nothing.
#   So the arg-max receives `grad_out[i, j]` and the others 0: **the gradient is routed to the
#   arg-max**.
# - **Average pooling**: `out[i, j] = (x_1 + ... + x_K) / K` with `K = KH*KW`, so every input of
#   the window receives `grad_out[i, j] / K`: **the gradient is spread evenly**.
#
# Give each output a different gradient to see where each one goes:

# %%
grad_out = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]
grad_max = numpy_ops.max_pool2d_backward(grad_out, x4, 2)
grad_avg = numpy_ops.avg_pool2d_backward(grad_out, x4, 2)

fig, axes = plt.subplots(1, 4, figsize=(10, 2.9), width_ratios=[4, 2.5, 4, 4])
show_pooling(x, out_max[0, 0], 2, axes=axes[:2], mark_argmax=True)
show_grad_routing(x, grad_max[0, 0], 2, ax=axes[2])
show_grad_routing(x, grad_avg[0, 0], 2, ax=axes[3], fmt="{:.2f}")
axes[1].set_title("max pooling", fontsize=9)
axes[2].set_title("max pooling: grad_x", fontsize=9)
axes[3].set_title("average pooling: grad_x", fontsize=9)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# With max pooling, 3 of the 4 pixels of each window get no gradient at all: during training,
# only the activations that won the maximum pass a gradient back to the layers below them.
#
# Check both backward passes the way every gradient in the course is checked (lesson 2): against
# finite differences. `check_gradient(f, x, analytic, grad_out)` nudges each input by ±`h`,
# watches `sum(f(x) * grad_out)` move, and raises an error naming the worst element if that
# disagrees with `analytic` beyond a tolerance that absorbs the rounding noise of finite
# differences. Use random values (no ties) and overlapping 3×3 windows with stride 2, on 2
# images with 3 channels; then compare with PyTorch's autograd.

# %%
x_check = rng.normal(size=(2, 3, 7, 7))
g_check = rng.normal(size=(2, 3, 3, 3))               # OH = floor((7 - 3) / 2) + 1 = 3
xt = torch.tensor(x_check, requires_grad=True)
for name, forward, backward, torch_pool in (
        ("max_pool2d", numpy_ops.max_pool2d, numpy_ops.max_pool2d_backward, F.max_pool2d),
        ("avg_pool2d", numpy_ops.avg_pool2d, numpy_ops.avg_pool2d_backward, F.avg_pool2d)):
    analytic = backward(g_check, x_check, 3, 2)
    check_gradient(lambda x: forward(x, 3, 2), x_check, analytic, g_check)   # raises if wrong
    (torch_grad,) = torch.autograd.grad(torch_pool(xt, 3, 2), xt, torch.tensor(g_check))
    print(f"{name}_backward: agrees with finite differences; "
          f"same as autograd: {np.allclose(analytic, torch_grad.numpy())}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Two details that the exercise at the end checks:
#
# - **Overlapping windows add up.** When a pixel is the maximum of several windows, it receives
#   the gradient of each. A single bright pixel in the middle of a 5×5 map, 3×3 windows with
#   stride 1: all 9 windows pick it, so its gradient is 9.
# - **Ties.** When a window holds its maximum twice, the maximum has a kink: nudging either copy
#   up raises the output, nudging it down does not lower it. Finite differences then give each copy
#   one half; PyTorch (and `numpy_ops`) give the whole gradient to the first maximum in row-major
#   order. Both are valid choices (subgradients); the course follows PyTorch.

# %%
peak = np.zeros((1, 1, 5, 5))
peak[0, 0, 2, 2] = 1.0
grad_peak = numpy_ops.max_pool2d_backward(np.ones((1, 1, 3, 3)), peak, 3, stride=1)
print("gradient of the bright pixel:", grad_peak[0, 0, 2, 2])

tie = np.array([[[[1.0, 1.0], [0.0, 0.0]]]])
print("analytic (first maximum):\n", numpy_ops.max_pool2d_backward(np.ones((1, 1, 1, 1)), tie, 2)[0, 0])
numeric = numerical_gradient(lambda x: numpy_ops.max_pool2d(x, 2), tie)
print("finite differences:\n", np.round(numeric[0, 0], 6) + 0.0)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. The pooling explorer
#
# Pool real feature maps: the edges (Sobel + ReLU) of MNIST test digits, and the edges (`edge`
# kernel + ReLU) of the cameraman photo shrunk to 48×48. Choose max or average pooling, the kernel size and the stride; the
# sliders `output row` and `output col` pick one output value, whose window is outlined in orange
# (with a dot on its maximum). Above the figure: the output-size formula with your numbers. Try:
#
# - `kernel_size` 2, `stride` 2, then switch between `max` and `avg`: the thin edges stay bright
#   with max pooling and fade with average pooling;
# - `stride` 1: the windows overlap and the output is almost as large as the input;
# - `stride` larger than `kernel_size`: some pixels fall between the windows and are never looked
#   at;
# - `kernel_size` 6 on the digits: the map shrinks to 4×4 (with stride 6) and the digit is no
#   longer recognisable — but "a vertical edge on the left" still is.

# %%
pool_explorer()


# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - Pooling replaces each window of a feature map by its maximum (max pooling) or mean (average
#   pooling), channel by channel; it has **no parameters**.
# - Output size: `floor((H + 2*padding - KH) / stride) + 1`; the default stride equals the
#   kernel size, so 2×2 pooling halves height and width.
# - Max pooling keeps the strongest response in each window; average pooling keeps the mean and
#   dilutes thin features. Both throw away where in the window a value was.
# - Global pooling (`adaptive_avg_pool2d(x, 1)`) gives one number per channel whatever the input
#   size: it keeps *what*, not *where*.
# - Pooling makes feature maps less sensitive to shifts smaller than its window (measured: the
#   change for a 1-pixel shift fell from about 0.73 to 0.54 with one 2×2 max pooling and 0.36 with
#   two); it does not make them invariant.
# - A strided convolution also downsamples, with learned weights and parameters; average pooling
#   is a special case of it, max pooling is not.
# - Backward: max pooling routes each gradient to the arg-max of its window (the first one on a
#   tie; overlapping windows add up); average pooling spreads it evenly, `grad_out / (KH*KW)`.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# In each exercise cell, replace the line `raise NotImplementedError(...)` with your code, run
# the cell, then run the `check` cell under it. The check tries your function on many inputs: it
# shows ✓ when all of them pass, "not done yet" while the line is still there, and otherwise the
# likely mistake, the smallest input on which your function fails, and what to look at. A check
# never stops the notebook: Run All always reaches the end. Use NumPy only — not `numpy_ops` or
# `torch`. Kernel size and stride are ints; the windows are square.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 (easy): max pooling
#
# Write `max_pool2d(x, kernel_size, stride=None)` for `x` of shape `(N, C, H, W)`, without
# padding. `stride=None` means `stride=kernel_size`. Return an `(N, C, OH, OW)` array with `x`'s
# dtype (section 2 has the formula for `OH`). A loop over the output positions `(i, j)` can pool
# all images and channels at once with `.max(axis=(2, 3))`.

# %% nbgrader={"solution": true, "grade_id": "max_pool2d-solution"} slideshow={"slide_type": "skip"}
def max_pool2d(x, kernel_size, stride=None):
    """2-D max pooling: out[n, c, i, j] = max of x[n, c, i*stride : i*stride + kernel_size,
                                                         j*stride : j*stride + kernel_size].

    Args:
        x: (N, C, H, W) float array.
        kernel_size: the window's height and width, an int.
        stride: an int. Default: None, meaning kernel_size.

    Shape:
        (N, C, H, W) -> (N, C, OH, OW), OH = floor((H - kernel_size) / stride) + 1

    Returns:
        (N, C, OH, OW) array of x.dtype.
    """
    ### BEGIN SOLUTION
    if stride is None:
        stride = kernel_size
    N, C, H, W = x.shape
    OH = (H - kernel_size) // stride + 1
    OW = (W - kernel_size) // stride + 1
    out = np.zeros((N, C, OH, OW), dtype=x.dtype)
    for i in range(OH):
        for j in range(OW):
            top, left = i * stride, j * stride
            window = x[:, :, top:top + kernel_size, left:left + kernel_size]   # (N, C, k, k)
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "max_pool2d", "points": 2} slideshow={"slide_type": "skip"}
check("max_pool2d", max_pool2d)


# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 (medium): average pooling, with padding
#
# Write `avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True)`. `padding`
# zeros are added on each side of `H` and `W`. With `count_include_pad=True` (the default, as in
# PyTorch) every window's sum is divided by `kernel_size**2`, padded zeros included; with
# `count_include_pad=False` it is divided by the number of *real* pixels in the window, which is
# smaller at the border. Hint: pad a map of ones the same way and sum it over the window.

# %% nbgrader={"solution": true, "grade_id": "avg_pool2d-solution"} slideshow={"slide_type": "skip"}
def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """2-D average pooling: out[n, c, i, j] = sum of the window of x_padded / divisor.

    divisor = kernel_size**2 if count_include_pad, else the number of real (not padded)
    pixels in the window.

    Args:
        x: (N, C, H, W) float array.
        kernel_size: an int.
        stride: an int. Default: None, meaning kernel_size.
        padding: zeros added on each side, an int. Default: 0.
        count_include_pad: count the padded zeros in the divisor. Default: True.

    Shape:
        (N, C, H, W) -> (N, C, OH, OW), OH = floor((H + 2*padding - kernel_size) / stride) + 1

    Returns:
        (N, C, OH, OW) array of x.dtype.
    """
    ### BEGIN SOLUTION
    if stride is None:
        stride = kernel_size
    N, C, H, W = x.shape
    p = padding
    x_padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    real = np.pad(np.ones((H, W)), p)                 # 1 on real pixels, 0 on padding
    OH = (H + 2 * p - kernel_size) // stride + 1
    OW = (W + 2 * p - kernel_size) // stride + 1
    out = np.zeros((N, C, OH, OW), dtype=x.dtype)
    for i in range(OH):
        for j in range(OW):
            rows = slice(i * stride, i * stride + kernel_size)
            cols = slice(j * stride, j * stride + kernel_size)
            total = x_padded[:, :, rows, cols].sum(axis=(2, 3))
            divisor = kernel_size ** 2 if count_include_pad else real[rows, cols].sum()
            out[:, :, i, j] = total / divisor
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "avg_pool2d", "points": 2} slideshow={"slide_type": "skip"}
check("avg_pool2d", avg_pool2d)


# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 (hard): the backward pass of max pooling
#
# Write `max_pool2d_backward(grad_out, x, kernel_size, stride=None)`: `grad_out` has the shape of
# `max_pool2d(x, kernel_size, stride)`, the result `grad_x` has the shape and dtype of `x`. Each
# `grad_out[n, c, i, j]` goes to the position of the maximum of its window — the **first** maximum
# in row-major order on a tie (`np.argmax` on the window finds it; `np.unravel_index` turns it
# into a row and column) — and **adds** to what is there, because windows may overlap (section 7).

# %% nbgrader={"solution": true, "grade_id": "max_pool2d_backward-solution"} slideshow={"slide_type": "skip"}
def max_pool2d_backward(grad_out, x, kernel_size, stride=None):
    """Gradient of max_pool2d with respect to x: each grad_out[n, c, i, j] is added to the
    position of the (first) maximum of its window.

    Args:
        grad_out: (N, C, OH, OW) gradient with respect to max_pool2d's output.
        x: (N, C, H, W), the input given to max_pool2d.
        kernel_size: an int.
        stride: an int. Default: None, meaning kernel_size.

    Returns:
        grad_x, shape and dtype of x.
    """
    ### BEGIN SOLUTION
    if stride is None:
        stride = kernel_size
    grad_x = np.zeros_like(x)
    N, C, OH, OW = grad_out.shape
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    top, left = i * stride, j * stride
                    window = x[n, c, top:top + kernel_size, left:left + kernel_size]
                    u, v = np.unravel_index(np.argmax(window), window.shape)  # first maximum
                    grad_x[n, c, top + u, left + v] += grad_out[n, c, i, j]
    return grad_x
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "max_pool2d_backward", "points": 3} slideshow={"slide_type": "skip"}
check("max_pool2d_backward", max_pool2d_backward)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where next
#
# You now have every piece of a classic CNN block: convolution (lesson 2), an activation, and
# pooling. Later lessons stack these blocks into a complete network and train all its kernels
# with backward passes like the ones you have checked here.
