# %% [markdown] slideshow={"slide_type": "slide"}
# # Lesson 2 — Convolution
#
# A convolution slides a small grid of weights, the **kernel**, over an image and, at every
# position, multiplies the weights with the pixels under them and adds the products up. The
# numbers it produces form a new image, a **feature map**. Convolutional neural networks (CNNs)
# are built from this one operation; this lesson takes it apart.
#
# **You will learn**
# - to compute a convolution by hand, then as loops, then as one matrix product (im2col);
# - what hand-designed kernels (blur, sharpen, Sobel edges) do to a real photo, and why an
#   activation function (ReLU) follows;
# - how padding, stride and dilation change the output, and the output-size formula;
# - how convolution handles many input channels and many output channels, and what a 1×1
#   convolution is;
# - why a convolution layer has so few parameters compared with a dense layer;
# - that deep learning's "convolution" is really cross-correlation (no kernel flip);
# - how fast each implementation runs, and how gradient descent *learns* a kernel.
#
# **You need** lesson 1 (images as NumPy arrays, the `(N, C, H, W)` layout) and NumPy slicing.
#
# **Time**: about 45 minutes of reading and trying. The whole notebook runs in under a minute.
#
# **Exercises**: two *predict-before-you-run* questions along the way, and three functions to write
# at the end (`conv_output_size`, `correlate2d`, `conv2d`). Each is checked automatically: a
# wrong answer gets a message that names the likely mistake.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import timeit

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from scipy import signal
from skimage.color import rgb2gray

from cnncourse import numpy_ops, torch_ops
from cnncourse.checks import check, check_prediction
from cnncourse.data import sample_image
from cnncourse.kernels import KERNEL_NAMES, get_kernel, kernel_bank
from cnncourse.viz import (plot_speed_ladder, show_conv_window, show_feature_maps, show_image,
                           show_kernel)
from cnncourse.widgets import conv_explorer
from cnncourse.widgets.conv_explorer import size_formula

rng = np.random.default_rng(0)
torch.manual_seed(0)
plt.rcParams["figure.dpi"] = 72

# %% [markdown]
# Throughout, `numpy_ops` is the course's NumPy reference: its functions have the same names,
# arguments and `(N, C, H, W)` layout as `torch.nn.functional`. We always write the prefix
# (`numpy_ops.conv2d`), because at the end you will write your own `conv2d`.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. A kernel sliding over a grid, by hand
#
# Here is a 6×6 "image": dark on the left, bright on the right, with an edge between them that
# moves right further down. The 3×3 kernel `sobel_x` responds to brightness that increases from
# left to right.

# %%
grid = np.array([[1, 1, 1, 7, 7, 7],
                 [1, 1, 1, 7, 7, 7],
                 [1, 1, 1, 7, 7, 7],
                 [1, 1, 1, 1, 7, 7],
                 [1, 1, 1, 1, 7, 7],
                 [1, 1, 1, 1, 1, 7]], dtype=float)
kernel = get_kernel("sobel_x", dtype=float)
print(kernel)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Put the kernel on the top-left 3×3 window, multiply element by element, and add up. The window
# is flat (all ones), and `sobel_x`'s weights sum to zero, so the answer is 0:

# %%
window = grid[0:3, 0:3]
print("window * kernel =\n", window * kernel)
print("sum =", (window * kernel).sum())

# %% [markdown] slideshow={"slide_type": "subslide"}
# Move the window two columns to the right. Now it straddles the edge: the kernel's negative
# column sits on dark pixels, its positive column on bright ones, and the sum is large.

# %%
window = grid[0:3, 2:5]
print("window * kernel =\n", window * kernel)
print("sum =", (window * kernel).sum())

# %% [markdown] slideshow={"slide_type": "subslide"}
# Doing this at every position gives the feature map. With a 6×6 input and a 3×3 kernel the window
# fits in 4 positions along each axis (6 − 3 + 1 = 4), so the feature map is 4×4. Below, the
# orange outline is the window and the shaded cells are the pixels the kernel multiplies; the
# feature map is large exactly where the window straddles the edge, and it follows the edge as it
# moves right.

# %%
feature_map = numpy_ops.conv2d(grid[None, None], kernel[None, None])[0, 0]
fig, axes = plt.subplots(1, 4, figsize=(10, 2.8))
for ax, (row, col) in zip(axes, [(0, 0), (0, 2), (3, 3)]):
    show_conv_window(grid, row, col, kernel_size=3, ax=ax)
show_kernel(feature_map, ax=axes[3], title="feature map (4x4)")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# `conv2d` wants a batch of images with channels, `(N, C, H, W)`, and a bank of filters,
# `(F, C, KH, KW)`, so we added two axes with `[None, None]` and took them off again with
# `[0, 0]`. `numpy_ops.conv2d_naive` is the same computation written as the textbook loops.
# Run the next cell: `??` opens the function's source (its docstring, then its code) in a panel.

