# %% [markdown] slideshow={"slide_type": "slide"}
# # Lesson 1 — Pixels as matrices
#
# A computer does not see a photo: it sees a grid of numbers. Everything a convolutional network
# does — this whole course — is arithmetic on such grids, so we start by looking at them closely.
#
# **You will learn**
# - what a grayscale photo and a handwritten digit look like as NumPy arrays: shape, dtype, value range;
# - why `uint8` pixels are converted to floats in `[0, 1]` before a network sees them;
# - how colour is stored (three matrices) and the two layouts you will meet: NumPy's
#   height–width–channel `(H, W, C)` and PyTorch's channel-first `(C, H, W)`;
# - that brightness, contrast, crops, flips, thresholds and downsampling are one line of array arithmetic each;
# - that a batch of images is a 4-D array `(N, C, H, W)`;
# - why a plain fully connected network is a poor fit for images — the reason convolutions exist.
#
# **You need** basic Python and NumPy indexing (`a[i, j]`, slices, `a.shape`). No deep learning yet.
#
# **Time** about 30 minutes, plus the exercises.
#
# **Vocabulary** used in the whole course: `N` batch size, `C` channels, `H` height (rows), `W` width (columns).

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
import torch

from cnncourse.data import load_mnist, sample_image
from cnncourse.viz import show_channels, show_flattened, show_image, show_images, show_pixel_values
from cnncourse.widgets import pixel_inspector
from cnncourse.widgets.pixel_inspector import inspect_region, plot_region
from cnncourse.checks import check, check_prediction, yours_or_reference

rng = np.random.default_rng(0)
_ = torch.manual_seed(0)
plt.rcParams["figure.dpi"] = 72

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. A photo is a matrix
#
# `sample_image` returns one of the photos that ship with scikit-image. The classic *cameraman*
# is a grayscale photo: one number per pixel.

# %%
camera = sample_image("camera")
print("type :", type(camera).__name__)
print("shape:", camera.shape, "  (H rows, W columns)")
print("dtype:", camera.dtype)
print("range:", camera.min(), "..", camera.max())

# %% [markdown] slideshow={"slide_type": "subslide"}
# A `uint8` is an unsigned 8-bit integer: 256 possible values, `0` (black) to `255` (white).
# The image is a 512 × 512 matrix of them. Indexing is **row first**: `camera[r, c]` is the pixel
# in row `r` (counted downward from the top) and column `c` (counted from the left).

# %%
print("top-left pixel      camera[0, 0]     =", camera[0, 0])
print("a pixel on the coat camera[400, 150] =", camera[400, 150])
print("a pixel in the sky  camera[50, 400]  =", camera[50, 400])

# %% [markdown] slideshow={"slide_type": "subslide"}
# Let's zoom in. The orange square on the left marks a 10 × 10 region around the camera's lens;
# on the right is the same region, each pixel drawn as a cell with its value printed over it.
# Dark cells hold small numbers, light cells large ones — that is all an image is.

# %%
region = inspect_region(camera, row=180, col=230, size=10)
plot_region(camera, region, title="camera (512, 512)")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. A handwritten digit
#
# MNIST digits are tiny grayscale images: 28 × 28 pixels, white ink (large values) on a black
# background (zeros). The course ships 10,000 of them (8,000 for training, 2,000 for testing).

# %%
images, labels = load_mnist("test")
print("images:", images.shape, images.dtype, "  labels:", labels.shape, labels.dtype)
digit = images[0]
print(f"images[0] is a {labels[0]}; shape {digit.shape}; "
      f"{np.count_nonzero(digit)} of its {digit.size} pixels are not zero")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The ink of this digit lies in rows 3–22 and columns 9–22; every pixel outside is 0. Here are the
# values of that part, each printed over its pixel (the tick labels are row and column numbers).
# Notice the grey edge of each stroke: the digits were anti-aliased, so the ink fades from 255 to 0
# over one or two pixels.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 5.6), width_ratios=[1, 1.6])
show_image(digit, ax=axes[0], title=f"images[0], a {labels[0]}", axis=True)
show_pixel_values(digit[2:24, 7:25], ax=axes[1], origin=(2, 7), fontsize=6)
axes[1].set_title("digit[2:24, 7:25]")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. `uint8` or float? Normalisation
#
# `uint8` is compact (one byte per pixel) but awkward for arithmetic: results that leave `0..255`
# **wrap around** silently, modulo 256.