# %%
# numpy_ops.conv2d_naive??

# %% [markdown] slideshow={"slide_type": "subslide"}
# Four nested loops: over the images `n`, the filters `f` and the output positions `(oh, ow)`.
# Inside, `window` is the slice of the (padded) input under the kernel, and
# `(window * weight[f]).sum()` is the multiply-and-add you just did by hand — summed over the
# input channels too (section 4). It agrees with the fast version:

# %%
naive_map = numpy_ops.conv2d_naive(grid[None, None], kernel[None, None])[0, 0]
print("same as numpy_ops.conv2d:", np.allclose(naive_map, feature_map))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Hand-designed kernels on a real photo
#
# Before networks learned their kernels, people designed them. `cnncourse.kernels` has eight
# classics (`get_kernel(name)` returns one):

# %%
fig, axes = plt.subplots(2, 4, figsize=(8, 4.2))
for ax, name in zip(axes.ravel(), KERNEL_NAMES):
    show_kernel(get_kernel(name), ax=ax, title=name)
plt.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# `kernel_bank(names)` stacks them into one weight array of shape `(F, 1, 3, 3)`: eight filters
# for a one-channel image. One call of `conv2d` then makes eight feature maps of the camera man.
# (Each map is drawn with its own gray scale, from its 1st to its 99th percentile.)

# %%
camera = sample_image("camera").astype(np.float32) / 255    # (512, 512) in [0, 1]
x = camera[None, None]                                        # (N, C, H, W) = (1, 1, 512, 512)
weight = kernel_bank(KERNEL_NAMES)                            # (F, C, KH, KW) = (8, 1, 3, 3)
maps = numpy_ops.conv2d(x, weight)
print("x", x.shape, "-> maps", maps.shape)
show_feature_maps(maps, titles=KERNEL_NAMES, ncols=4, robust=True)
plt.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Blurs average neighbours, `sharpen` adds the image's edges back onto it, the two Sobel kernels
# find vertical and horizontal edges, and `laplacian` and `edge` find edges in every direction.
# Gray in the Sobel maps means 0; white and black are the two directions of an edge.
#
# On a flat region every window holds (nearly) the same value `v`, so the output is `v` times the
# sum of the weights: kernels that sum to one keep the brightness, kernels that sum to zero
# answer (almost) 0 — they only see change. Check it on a patch of the sky, whose brightness is
# about 0.80:

# %%
sky = maps[0, :, 20:60, 20:60]
for name, w, m in zip(KERNEL_NAMES, weight, sky):
    print(f"{name:9s} weights sum to {w.sum():5.2f}   mean |response| on the sky: {np.abs(m).mean():.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Then an activation function
#
# In a CNN each convolution is followed by a non-linear **activation function**, most often
# ReLU: `relu(z) = max(z, 0)`. Without it, a stack of convolutions would be one big convolution
# (a linear map). ReLU keeps the positive responses and sets the negative ones to zero. For
# `sobel_x` that means: it keeps dark-to-bright edges (left to right) and drops bright-to-dark
# ones, so a network needs the negated kernel too if it wants both.

# %%
sobel_map = maps[0, list(KERNEL_NAMES).index("sobel_x")]
kept = numpy_ops.relu(sobel_map)
# Pixels are multiples of 1/255 and the weights integers, so an edge responds with at least
# 1/255; flat regions give 0 up to float32 rounding (about 1e-7). Count with a tolerance between.
tol = 1e-6
edges = np.abs(sobel_map[np.abs(sobel_map) > tol])
print(f"smallest edge response: {edges.min():.4f} (1/255 = {1 / 255:.4f})")
print(f"negative, ReLU sets them to 0: {np.mean(sobel_map < -tol):.3f}")
print(f"zero (flat):                   {np.mean(np.abs(sobel_map) <= tol):.3f}")
print(f"positive, ReLU keeps them:     {np.mean(sobel_map > tol):.3f}")
show_feature_maps([sobel_map, kept, numpy_ops.relu(-sobel_map)],
                  titles=["sobel_x", "relu(sobel_x)", "relu(-sobel_x)"], ncols=3, robust=True)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The same kernel everywhere: a shifted input gives a shifted output
#
# The kernel is the same at every position, so moving the image moves the feature maps with it,
# by the same amount. Shift the cameraman 5 rows down and 12 columns right (zeros come in at the
# top and left) and compare all eight maps, away from the edge where the zeros came in:

# %%
shifted = np.zeros_like(camera)
shifted[5:, 12:] = camera[:-5, :-12]                         # 5 rows down, 12 columns right
maps_shifted = numpy_ops.conv2d(shifted[None, None], weight)  # (1, 8, 510, 510)
print("conv2d(shifted image) == conv2d(image), shifted:",
      np.allclose(maps_shifted[:, :, 5:, 12:], maps[:, :, :-5, :-12], atol=1e-6))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Padding, stride, dilation and the output size
#
# Three settings change where the windows go:
#
# - **padding** `p` adds `p` rows/columns of zeros on *each* side of the input, so windows can be
#   centred on the border pixels;
# - **stride** `s` moves the window `s` pixels at a time instead of 1: the output shrinks about
#   `s` times along each axis;
# - **dilation** `d` spreads the kernel's taps `d` pixels apart, so a 3×3 kernel covers a 5×5
#   area with `d = 2` — a wider view for the same 9 weights.
#
# On a plain white 7×7 input (the padding zeros are black, outside the dashed line), the window
# of output pixel (1, 1) in each setting:

# %%
small = np.ones((7, 7))
settings = [dict(), dict(padding=1), dict(stride=2), dict(dilation=2)]
fig, axes = plt.subplots(1, 4, figsize=(10, 2.9))
for ax, kw in zip(axes, settings):
    show_conv_window(small, 1, 1, kernel_size=3, ax=ax, show_values=False, **kw)
    OH = numpy_ops.conv_output_size(7, 3, **kw)
    name = ", ".join(f"{k}={v}" for k, v in kw.items()) or "no padding, stride 1"
    ax.set_title(f"{name}\n7x7 -> {OH}x{OH}", fontsize=9)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Counting window positions gives the **output-size formula** (the same along the height and the
# width):
#
#     OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1
#
# Read it as: the dilated kernel spans `dilation*(KH - 1) + 1` pixels; the padded input has
# `H + 2*padding`; the window can move `H + 2*padding - span` pixels, in steps of `stride`
# (floor: a last step that does not fit is dropped); `+ 1` counts the first position.
# `numpy_ops.conv_output_size` computes it, and `conv2d` really produces that shape:

# %%
for H, K, kw in [(7, 3, dict()), (7, 3, dict(padding=1)), (7, 3, dict(stride=2)),
                 (8, 3, dict(stride=2)), (7, 3, dict(dilation=2)), (28, 5, dict(padding=2))]:
    kw_full = dict(stride=1, padding=0, dilation=1) | kw
    OH = numpy_ops.conv_output_size(H, K, **kw)
    out = numpy_ops.conv2d(np.zeros((1, 1, H, H)), np.zeros((1, 1, K, K)), **kw)
    print(f"{size_formula(H, K, **kw_full):58s}  conv2d output: {out.shape[2]}x{out.shape[3]}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Two rules of thumb follow. With stride 1 and an odd kernel, `padding = (KH - 1) // 2` keeps the
# size (28 → 28 for a 5×5 kernel): this is `padding="same"`. With 8 pixels, a 3×3 kernel and
# stride 2 the windows start at columns 0, 2, 4; a fourth would start at column 6 and need
# columns 6, 7 and 8, but column 8 does not exist, so that window is dropped (the floor in the formula) and the output is 3, not 4.
#
# When the kernel does not fit at all, the error spells out the formula:

# %%
try:
    numpy_ops.conv_output_size(4, 3, dilation=2)
except ValueError as err:
    print("ValueError:", err)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Many channels in, many channels out
#
# A colour image has three channels, so a batch of them has shape `(N, 3, H, W)`. A filter then
# has one 3×3 kernel *per input channel*: its weight has shape `(C, KH, KW)`, and its output at
# each position is the sum over all channels of kernel × window, plus one bias:
#
#     out[n, f, i, j] = bias[f] + sum over c, u, v of weight[f, c, u, v] * x[n, c, i + u, j + v]
#
# So **the depth of each filter equals the number of input channels**, and each filter makes one
# output channel. A bank of `F` filters has shape `(F, C, KH, KW)` and makes `F` feature maps.
# Here are three filters on the astronaut photo: `sobel_x` on the mean of the three channels, a
# blur of the red channel only, and "red minus blue" (a colour detector).

# %%
astronaut = sample_image("astronaut").astype(np.float32) / 255   # (512, 512, 3), channels last
x_rgb = astronaut.transpose(2, 0, 1)[None]                        # (1, 3, 512, 512), channels first
zero, blur = np.zeros((3, 3), np.float32), get_kernel("box_blur")
centre = get_kernel("identity")
weight_rgb = np.stack([
    np.stack([get_kernel("sobel_x") / 3] * 3),   # filter 0: edges of the mean of R, G, B
    np.stack([blur, zero, zero]),                # filter 1: blurred red channel
    np.stack([centre, zero, -centre]),           # filter 2: red minus blue
])
bias_rgb = np.array([0.0, 0.0, 0.1], dtype=np.float32)
print("x:", x_rgb.shape, " weight:", weight_rgb.shape, " bias:", bias_rgb.shape)
maps_rgb = numpy_ops.conv2d(x_rgb, weight_rgb, bias_rgb, padding=1)
print("output:", maps_rgb.shape)
fig, axes = plt.subplots(1, 4, figsize=(10, 2.8))
show_image(astronaut, ax=axes[0], title="input (3 channels)")
show_feature_maps(maps_rgb, titles=["sobel_x on mean", "blurred red", "red - blue + 0.1"],
                  axes=axes[1:], robust=True)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The formula says each output channel is a sum of one-channel convolutions, one per input
# channel, plus the bias. Check it for filter 2:

# %%
per_channel = sum(numpy_ops.conv2d(x_rgb[:, c:c + 1], weight_rgb[2:3, c:c + 1], padding=1)
                  for c in range(3))
print("sum over channels + bias == conv2d:",
      np.allclose(per_channel[0, 0] + bias_rgb[2], maps_rgb[0, 2], atol=1e-6))

# %% [markdown] slideshow={"slide_type": "subslide"}
# A filter whose depth does not match the input is an error, in `numpy_ops` and in PyTorch (whose
# message is terser). Applying the one-channel Sobel bank
# from section 2 to the colour image:

# %%
try:
    numpy_ops.conv2d(x_rgb, kernel_bank(["sobel_x"]))
except ValueError as err:
    print("ValueError:", err)
try:
    F.conv2d(torch.from_numpy(x_rgb), torch.from_numpy(kernel_bank(["sobel_x"])))
except RuntimeError as err:
    print("RuntimeError:", err)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Now put the formula and the channel rule together.
#
# **Predict before you run.** `x` has shape `(8, 3, 32, 32)` and `weight` has shape
# `(16, 3, 5, 5)`. What is the shape of `conv2d(x, weight)` (stride 1, no padding)? Write it as a
# tuple of four ints, then run the check.

# %% nbgrader={"solution": true, "grade_id": "q02_output_shape-solution"} slideshow={"slide_type": "skip"}
# your prediction, a tuple of four ints (N, F, OH, OW):
### BEGIN SOLUTION
q02_output_shape = (8, 16, 28, 28)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "q02_output_shape", "points": 1} slideshow={"slide_type": "skip"}
check_prediction("q02_output_shape", q02_output_shape);

# %% slideshow={"slide_type": "fragment"}
x_batch, weight_bank = np.zeros((8, 3, 32, 32)), np.zeros((16, 3, 5, 5))
print("conv2d(x, weight):", numpy_ops.conv2d(x_batch, weight_bank).shape)
print("with stride=2, padding=2:", numpy_ops.conv2d(x_batch, weight_bank, stride=2, padding=2).shape)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The batch size stays, the channels become the number of filters, and each side follows the
# formula: 32 − 5 + 1 = 28, or `floor((32 + 4 - 4 - 1) / 2) + 1 = 16` with stride 2 and padding 2.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. 1×1 convolutions
#
# A 1×1 kernel sees a single pixel, but through all its channels: output channel `f` at pixel
# `(i, j)` is `sum over c of weight[f, c] * x[c, i, j]`. It mixes channels without looking at
# neighbours — the same small dense layer applied to every pixel. Networks use it to change the
# number of channels cheaply. A familiar one: converting colour to gray is a 1×1 convolution
# with three weights (scikit-image's `rgb2gray` uses 0.2125, 0.7154, 0.0721).

# %%
to_gray = np.array([0.2125, 0.7154, 0.0721], dtype=np.float32).reshape(1, 3, 1, 1)   # (F=1, C=3, 1, 1)
gray = numpy_ops.conv2d(x_rgb, to_gray)
print("x", x_rgb.shape, "-> gray", gray.shape)
print("same as skimage's rgb2gray:", np.allclose(gray[0, 0], rgb2gray(astronaut), atol=1e-5))
as_matmul = np.einsum("fc,nchw->nfhw", to_gray[:, :, 0, 0], x_rgb)
print("same as a matrix product over the channels at every pixel:", np.allclose(gray, as_matmul))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Parameters: convolution versus a dense layer
#
# A convolution layer with `C` input channels and `F` filters of size `KH×KW` has
# `F*C*KH*KW` weights and `F` biases — and that number does not depend on the image size,
# because the same filter is used at every position (**weight sharing**). Each output also looks
# only at a small window (**local connectivity**).
#
# **Predict before you run.** How many parameters (weights + biases) does a convolution layer
# with 16 filters of size 5×5 over 3 input channels have?

# %% nbgrader={"solution": true, "grade_id": "q02_params-solution"} slideshow={"slide_type": "skip"}
# your prediction, an int:
### BEGIN SOLUTION
q02_params = 16 * 3 * 5 * 5 + 16
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "q02_params", "points": 1} slideshow={"slide_type": "skip"}
check_prediction("q02_params", q02_params);

# %% slideshow={"slide_type": "fragment"}
layer = torch.nn.Conv2d(3, 16, kernel_size=5)
print("weight", tuple(layer.weight.shape), "bias", tuple(layer.bias.shape))
print("parameters:", sum(p.numel() for p in layer.parameters()))

# %% [markdown] slideshow={"slide_type": "subslide"}
# Compare a dense (fully connected) layer that maps the same input to an output of the same
# size, `(16, OH, OW)`: every output value is connected to every input value, with its own weight.

# %%
for H in [32, 224]:
    OH = numpy_ops.conv_output_size(H, 5)
    conv_params = 16 * 3 * 5 * 5 + 16
    dense_params = (3 * H * H) * (16 * OH * OH) + 16 * OH * OH
    print(f"{H}x{H} RGB input: conv {conv_params:,} parameters, dense {dense_params:,} "
          f"({dense_params / conv_params:,.0f} times more)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Cross-correlation or convolution? The flip
#
# In mathematics and signal processing, *convolution* flips the kernel before sliding it:
#
#     convolution:        out[i, j] = sum over u, v of image[i - u, j - v] * kernel[u, v]
#     cross-correlation:  out[i, j] = sum over u, v of image[i + u, j + v] * kernel[u, v]
#
# What we have computed so far — and what PyTorch, TensorFlow and every deep-learning library
# call "convolution" — is **cross-correlation**: no flip. SciPy has both, so we can check:

# %%
patch = camera[200:232, 200:232].astype(np.float64)
k = get_kernel("sobel_x", dtype=np.float64)
ours = numpy_ops.conv2d(patch[None, None], k[None, None])[0, 0]
torch_out = F.conv2d(torch.from_numpy(patch)[None, None], torch.from_numpy(k)[None, None])[0, 0]
print("conv2d == torch conv2d           :", np.allclose(ours, torch_out.numpy()))
print("conv2d == scipy correlate2d      :", np.allclose(ours, signal.correlate2d(patch, k, mode="valid")))
print("conv2d == scipy convolve2d       :", np.allclose(ours, signal.convolve2d(patch, k, mode="valid")))
print("conv2d == convolve2d, flipped k  :", np.allclose(ours, signal.convolve2d(patch, np.flip(k), mode="valid")))
print("convolve2d == -conv2d for sobel_x:", np.allclose(-ours, signal.convolve2d(patch, k, mode="valid")))
g = get_kernel("gaussian", dtype=np.float64)
print("no difference for the symmetric gaussian:",
      np.allclose(signal.convolve2d(patch, g, mode="valid"), signal.correlate2d(patch, g, mode="valid")))

# %% [markdown] slideshow={"slide_type": "subslide"}
# Flipping `sobel_x` left-right and upside-down gives `-sobel_x`, so true convolution finds the
# same edges with the opposite sign. For a network it makes no difference which one it
# computes: the kernels are learned, and a learned kernel simply comes out flipped. Libraries
# skip the flip because it costs work and buys nothing. (The mathematical convolution has nicer
# algebra — it is commutative and associative — which is why textbooks start from it.)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Convolution as one matrix product (im2col)
#
# Each output value is a dot product between a flattened filter and a flattened window. Copy
# every window into one column of a matrix (**im2col**, "image to columns") and all the dot
# products become one matrix product. For the 6×6 grid of section 1: 16 windows of 9 pixels.

# %%
cols = numpy_ops.im2col(grid[None, None], kernel_size=3)      # (N, C*KH*KW, OH*OW) = (1, 9, 16)
print("columns:", cols.shape)
as_product = (kernel.reshape(1, 9) @ cols[0]).reshape(4, 4)   # (1, 9) @ (9, 16) -> (1, 16)
print("matrix product == loop:", np.allclose(as_product, naive_map))
fig, ax = plt.subplots(figsize=(8, 3.4))
show_kernel(cols[0], ax=ax, title="im2col(grid): column k is window k, read row by row")
ax.set_xlabel("window (output position)")
ax.set_ylabel("pixel in the window")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# With channels and filters it is the same idea: each column holds a window through all `C`
# channels (`C*KH*KW` numbers) and the filters are flattened into an `F × C*KH*KW` matrix. For
# the astronaut: `(3, 27) @ (27, 512*512)`.

# %%
cols_rgb = numpy_ops.im2col(x_rgb, kernel_size=3, padding=1)[0]        # (27, 262144)
product = weight_rgb.reshape(3, -1) @ cols_rgb + bias_rgb[:, None]      # (3, 27) @ (27, 262144)
print("weights", weight_rgb.reshape(3, -1).shape, "@ columns", cols_rgb.shape, "->", product.shape)
print("same as conv2d:", np.allclose(product.reshape(3, 512, 512), maps_rgb[0], atol=1e-5))
print(f"the columns take {cols_rgb.nbytes / x_rgb.nbytes:.0f} times the memory of the input")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The price is memory — every pixel is copied once per window that contains it (9 times here) —
# and the gain is speed: a matrix product is the most optimised operation on any computer.
# `numpy_ops.conv2d` works exactly this way (`numpy_ops.conv2d??` shows it), and so does
# `numpy_ops.conv2d_backward`.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. The speed ladder
#
# The same convolution, five ways: the naive loops, the vectorized NumPy version (im2col and one
# matrix product), the same im2col algorithm written in PyTorch (`torch_ops.conv2d`), PyTorch's
# own `torch.nn.functional.conv2d`, and — when this machine has one — the GPU. The input is one
# RGB image of 32×32 and 8 filters of 3×3. Each way is run for about a tenth of a second and the
# best time per call is kept. Timings depend on your machine, so your numbers will differ.

# %% tags=["nbval-ignore-output"]
x_t = rng.normal(size=(1, 3, 32, 32)).astype(np.float32)
w_t = rng.normal(size=(8, 3, 3, 3)).astype(np.float32)
xt, wt = torch.from_numpy(x_t), torch.from_numpy(w_t)
ways = {
    "naive loops (NumPy)": lambda: numpy_ops.conv2d_naive(x_t, w_t, padding=1),
    "im2col (NumPy)": lambda: numpy_ops.conv2d(x_t, w_t, padding=1),
    "im2col (torch_ops)": lambda: torch_ops.conv2d(xt, wt, padding=1),
    "torch.nn.functional": lambda: F.conv2d(xt, wt, padding=1),
}
if torch.cuda.is_available():
    xg, wg = xt.cuda(), wt.cuda()
    def on_gpu():
        out = F.conv2d(xg, wg, padding=1)
        torch.cuda.synchronize()                 # wait for the GPU to finish
        return out
    ways["torch.nn.functional (GPU)"] = on_gpu

times = {}
for name, run in ways.items():
    once = timeit.timeit(run, number=1)           # also a warm-up: first calls allocate memory
    number = max(1, int(0.03 / once))             # calls per measurement: about 0.03 s
    times[name] = min(once, min(timeit.repeat(run, number=number, repeat=3)) / number)
naive = times["naive loops (NumPy)"]
for name, t in times.items():
    speed = "the baseline" if name == "naive loops (NumPy)" else f"{naive / t:6.0f}x faster than the loops"
    print(f"{name:27s} {t * 1e3:9.3f} ms   {speed}")
plot_speed_ladder(times)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# All of them compute the same numbers (up to float32 rounding):

# %%
reference = F.conv2d(xt, wt, padding=1).numpy()
differ = []
for name, run in ways.items():
    out = run()
    out = out.cpu().numpy() if torch.is_tensor(out) else out
    if not np.allclose(out, reference, atol=1e-4):
        differ.append(name)
print(f"{len(differ)} of the ways differ from torch.nn.functional by more than 1e-4: {differ}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The loops spend their time in the Python interpreter, one small window at a time; im2col hands
# the work to an optimised matrix product. PyTorch's own `conv2d` picks among several algorithms
# for each layer shape, and a GPU runs thousands of multiply-adds at once — for a tiny batch like
# this one, most of a GPU's time goes to launching the work.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 10. Learning a kernel by gradient descent
#
# So far we chose the kernels. A CNN *learns* them. To see how, we hide a kernel and try to
# recover it from examples: images `x` and the outputs `y = conv2d(x, sobel_x)` it made. We start
# from a kernel of zeros and repeat:
#
# 1. compute `out = conv2d(x, w)` and the loss `L = mean((out - y)²) / 2`;
# 2. get the gradient `∂L/∂w` from `numpy_ops.conv2d_backward` (the chain rule through the
#    convolution: each output's error times the window it came from, summed over all windows);
# 3. step downhill: `w = w - lr * ∂L/∂w`.
#
# The images are four 48×48 crops of a grass texture, standardised to mean 0 and standard
# deviation 1 (gradient descent converges faster on such inputs).

# %%
grass = sample_image("grass", gray=True).astype(np.float64)
crops = np.stack([grass[r:r + 48, c:c + 48] for r, c in [(10, 10), (100, 50), (60, 300), (300, 200)]])
x_train = ((crops - crops.mean()) / crops.std())[:, None]            # (4, 1, 48, 48)
true_kernel = get_kernel("sobel_x", dtype=np.float64)[None, None]    # (1, 1, 3, 3), hidden
y_train = numpy_ops.conv2d(x_train, true_kernel)                     # (4, 1, 46, 46)

w = np.zeros((1, 1, 3, 3))
lr, losses = 0.3, []
for step in range(200):
    out = numpy_ops.conv2d(x_train, w)
    diff = out - y_train
    losses.append(0.5 * np.mean(diff ** 2))
    grad_out = diff / diff.size                                      # dL/d(out)
    _, grad_w, _ = numpy_ops.conv2d_backward(grad_out, x_train, w)    # dL/dw
    w -= lr * grad_w
print(f"loss: {losses[0]:.2f} at the start, {losses[-1]:.1e} after {len(losses)} steps")
print(f"largest |learned - true| weight: {np.abs(w - true_kernel).max():.4f}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(9.5, 2.8), width_ratios=[1.6, 1, 1])
axes[0].semilogy(losses)
axes[0].set_xlabel("step")
axes[0].set_ylabel("loss (log scale)")
axes[0].set_title("training loss", fontsize=9)
show_kernel(w[0, 0], ax=axes[1], fmt="{:.2f}", title="learned kernel")
show_kernel(true_kernel[0, 0], ax=axes[2], title="true kernel (sobel_x)")
plt.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Nine numbers, recovered from examples alone. A CNN does the same for thousands of kernels at
# once, except that nobody gives it the target feature maps: the gradient comes from the final
# loss (say, "was the digit classified correctly?") and flows back through every layer.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 11. The convolution explorer
#
# Pick an image (shrunk to 48×48 so that the window is visible), a kernel preset or your own nine
# values (editing a box switches to `custom`), and the stride, padding and dilation. The panels
# show the input with the window of the chosen output pixel, the kernel, and the output with that
# pixel outlined; the formula above them has your numbers filled in. Try:
#
# - `stride` 2: the output halves, and the window jumps two pixels per output pixel;
# - `padding` 1 with stride 1: the output is as large as the input; look at the window of output `(0, 0)`;
# - `dilation` 3: the taps spread out, the output shrinks by 4 more pixels;
# - a custom kernel with a single `1` off the centre: the output is the image, shifted.

# %%
conv_explorer()


# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - A convolution slides a kernel over the input; each output value is
#   `bias + sum(kernel * window)`. Deep-learning libraries compute this without flipping the
#   kernel, i.e. cross-correlation.
# - Hand-designed kernels blur, sharpen or find edges; kernels that sum to zero ignore flat
#   regions. The same kernel is used at every position, so a shifted input gives a shifted
#   feature map. An activation such as ReLU follows each convolution.
# - Output size: `floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1`.
# - Input `(N, C, H, W)`, weight `(F, C, KH, KW)`, bias `(F,)` → output `(N, F, OH, OW)`: each
#   filter spans all input channels; each filter makes one output channel. A 1×1 convolution
#   mixes channels pixel by pixel.
# - A convolution layer has `F*C*KH*KW + F` parameters whatever the image size — orders of
#   magnitude fewer than a dense layer.
# - im2col turns convolution into one matrix product: the same result, much faster, more memory.
# - Kernels can be learned by gradient descent, with the gradient from `conv2d_backward`.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# In each exercise cell, replace the line `raise NotImplementedError(...)` with your code, run
# the cell, then run the `check` cell under it. The check tries your function on many inputs: it
# shows ✓ when all of them pass, "not done yet" while the line is still there, and otherwise the
# likely mistake, the smallest input on which your function fails, and what to look at. A check
# never stops the notebook: Run All always reaches the end. Use NumPy only — not `numpy_ops`,
# `scipy.signal` or `torch`. Here is what a failing check looks like, for a `conv_output_size`
# that forgot the `+ 1`:

# %%
def conv_output_size_forgot_plus_one(input_size, kernel_size, stride=1, padding=0, dilation=1):
    return (input_size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride

check("conv_output_size", conv_output_size_forgot_plus_one);


# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 (easy): the output size
#
# Write `conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1)` for one axis:
# all arguments are ints, and it returns an int (section 3).

# %% nbgrader={"solution": true, "grade_id": "conv_output_size-solution"} slideshow={"slide_type": "skip"}
def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """Number of window positions along one axis of a convolution.

    out = floor((input_size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1

    Args:
        input_size: H (or W), an int.
        kernel_size: KH (or KW), an int.
        stride, padding, dilation: ints. Defaults: 1, 0, 1.

    Returns:
        OH (or OW), an int.

    Example:
        conv_output_size(28, 5) == 24;  conv_output_size(7, 3, stride=2) == 3
    """
    ### BEGIN SOLUTION
    span = dilation * (kernel_size - 1) + 1          # pixels covered by the dilated kernel
    return (input_size + 2 * padding - span) // stride + 1
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "conv_output_size", "points": 1} slideshow={"slide_type": "skip"}
check("conv_output_size", conv_output_size);


# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 (medium): cross-correlation of one image
#
# Write `correlate2d(image, kernel)`: a 2-D image `(H, W)` and a 2-D kernel `(KH, KW)`, 'valid'
# positions only (no padding, stride 1), no flip. It returns a new array of shape
# `(H - KH + 1, W - KW + 1)` with the image's dtype, and leaves its inputs unchanged. Two loops
# over the output positions are fine (section 1 did two positions by hand).

# %% nbgrader={"solution": true, "grade_id": "correlate2d-solution"} slideshow={"slide_type": "skip"}
def correlate2d(image, kernel):
    """'Valid' 2-D cross-correlation: out[i, j] = sum over u, v of image[i + u, j + v] * kernel[u, v].

    Args:
        image: (H, W) float array.
        kernel: (KH, KW) float array.

    Returns:
        (H - KH + 1, W - KW + 1) array of image.dtype.

    Example:
        correlate2d(np.ones((4, 4)), np.ones((3, 3))) -> [[9., 9.], [9., 9.]]
    """
    ### BEGIN SOLUTION
    H, W = image.shape
    KH, KW = kernel.shape
    out = np.zeros((H - KH + 1, W - KW + 1), dtype=image.dtype)
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            out[i, j] = np.sum(image[i:i + KH, j:j + KW] * kernel)
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "correlate2d", "points": 2} slideshow={"slide_type": "skip"}
check("correlate2d", correlate2d);


# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 (hard): the full `conv2d`
#
# Write `conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1)` like
# `torch.nn.functional.conv2d` (with ints for `stride`, `padding`, `dilation`): `x` is
# `(N, C, H, W)`, `weight` is `(F, C, KH, KW)`, `bias` is `(F,)` or `None`; the output is
# `(N, F, OH, OW)` with `x`'s dtype:
#
#     out[n, f, i, j] = bias[f] + sum over c, u, v of
#                       weight[f, c, u, v] * x_padded[n, c, i*stride + u*dilation, j*stride + v*dilation]
#
# Hints: `np.pad` pads only the last two axes if you give it
# `((0, 0), (0, 0), (padding, padding), (padding, padding))`; the slice
# `start:stop:dilation` picks every `dilation`-th pixel; a loop over the output positions `(i, j)`
# can handle all images and filters at once with `np.einsum` or `np.tensordot` — or loop over
# `n` and `f` too, it is fast enough for the check.

# %% nbgrader={"solution": true, "grade_id": "conv2d-solution"} slideshow={"slide_type": "skip"}
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D convolution (cross-correlation) of a batch of images with a bank of filters.

    out[n, f, i, j] = bias[f] + sum over c, u, v of
                      weight[f, c, u, v] * x_padded[n, c, i*stride + u*dilation, j*stride + v*dilation]

    Args:
        x: (N, C, H, W) float array.
        weight: (F, C, KH, KW) float array.
        bias: (F,) float array or None (default: no bias).
        stride, padding, dilation: ints. Defaults: 1, 0, 1.

    Shape:
        (N, C, H, W) -> (N, F, OH, OW), OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1

    Returns:
        (N, F, OH, OW) array of x.dtype.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    F, _, KH, KW = weight.shape
    OH = (H + 2 * padding - dilation * (KH - 1) - 1) // stride + 1
    OW = (W + 2 * padding - dilation * (KW - 1) - 1) // stride + 1
    x_padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((N, F, OH, OW), dtype=x.dtype)
    for i in range(OH):
        for j in range(OW):
            top, left = i * stride, j * stride
            window = x_padded[:, :, top:top + dilation * (KH - 1) + 1:dilation,
                                    left:left + dilation * (KW - 1) + 1:dilation]   # (N, C, KH, KW)
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", window, weight)
    if bias is not None:
        out += bias[None, :, None, None]
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "conv2d", "points": 3} slideshow={"slide_type": "skip"}
check("conv2d", conv2d);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where next
#
# Lesson 3, **pooling** (`03_pooling.ipynb`), shrinks feature maps: max and average pooling, what
# they keep and throw away, and why a network becomes less sensitive to small shifts. Later
# lessons stack convolution, activation and pooling into a complete CNN and train every kernel
# with the gradient you used in section 10.