# %%
patch = camera[0, :5]
print("patch        :", patch)
print("patch + 100  :", patch + 100, "  <- 200 + 100 = 300 wrapped to 300 - 256 = 44")
print("patch - 250  :", patch - 250)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Networks therefore work with floating-point numbers. The usual first step is to **normalise**:
# convert to `float32` (the precision PyTorch uses by default) and divide by 255, so pixels lie in
# `[0, 1]`. Arithmetic then behaves, and the inputs are on a scale where the small initial weights of
# a network work well. (Exercise 1 asks you to write this as a function.)

# %%
x = camera.astype(np.float32) / 255
print("dtype:", x.dtype, f"  range: {x.min():.3f} .. {x.max():.3f}   bytes: {camera.nbytes:,} -> {x.nbytes:,}")
print(f"x[0, :5] = {np.array2string(x[0, :5], precision=3)}")
print(f"x[0, :5] + 100/255 = {np.array2string(x[0, :5] + 100 / 255, precision=3)}  (no wrap-around)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# A second, common step is to **standardise** with the mean and standard deviation of the
# training set, so that the inputs have mean 0 and standard deviation 1. For MNIST:

# %%
train_images, train_labels = load_mnist("train")
train = train_images.astype(np.float32) / 255
mean, std = train.mean(), train.std()
standardised = (train - mean) / std
print(f"training pixels: mean {mean:.4f}, std {std:.4f}\n"
      f"after (x - mean) / std: mean {abs(standardised.mean()):.4f}, std {standardised.std():.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# These are the numbers you will see in many MNIST tutorials (0.1307 and 0.3081 for the full
# 60,000-digit training set). Always compute them on the **training** data only and reuse them
# for the test data.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Colour: three matrices
#
# A colour photo stores three numbers per pixel: how much red, green and blue light. NumPy,
# Matplotlib, Pillow and scikit-image put the channel **last**: shape `(H, W, 3)`.

# %%
astronaut = sample_image("astronaut")
print("shape:", astronaut.shape, "dtype:", astronaut.dtype)
print("one pixel, astronaut[100, 100] =", astronaut[100, 100], " (red, green, blue)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Taking one channel gives an ordinary `(H, W)` matrix. Drawn in gray, each panel below shows how
# much of one colour each pixel contains: the orange suit is bright in the red panel, mid-gray in
# the green one and darker still in the blue one.

# %%
print("a pixel of the suit, astronaut[350, 200] =", astronaut[350, 200])
fig, axes = plt.subplots(1, 4, figsize=(10, 2.9))
show_channels(astronaut, axes=axes)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Arithmetic across the channel axis makes new images. A grayscale version is a weighted sum of
# the three channels (the weights model how bright each colour looks to the eye) — a matrix–vector
# product over the last axis:

# %%
luma = np.array([0.2125, 0.7154, 0.0721])       # ITU-R BT.709, as skimage.color.rgb2gray
gray = astronaut @ luma                          # (512, 512, 3) @ (3,) -> (512, 512)
reference = sample_image("astronaut", gray=True)
print("gray:", gray.shape, gray.dtype,
      "  largest difference from sample_image(..., gray=True):", int(np.abs(np.round(gray) - reference).max()))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Height–width–channel versus channel-first
#
# PyTorch (and most deep-learning code) puts the channel **first**: one image is `(C, H, W)`.
# Going from one layout to the other **moves axes** — `np.transpose` — it does not `reshape`.
# A reshape keeps the numbers in their memory order and just cuts them into a different shape,
# so the "channels" it produces are interleaved pixels from all three colours:

# %%
chw = np.transpose(astronaut, (2, 0, 1))   # axes (H, W, C) -> (C, H, W)
wrong = astronaut.reshape(3, 512, 512)     # same shape, scrambled values
print("transpose:", chw.shape, "  reshape:", wrong.shape)
print("red channel equal?  transpose:", np.array_equal(chw[0], astronaut[..., 0]),
      "  reshape:", np.array_equal(wrong[0], astronaut[..., 0]))
show_images([chw[0], wrong[0]], titles=["np.transpose(...)[0]", "reshape(3, 512, 512)[0]"])
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# In PyTorch the same move is `tensor.permute(2, 0, 1)`. A convolution layer insists on
# channel-first input: fed a channels-last image, it reads the 512 rows (its first axis) as 512 channels.

# %%
conv = torch.nn.Conv2d(in_channels=3, out_channels=8, kernel_size=3)
hwc = torch.from_numpy(astronaut).float() / 255     # (512, 512, 3): channels last
chw = hwc.permute(2, 0, 1)                          # (3, 512, 512): channels first
print("conv(chw) ->", tuple(conv(chw).shape))
try:
    conv(hwc)
except RuntimeError as err:
    print("conv(hwc) -> RuntimeError: the layer expects 3 input channels, the tensor's first axis has",
          hwc.shape[0])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Image edits are array arithmetic
#
# With pixels as floats in `[0, 1]`, every classic edit is one expression. The table under the
# figure gives the code behind each panel (`x` is the normalised cameraman).

# %%
x = camera.astype(np.float32) / 255
edits = {  # name: (code, result)
    "original": ("x", x),
    "brighter": ("np.clip(x + 0.3, 0, 1)", np.clip(x + 0.3, 0, 1)),
    "more contrast": ("np.clip(2 * (x - 0.5) + 0.5, 0, 1)", np.clip(2 * (x - 0.5) + 0.5, 0, 1)),
    "inverted": ("1 - x", 1 - x),
    "cropped": ("x[80:240, 180:340]", x[80:240, 180:340]),
    "flipped left-right": ("x[:, ::-1]", x[:, ::-1]),
    "thresholded": ("x > 0.5", x > 0.5),
    "every 16th pixel": ("x[::16, ::16]", x[::16, ::16]),
}
show_images([result for _, result in edits.values()], titles=list(edits), ncols=4)
plt.show()

# %%
for name, (expr, result) in edits.items():
    kind = "view of x" if np.shares_memory(result, x) else "new array"
    print(f"{name:19s} {expr:35s} {str(result.shape):11s} {str(result.dtype):8s} {kind}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Each edit either changes the values (brightness, contrast, invert, threshold) or picks which pixels
# to keep (crop, flip, downsample). The slices are even free: they are *views* that read the same
# memory as `x` (the last column), not copies. Keeping every 16th pixel throws 255 of every 256 away;
# Exercise 3 builds the better downsampler that averages each 16 × 16 block instead.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. A batch is a 4-D array
#
# Networks process many images at once. Stacking `N` images of shape `(C, H, W)` gives a
# **batch** of shape `(N, C, H, W)` — the layout `torch.nn.Conv2d` expects. Grayscale images have
# `C = 1`, so we add that axis explicitly.

# %%
batch = images[:8]                               # (8, 28, 28): N, H, W
x_batch = (batch.astype(np.float32) / 255)[:, np.newaxis, :, :]
print("x_batch:", x_batch.shape, "= (N, C, H, W)")
print("x_batch[3] is one image:", x_batch[3].shape, "  x_batch[3, 0] its only channel:", x_batch[3, 0].shape)
print("as a tensor:", tuple(torch.from_numpy(x_batch).shape))
show_images(list(x_batch[:, 0]), titles=[f"[{i}]: a {labels[i]}" for i in range(8)], ncols=8)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Real batches are much bigger. A batch of 32 colour photos of 224 × 224 pixels (the standard
# ImageNet size):

# %%
shape = (32, 3, 224, 224)
n_values = int(np.prod(shape))
print(f"{shape}: {n_values:,} numbers, {n_values * 4 / 1e6:.1f} MB in float32")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Why not a plain fully connected network?
#
# A fully connected (dense) layer takes a **vector**. To feed it an image you flatten it: the
# 28 × 28 digit becomes 784 numbers in a row, row after row.

# %%
v = digit.reshape(-1)
r, c = 10, 14
print("flattened:", v.shape)
print(f"pixel (r, c) = ({r}, {c}) is v[{r * 28 + c}]; its neighbour below, ({r + 1}, {c}), is v[{(r + 1) * 28 + c}]"
      f" — 28 positions away")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Flattening forgets neighbourhoods.** A dense layer computes `weight @ v + bias`: a weighted sum
# over all pixels, with nothing in it that says which pixels are neighbours. Shuffle the pixels — and
# the weights' columns the same way — and it computes exactly the same thing:

# %%
weight = rng.normal(size=(10, 784)).astype(np.float32)
perm = rng.permutation(784)
v_float = v.astype(np.float32) / 255
same = np.allclose(weight @ v_float, weight[:, perm] @ v_float[perm], atol=1e-5)
print("same output with the pixels shuffled:", same)
show_images([digit, v[perm].reshape(28, 28)], titles=["digit", "shuffled pixels"])
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# So a dense network learning digits could just as well learn them from the shuffled version on the
# right: it has to discover from data, weight by weight, that neighbouring pixels belong together.
#
# **A small shift changes the vector a lot.** Move the digit 2 pixels to the right. To you it is the
# same 6. To a dense layer it is a different input vector.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Predict before you run
#
# The digit `images[0]` (MNIST test image 0) has 784 pixels. We shift it 2 columns to the right:
# zeros come in on the left, and the two rightmost columns that drop out hold only zeros. **What
# fraction of its 784 pixel values change?** Write a number between 0 and 1 (answers within 0.03
# count as right).

# %% nbgrader={"solution": true, "grade_id": "q01_shift_changed-solution"} slideshow={"slide_type": "skip"}
# your prediction, a number between 0 and 1:
### BEGIN SOLUTION
q01_shift_changed = 0.17
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "q01_shift_changed", "points": 1} slideshow={"slide_type": "skip"}
check_prediction("q01_shift_changed", q01_shift_changed)

# %% slideshow={"slide_type": "fragment"}
shifted = np.zeros_like(digit)
shifted[:, 2:] = digit[:, :-2]                   # move 2 columns right
changed = digit != shifted
print(f"pixels that change: {changed.sum()} of {digit.size} = {changed.mean():.3f}")
print(f"ink pixels (> 0) whose value changes: {changed[digit > 0].mean():.3f}")


def cosine(a, b):
    a, b = a.reshape(-1).astype(np.float64), b.reshape(-1).astype(np.float64)
    return a @ b / (np.linalg.norm(a) * np.linalg.norm(b))


same_class = images[labels == labels[0]][1:]     # the other 6s of the test set
others = np.array([cosine(digit, other) for other in same_class])
print(f"cosine similarity with the other {len(others)} 6s: median {np.median(others):.3f}")
for k in (1, 2, 3, 4):
    moved = np.zeros_like(digit)
    moved[:, k:] = digit[:, :-k]
    similarity = cosine(digit, moved)
    print(f"shifted {k} px: cosine {similarity:.3f}; other 6s more similar to the digit: "
          f"{(others > similarity).sum():3d} of {len(others)}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Only 17 % of the pixels change — but among them are 71 % of the ink pixels, the pixels that
# carry the shape. The cosine similarity of the flattened vectors (1 = same direction, 0 = nothing
# in common) falls from 1 to 0.81 for a 1-pixel shift and to 0.55 for 2 pixels: after a 2-pixel
# shift, 117 of the other 202 6s — more than half — are more similar to the digit than its own
# shifted copy, and after 3 pixels 193 of them are. Compared pixel by pixel, the same digit moved a
# little is a different picture. The strips below are the two flattened vectors (28 rows of 28, one
# after another) and their difference.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 2.8), width_ratios=[1, 4])
show_images([np.hstack([digit, shifted])], titles=["digit | shifted by 2"], axes=[axes[0]])
diff = shifted.astype(np.float32) - digit.astype(np.float32)
show_flattened([digit[8:20] / 255, shifted[8:20] / 255, diff[8:20] / 255], ax=axes[1],
               labels=["digit", "shifted", "difference"], cmap="cividis", vmin=-1, vmax=1)
axes[1].set_title("rows 8-19 flattened (336 of the 784 values)", fontsize=9)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# A dense network must therefore see the digit in every position during training to recognise it
# in every position. A convolution, which slides one small detector over the image, handles a shift
# for free: the shifted input gives a shifted output (Lesson 2).
#
# **The parameter count explodes.** A dense layer from `n_in` inputs to `n_out` outputs has a weight
# for every (input, output) pair, plus one bias per output: `n_in * n_out + n_out` parameters.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Predict before you run
#
# A colour photo of 224 × 224 pixels (the standard ImageNet size) is flattened and fed to a dense
# layer with 1000 outputs (one per ImageNet class). **How many parameters (weights + biases) does
# that single layer have?**

# %% nbgrader={"solution": true, "grade_id": "q01_dense_params-solution"} slideshow={"slide_type": "skip"}
# your prediction, a whole number (you may write it as arithmetic):
### BEGIN SOLUTION
q01_dense_params = 224 * 224 * 3 * 1000 + 1000
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "q01_dense_params", "points": 1} slideshow={"slide_type": "skip"}
check_prediction("q01_dense_params", q01_dense_params)

# %% slideshow={"slide_type": "fragment"}
dense = torch.nn.Linear(224 * 224 * 3, 1000, device="meta")   # "meta": shapes only, no memory used
n_dense = sum(p.numel() for p in dense.parameters())
print(f"dense layer 150,528 -> 1000      : {n_dense:>13,} parameters, {n_dense * 4 / 1e6:,.0f} MB in float32")
conv = torch.nn.Conv2d(3, 64, kernel_size=3)
n_conv = sum(p.numel() for p in conv.parameters())
print(f"conv layer, 64 filters of 3x3x3 : {n_conv:>13,} parameters, whatever the image size")
mnist_dense = torch.nn.Linear(28 * 28, 1000)
print(f"for comparison, MNIST 784 -> 1000: {sum(p.numel() for p in mnist_dense.parameters()):>13,} parameters")

# %% [markdown] slideshow={"slide_type": "subslide"}
# 150 million parameters — in one layer, before the network has learnt anything about images.
# A convolution layer's 1,792 parameters do not depend on the image size at all: the same small
# filters are reused at every position. That reuse, and the locality it builds in, is the subject of
# the next lesson.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Explore: the pixel inspector
#
# Pick an image, move the region with the `row` and `col` sliders and zoom with `crop size`.
# The figure shows where the region is and every value inside it; the text above gives the image's
# shape, dtype and range and the statistics of the region. Try the bright sky against the dark coat,
# the edge of a digit stroke, and the normalised cameraman (same picture, values divided by 255).

# %%
pixel_inspector({
    "camera": camera,
    "camera / 255 (float32)": camera.astype(np.float32) / 255,
    "digit images[0]": digit,
    "astronaut, red channel": astronaut[..., 0],
}, size=8)


# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - A grayscale image is a 2-D array `(H, W)`, indexed row first; a colour image has three channels.
#   Photos are stored as `uint8` in `0..255`, whose arithmetic wraps around.
# - Before a network sees them, pixels become `float32`, usually divided by 255 (and often
#   standardised with the training set's mean and standard deviation).
# - NumPy and Matplotlib use `(H, W, C)`; PyTorch uses `(C, H, W)` for one image and `(N, C, H, W)`
#   for a batch. Convert with `np.transpose` / `permute`, never with `reshape`.
# - Brightness, contrast, inversion, crops, flips, thresholds and downsampling are array arithmetic
#   and slicing.
# - A fully connected layer on flattened pixels ignores which pixels are neighbours, sees a
#   2-pixel shift as a very different input (most other 6s are more similar to our digit than
#   its shifted copy), and needs
#   150 million parameters for one layer on a 224 × 224 colour photo. Convolutions fix all three.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# In each exercise cell, replace the line `raise NotImplementedError(...)` with your code, run
# the cell, then run the `check` cell under it. The check tries your function on many inputs: it
# shows ✓ when all of them pass, "not done yet" while the line is still there, and otherwise the
# likely mistake, the smallest input on which your function fails, and what to look at. A check
# never stops the notebook: Run All always reaches the end. Only NumPy is needed.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 (easy) — `normalize`
#
# Turn a `uint8` image, grayscale `(H, W)` or colour `(H, W, 3)`, into `float32` values in `[0, 1]`
# by dividing by 255 (not by the image's own maximum: a dark photo must stay dark). Return a new
# array; do not modify `img`.

# %% nbgrader={"solution": true, "grade_id": "normalize-solution"} slideshow={"slide_type": "skip"}
def normalize(img):
    """Scale a uint8 image to float32 values in [0, 1]: out = img / 255.

    Args:
        img: uint8 array, shape (H, W) or (H, W, 3).

    Returns:
        float32 array of the same shape; `img` is left unchanged.
    """
    ### BEGIN SOLUTION
    return img.astype(np.float32) / 255
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "normalize", "points": 1} slideshow={"slide_type": "skip"}
check("normalize", normalize)
### BEGIN HIDDEN TESTS
check("normalize", normalize, hidden=True)
### END HIDDEN TESTS

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 (medium) — `to_channels_first`
#
# Convert one image from height–width–channel `(H, W, C)` to PyTorch's `(C, H, W)`, so that
# `out[k]` is channel `k`, i.e. `out[k, r, c] == img[r, c, k]`.

# %% nbgrader={"solution": true, "grade_id": "to_channels_first-solution"} slideshow={"slide_type": "skip"}
def to_channels_first(img):
    """Move the channel axis of an (H, W, C) image to the front: out[k, r, c] = img[r, c, k].

    Args:
        img: array of shape (H, W, C).

    Returns:
        array of shape (C, H, W).
    """
    ### BEGIN SOLUTION
    return np.transpose(img, (2, 0, 1))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "to_channels_first", "points": 1} slideshow={"slide_type": "skip"}
check("to_channels_first", to_channels_first)
### BEGIN HIDDEN TESTS
check("to_channels_first", to_channels_first, hidden=True)
### END HIDDEN TESTS

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 (harder) — `downsample`
#
# Shrink a grayscale float image by an integer `factor`: each output pixel is the **mean** of one
# `factor × factor` block of input pixels. The output has shape `(H // factor, W // factor)`; rows
# and columns that do not fill a whole block (at the bottom and right) are dropped.
#
# Formula: `out[i, j] = mean(img[i*factor:(i+1)*factor, j*factor:(j+1)*factor])`.
# Hint: a loop over the output pixels is fine; for a loop-free version, crop to a multiple of
# `factor` and `reshape` to `(H // factor, factor, W // factor, factor)` — which axes do you average?

# %% nbgrader={"solution": true, "grade_id": "downsample-solution"} slideshow={"slide_type": "skip"}
def downsample(img, factor):
    """Block-mean downsampling: out[i, j] = mean of img[i*f:(i+1)*f, j*f:(j+1)*f], f = factor.

    Args:
        img: float array of shape (H, W).
        factor: int >= 1, the side of each block.

    Returns:
        array of shape (H // factor, W // factor); leftover rows/columns are dropped.
    """
    ### BEGIN SOLUTION
    H, W = img.shape
    OH, OW = H // factor, W // factor
    blocks = img[:OH * factor, :OW * factor].reshape(OH, factor, OW, factor)
    return blocks.mean(axis=(1, 3))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "downsample", "points": 2} slideshow={"slide_type": "skip"}
check("downsample", downsample)
### BEGIN HIDDEN TESTS
check("downsample", downsample, hidden=True)
### END HIDDEN TESTS

# %% [markdown]
# Your `downsample` next to plain subsampling (`x[::16, ::16]`, from section 5): both give 32 × 32
# pixels, but one picked pixel can be far from the average of the 256 pixels it stands for, and the
# picked image is rougher (its neighbouring pixels differ more). The block mean is what you get
# when you look at the photo from further away.

# %%
block_mean = yours_or_reference("downsample", downsample)   # the course's until yours passes
x = camera.astype(np.float32) / 255
small_mean, small_pick = block_mean(x, 16), x[::16, ::16]


def roughness(img):
    """Mean absolute difference between neighbouring pixels (right and below)."""
    return np.abs(np.diff(img, axis=1)).mean() + np.abs(np.diff(img, axis=0)).mean()


print("shapes:", small_mean.shape, small_pick.shape)
print(f"largest gap between a picked pixel and its block's mean: {np.abs(small_pick - small_mean).max():.3f}")
print(f"roughness: picked {roughness(small_pick):.3f}, block mean {roughness(small_mean):.3f}")
show_images([x, small_pick, small_mean], titles=["x (512 × 512)", "x[::16, ::16]", "downsample(x, 16)"])
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where next
#
# **Lesson 2 — Convolution** (`02_convolution.ipynb`): slide a small kernel over these matrices to
# detect edges and blobs, see why the output of a shifted image is simply shifted, and count how few
# parameters it needs.
