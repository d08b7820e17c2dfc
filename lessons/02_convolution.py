# %% [markdown]
# # Lesson 2: convolution and transposed convolution (卷积 / 转置卷积)
#
# A GAN's discriminator shrinks an image with convolutions (卷积); its generator grows one out of
# noise with transposed convolutions (转置卷积). Article 001's DCGAN is made of them: two 5x5
# stride-2 convolutions in D (A001-8), four 5x5 transposed convolutions in G (A001-7). This lesson
# shows what the two compute, by their definitions written as slow loops; how minigan computes
# them fast, as one large matrix product (im2col); and why the backward pass of each is the other.
#
# Step through it with `minigan lesson 2`, or run it with `python lessons/02_convolution.py`.
# Every step prints what it shows and asserts it. It trains nothing and runs in a few seconds.

# %%
import itertools
import time

import numpy as np
from matplotlib.figure import Figure  # a bare Figure: saved to a file, and drawn in a notebook by lessons.show only
from matplotlib.patches import Rectangle

import minigan as mg
from minigan import lessons
from minigan.nn import functional as F

# private, and not a copy: the very helper that F.conv2d's kernel calls (minigan has no public im2col)
from minigan.nn.functional.conv import _Geometry, _im2col

opts = lessons.options("02_convolution", seed=0)
mg.manual_seed(opts.seed)
rng = np.random.default_rng(opts.seed)  # every random input below; float64 throughout, to compare closely


def close(a, b) -> bool:
    """Equal up to float64 rounding; a and b are minigan tensors or NumPy arrays."""
    a, b = (t.numpy() if isinstance(t, mg.Tensor) else t for t in (a, b))
    return np.allclose(a, b, atol=1e-10)


# %% [markdown]
# ## 1. A convolution by its definition: one output pixel at a time
#
# An input x of shape (N, C_in, H, W) and a kernel (卷积核) w of shape (C_out, C_in, k, k) give
# output pixel (p, q) of channel o as the sum, over input channels c and kernel offsets (i, j), of
# $w_{o,c,i,j}\, x_{c,\, p s - \text{pad} + i,\, q s - \text{pad} + j}$: the kernel laid on the
# window of the input that starts at row $p s$ of the zero-padded image (stride 步幅 s, padding
# 填充 pad). Deep learning does not flip the kernel (a mathematician would call this
# cross-correlation, 互相关): minigan computes it as written here, as PyTorch and Keras do (their
# documentation; not run here).
#
# The windows must fit inside the padded image, so the output has
# $H_o = \lfloor (H + 2\,\text{pad} - k) / s \rfloor + 1$ rows (and $W_o$ likewise). The floor
# matters: below, a 7x6 image with k = 3, s = 2, pad = 1 gives 4 rows and 3 columns, since
# $(6 + 2 - 3)/2 = 2.5$: a fourth column of windows would run past the padded image.
#
# `conv2d_loop` is the definition, written as a loop over output pixels: slow, and written only to
# check the fast kernel against (as is the loop of step 3), never to train with.

# %%
def conv2d_loop(x, w, stride, padding):
    """conv2d by its definition, one output pixel at a time (square kernels, one stride and padding)."""
    n, _, h, wd = x.shape
    c_out, _, k, _ = w.shape
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho, wo = (h + 2 * padding - k) // stride + 1, (wd + 2 * padding - k) // stride + 1
    y = np.zeros((n, c_out, ho, wo))
    for p in range(ho):
        for q in range(wo):
            window = padded[:, :, p * stride:p * stride + k, q * stride:q * stride + k]  # (N, C_in, k, k)
            # y[n, o, p, q] = sum over c, i, j of w[o, c, i, j] * window[n, c, i, j]
            y[:, :, p, q] = (window[:, None] * w[None]).sum(axis=(2, 3, 4))
    return y


x1 = rng.standard_normal((2, 3, 7, 6))  # N=2 images of C_in=3 channels, 7x6
w1 = rng.standard_normal((4, 3, 3, 3))  # C_out=4 kernels of 3x3
y1 = F.conv2d(mg.tensor(x1), mg.tensor(w1), stride=2, padding=1)
formula = tuple((n + 2 * 1 - 3) // 2 + 1 for n in (7, 6))
print("conv2d of a (2, 3, 7, 6) input, k=3, s=2, pad=1:", y1.shape, "  floor((H + 2p - k)/s) + 1 =", formula)
print("largest difference from the loop:", np.abs(y1.numpy() - conv2d_loop(x1, w1, 2, 1)).max())
assert y1.shape == (2, 4) + formula == (2, 4, 4, 3)
assert close(y1, conv2d_loop(x1, w1, 2, 1))

# %% [markdown]
# The formula is how article 000's discriminator shrinks an MNIST digit (A000-10): five 5x5
# stride-2 convolutions, padding='same' in Keras, for which padding 2 here gives the same sizes.
# The floor at work: 28 becomes $\lfloor 27/2 \rfloor + 1 = 14$, and 2 becomes $\lfloor 1/2 \rfloor + 1 = 1$.

# %%
sizes, feature = [28], mg.zeros(1, 1, 28, 28)
for _ in range(5):
    feature = F.conv2d(feature, mg.zeros(1, 1, 5, 5), stride=2, padding=2)
    sizes.append(feature.shape[2])
print("article 000's D:", " -> ".join(map(str, sizes)))
assert sizes == [28, 14, 7, 4, 2, 1]
assert all(b == (a + 2 * 2 - 5) // 2 + 1 for a, b in itertools.pairwise(sizes))

# %% [markdown]
# ## 2. im2col in pictures: the convolution as one matrix product
#
# A loop over pixels in Python is slow. minigan's kernel instead copies every window of the
# (padded) input into one row of a matrix, *im2col* ("image to columns"; here the windows are
# rows), with NumPy and no Python loop over pixels. Then all output pixels of all output channels
# come out of one matrix product, which NumPy hands to BLAS, the fast linear algebra library:
#
# $$\underbrace{\text{cols}}_{(N H_o W_o) \times (k k C_{in})} \; \underbrace{W^\top}_{(k k C_{in}) \times C_{out}}
# = \underbrace{y}_{(N H_o W_o) \times C_{out}}$$
#
# Below, `_im2col`, the function conv2d's kernel itself calls, unfolds a 5x5 image whose pixels
# are numbered 0 to 24, for a 3x3 kernel with stride 1: 9 windows, so 9 rows of 9 numbers.
# Row 5, window (p, q) = (1, 2), holds the highlighted patch. Each pixel is copied once per
# window that covers it: the corner pixel 0 once, the centre pixel 12 nine times. The matrix has
# 81 entries for an image of 25: im2col spends memory (step 5 times what that buys).

# %%
image = np.arange(25.0).reshape(1, 1, 5, 5)
tiny = _Geometry(kernel=(3, 3), stride=(1, 1), padding=(0, 0), dilation=(1, 1), image=(5, 5), grid=(3, 3))
cols = _im2col(image, tiny)[0]  # (groups, rows, columns): one group here
print("im2col of the numbered 5x5 image, 3x3 kernel, stride 1: one row per window")
print(cols.astype(int))
row, (p, q) = 5, (1, 2)
assert cols.shape == (9, 9)
assert np.array_equal(cols[row], image[0, 0, p:p + 3, q:q + 3].ravel())
copies = np.bincount(cols.astype(int).ravel(), minlength=25).reshape(5, 5)
print("how many times each pixel is copied:\n", copies)
assert copies[0, 0] == 1 and copies[2, 2] == 9 and copies.sum() == 81

fig = Figure(figsize=(10, 4.4), layout="constrained")
left, right = fig.subplots(1, 2, width_ratios=[5, 9])
left.imshow(np.zeros((5, 5)), cmap="Greys", vmin=0, vmax=1)
left.add_patch(Rectangle((q - 0.5, p - 0.5), 3, 3, color="tab:blue", alpha=0.3))
right.imshow(np.zeros((9, 9)), cmap="Greys", vmin=0, vmax=1)
right.add_patch(Rectangle((-0.5, row - 0.5), 9, 1, color="tab:blue", alpha=0.3))
for ax, values in ((left, image[0, 0]), (right, cols)):
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, int(v), ha="center", va="center", fontsize=9)
    ax.set_xticks(np.arange(values.shape[1] + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(values.shape[0] + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="0.7")
    ax.tick_params(which="both", length=0)
offsets = [f"({i},{j})" for i in range(3) for j in range(3)]
left.set_title(f"the 5x5 input; window (p, q) = ({p}, {q})")
right.set_title(f"im2col: one row per window; row {row} is window ({p}, {q})")
right.set_xticks(range(9), offsets, fontsize=8)
right.set_yticks(range(9), offsets, fontsize=8)
right.set_xlabel("kernel offset (i, j)")
right.set_ylabel("window (p, q)")
path = opts.figure("im2col.png")
fig.savefig(path, dpi=100)
lessons.show(path)

# %% [markdown]
# A stride of 2 keeps every other window: rows 0, 2, 6 and 8 of the same matrix. And the
# convolution is the matrix times the kernels, each kernel flattened into one row of $W$:

# %%
strided = tiny._replace(stride=(2, 2), grid=(2, 2))
assert np.array_equal(_im2col(image, strided)[0], cols[[0, 2, 6, 8]])
w2 = rng.standard_normal((2, 1, 3, 3))  # two kernels: two output channels
by_matrix = (cols @ w2.reshape(2, 9).T).reshape(3, 3, 2).transpose(2, 0, 1)  # (Ho*Wo, C_out) -> (C_out, Ho, Wo)
print("cols @ W^T equals conv2d:", close(by_matrix, F.conv2d(mg.tensor(image), mg.tensor(w2))[0]))
assert close(by_matrix, F.conv2d(mg.tensor(image), mg.tensor(w2))[0])

# %% [markdown]
# With several channels, a batch, padding and stride nothing changes but the sizes. minigan
# works channels-last inside, so a row of `cols` runs over (i, j, c), c fastest, and $W$'s
# columns are put in that order too. Step 1's case, as one product:

# %%
geometry = _Geometry((3, 3), (2, 2), (1, 1), (1, 1), image=(7, 6), grid=(4, 3))
cols1 = _im2col(x1, geometry)[0]
W1 = w1.transpose(0, 2, 3, 1).reshape(4, -1)  # (C_out, C_in, k, k) -> (C_out, k*k*C_in), (i, j, c) order
print(f"cols {cols1.shape} @ W^T {W1.T.shape} = {(cols1 @ W1.T).shape}: N*Ho*Wo = 2*4*3 rows, C_out = 4 columns")
assert cols1.shape == (2 * 4 * 3, 3 * 3 * 3)
assert close((cols1 @ W1.T).reshape(2, 4, 3, 4).transpose(0, 3, 1, 2), y1)

# %% [markdown]
# ## 3. Transposed convolution (转置卷积): every input pixel scatters a copy of the kernel
#
# A transposed convolution runs the picture backwards. Each input pixel adds a copy of the kernel,
# scaled by the pixel's value, onto a k x k block of the output, the blocks s pixels apart; where
# blocks overlap the copies add up (overlap-add). Then `pad` rows and columns are cropped from each
# side, and `output_padding` rows and columns added at the bottom and right:
# $H_o = (H - 1)s - 2\,\text{pad} + k + \text{output\_padding}$. Its kernel is (C_in, C_out, k, k),
# C_in first: the kernel of the convolution it is the transpose of, read the other way (step 4
# uses one kernel for both).
#
# `conv_transpose2d_loop` is that definition, a loop over *input* pixels.

# %%
def conv_transpose2d_loop(x, w, stride, padding, output_padding=0):
    """conv_transpose2d by its definition: each input pixel adds a scaled copy of the kernel to the output."""
    n, _, h, wd = x.shape
    _, c_out, k, _ = w.shape
    full = np.zeros((n, c_out, (h - 1) * stride + k + output_padding, (wd - 1) * stride + k + output_padding))
    for a in range(h):
        for b in range(wd):
            copy = np.einsum("nc,cokl->nokl", x[:, :, a, b], w)  # sum over c of x[n, c, a, b] * w[c, o]
            full[:, :, a * stride:a * stride + k, b * stride:b * stride + k] += copy  # the block at (a s, b s)
    return full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]


x3 = rng.standard_normal((2, 3, 3, 4))
w3 = rng.standard_normal((3, 2, 3, 3))  # C_in=3, C_out=2
y3 = F.conv_transpose2d(mg.tensor(x3), mg.tensor(w3), stride=2, padding=1, output_padding=1)
formula = tuple((n - 1) * 2 - 2 * 1 + 3 + 1 for n in (3, 4))
print("conv_transpose2d of (2, 3, 3, 4), k=3, s=2, pad=1, output_padding=1:", y3.shape,
      "  (H-1)s - 2p + k + output_padding =", formula)
assert y3.shape == (2, 2) + formula == (2, 2, 6, 8)
assert close(y3, conv_transpose2d_loop(x3, w3, 2, 1, 1))

# %% [markdown]
# In pictures: a 2x2 input (values 1 to 4) with a 3x3 kernel of ones and stride 2 becomes a 5x5
# output. The four blocks overlap on the middle row and column, and the centre pixel gets all four
# copies: 1 + 2 + 3 + 4 = 10.
#
# Counting the copies that land on each pixel (the transposed convolution of ones by ones) shows
# something more. When the stride does not divide the kernel size (k = 3, s = 2), the pixels away
# from the border get 1, 2 or 4 copies, in a checkerboard (棋盘格); when it does (k = 4, s = 2),
# each gets exactly 4. This uneven overlap is one cause of the checkerboard artifacts of
# generated images (Odena, Dumoulin and Olah, "Deconvolution and Checkerboard Artifacts", Distill
# 2016; cited, not shown here).

# %%
small = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
spread = F.conv_transpose2d(mg.tensor(small), mg.ones(1, 1, 3, 3, dtype=mg.float64), stride=2).numpy()[0, 0]
print("2x2 input, 3x3 kernel of ones, stride 2:\n", spread)
assert spread.shape == (5, 5) and spread[2, 2] == 10


def overlap_counts(k: int, size: int = 4) -> np.ndarray:
    """How many kernel copies land on each output pixel: a size x size input, k x k kernel, stride 2."""
    return F.conv_transpose2d(mg.ones(1, 1, size, size), mg.ones(1, 1, k, k), stride=2).numpy()[0, 0]


inside = {k: overlap_counts(k)[2:-2, 2:-2] for k in (3, 4)}  # away from the border, s = 2 pixels wide
print("copies per pixel away from the border, k=3:\n", inside[3].astype(int), "\n k=4:\n", inside[4].astype(int))
assert set(np.unique(inside[3])) == {1, 2, 4} and np.array_equal(inside[3][::2, ::2], np.full((3, 3), 4))
assert (inside[4] == 4).all()

fig = Figure(figsize=(14, 4.6), layout="constrained")
axes = fig.subplots(1, 4, width_ratios=[2, 5, 9, 10])
panels = [(small[0, 0], "input, 2x2"), (spread, "output, 5x5: kernel of ones, stride 2"),
          (overlap_counts(3), "copies per pixel: 4x4 input, k=3, s=2"),
          (overlap_counts(4), "copies per pixel: 4x4 input, k=4, s=2")]
for ax, (values, title) in zip(axes, panels):
    ax.imshow(values, cmap="Blues", vmin=0, vmax=values.max() * 1.6)
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, int(v), ha="center", va="center", fontsize=9)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
for (a, b), colour in zip(np.ndindex(2, 2), ("tab:red", "tab:green", "tab:orange", "tab:purple")):
    axes[0].add_patch(Rectangle((b - 0.5, a - 0.5), 1, 1, fill=False, edgecolor=colour, linewidth=3))
    inset = 0.08 * (2 * a + b)  # each block's outline a little inside the last, so that the overlaps show
    axes[1].add_patch(Rectangle((2 * b - 0.5 + inset, 2 * a - 0.5 + inset), 3 - 2 * inset, 3 - 2 * inset, fill=False,
                                edgecolor=colour, linewidth=2))
path = opts.figure("transposed.png")
fig.savefig(path, dpi=100)
lessons.show(path)

# %% [markdown]
# Keras's padding='same' for a transposed convolution means "output = input x stride", which in
# these terms is padding 2 and output_padding 1 for article 001's 5x5 kernels of stride 2
# (A001-7): $(8 - 1) \cdot 2 - 4 + 5 + 1 = 16$. minigan's `nn.ConvTranspose2d(..., padding="same")`
# works that out; D's stride-2 convolution with padding 2 takes 16 back to 8 (A001-8). Which row
# is cropped differs: TensorFlow crops one row and column fewer at the top and left, so the same
# weights give an output shifted by one pixel (the docstring of `minigan.gan.models.dcgan32`
# says more; not shown here).

# %%
up = mg.nn.ConvTranspose2d(1, 1, 5, stride=2, padding="same", bias=False)
down = mg.nn.Conv2d(1, 1, 5, stride=2, padding=2, bias=False)
grown = up(mg.zeros(1, 1, 8, 8))
print(f"ConvTranspose2d(padding='same'): padding {up.padding}, output_padding {up.output_padding};"
      f" 8 -> {grown.shape[2]} -> Conv2d back to {down(grown).shape[2]}")
assert up.padding == (2, 2) and up.output_padding == (1, 1)
assert grown.shape[2:] == (16, 16) and down(grown).shape[2:] == (8, 8)

# %% [markdown]
# ## 4. Why the backward of one is the other
#
# ### The matrix view
#
# A convolution is linear in its input: flatten the input into a vector and it is a matrix $C$,
# which we can build column by column by convolving each basis image (one pixel 1, the rest 0).
# For a 4x4 image and a 3x3 kernel holding 1 to 9 (stride 1, no padding) $C$ has 4 rows (the
# 2x2 output pixels) and 16 columns, and each row is the kernel laid out over the image, zeros
# elsewhere. The transposed convolution with the same kernel, stride and padding is $C^\top$: that
# is where its name comes from. So it is with stride 2 and padding 1 too, where
# `output_padding` = 1 gives back the 4x4 shape. It is not an inverse: $C$ maps 16 numbers to 4,
# so $C^\top C$ has rank 4 and cannot be the 16x16 identity.

# %%
def matrix_of(op, shape):
    """The matrix of a linear map of images of `shape` (one image, one channel): column j is op(e_j)."""
    basis = np.eye(int(np.prod(shape)))
    return np.stack([op(mg.tensor(e.reshape(1, 1, *shape))).numpy().ravel() for e in basis], axis=1)


kernel = mg.tensor(np.arange(1.0, 10.0).reshape(1, 1, 3, 3))
C = matrix_of(lambda e: F.conv2d(e, kernel), (4, 4))
print("C for a 4x4 image, the 3x3 kernel 1..9, stride 1:\n", C.astype(int))
assert C.shape == (4, 16) and np.array_equal(C[0], [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0])
assert np.linalg.matrix_rank(C.T @ C) == 4

for stride, padding, extra in ((1, 0, 0), (2, 1, 1)):
    C = matrix_of(lambda e, s=stride, p=padding: F.conv2d(e, kernel, stride=s, padding=p), (4, 4))
    x, v = rng.standard_normal((1, 1, 4, 4)), rng.standard_normal((1, 1, 2, 2))
    conv = F.conv2d(mg.tensor(x), kernel, stride=stride, padding=padding).numpy()
    transposed = F.conv_transpose2d(mg.tensor(v), kernel, stride=stride, padding=padding, output_padding=extra)
    print(f"stride {stride}, padding {padding}: conv2d is C x, conv_transpose2d is C^T v:",
          close(conv.ravel(), C @ x.ravel()) and close(transposed.numpy().ravel(), C.T @ v.ravel()))
    assert C.shape == (4, 16) and close(conv.ravel(), C @ x.ravel())
    assert close(transposed.numpy().ravel(), C.T @ v.ravel())

# %% [markdown]
# ### The backward pass
#
# For $y = C x$ and a loss $L$, the chain rule gives $\partial L / \partial x = C^\top\, \partial L / \partial y$:
# the backward pass multiplies the output's gradient (梯度) g by $C^\top$, and that is a transposed
# convolution of g, with the same kernel, stride and padding. The other way round, a transposed
# convolution $z = C^\top u$ has $\partial L / \partial u = C\, \partial L / \partial z$: its
# backward is a convolution.
#
# Only `output_padding` needs a thought: conv2d's floor maps more than one input size onto the
# same output size, so the transposed convolution must be told which to give back:
# $(H + 2\,\text{pad} - k) \bmod s$ extra rows. For step 1's 7x6 input that is 0 rows and 1 column.
# (minigan's backward is not told: the forward op hands its exact sizes on.)

# %%
x = mg.tensor(x1, requires_grad=True)
w = mg.tensor(w1)
y = F.conv2d(x, w, stride=2, padding=1)
g = mg.tensor(rng.standard_normal(y.shape))
(gx,) = mg.grad(y, x, grad_outputs=g)
extra = tuple((n + 2 * 1 - 3) % 2 for n in x1.shape[2:])
back = F.conv_transpose2d(g, w, stride=2, padding=1, output_padding=extra)
print("output_padding for a 7x6 input:", extra)
print("d<conv2d(x), g>/dx equals conv_transpose2d(g):", close(gx, back))
assert extra == (0, 1) and gx.shape == x.shape
assert close(gx, back)

u = mg.tensor(rng.standard_normal(y.shape), requires_grad=True)  # an input of the transposed convolution
z = F.conv_transpose2d(u, w, stride=2, padding=1, output_padding=extra)
h = mg.tensor(rng.standard_normal(z.shape))
(gu,) = mg.grad(z, u, grad_outputs=h)
forward = F.conv2d(h, w, stride=2, padding=1)
print("d<conv_transpose2d(u), h>/du equals conv2d(h):", close(gu, forward))
assert z.shape == x.shape and close(gu, forward)

# %% [markdown]
# A convolution is linear in its kernel too, and the gradient with respect to the kernel uses the
# im2col picture once more: it is $\text{cols}^\top$ times the output's gradient laid out one row
# per output pixel, the kernels' columns in the (i, j, c) order of step 2.

# %%
wt = mg.tensor(w1, requires_grad=True)
(gw,) = mg.grad(F.conv2d(mg.tensor(x1), wt, stride=2, padding=1), wt, grad_outputs=g)
g_rows = g.numpy().transpose(0, 2, 3, 1).reshape(-1, 4)  # (N*Ho*Wo, C_out)
by_matrix = (cols1.T @ g_rows).reshape(3, 3, 3, 4).transpose(3, 2, 0, 1)  # (i, j, c, o) -> (o, c, i, j)
print("dL/dw equals cols^T g:", close(gw, by_matrix))
assert close(gw, by_matrix)

# %% [markdown]
# ### What this means for the engine: gradients of gradients
#
# minigan's conv2d records its backward as ops of the graph, not as a NumPy computation hidden
# inside it: the input gradient is a `ConvTranspose2d` node, whose own backward is a `Conv2d`. So
# a gradient taken with `create_graph=True` can be differentiated again, which is what a gradient
# penalty (梯度惩罚, lesson 4 step 5) on a convolutional discriminator needs. `mg.gradcheck`
# checks the first derivatives against finite differences and `mg.gradgradcheck` the second, in
# float64 (lesson 1, step 4), with respect to both the input and the kernel.

# %%
def conv_s2(x, w):
    return F.conv2d(x, w, stride=2, padding=1)


x = mg.tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
w = mg.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
y = conv_s2(x, w)
g = mg.tensor(rng.standard_normal(y.shape), requires_grad=True)  # an output gradient, itself differentiable
(gx,) = mg.grad(y, x, grad_outputs=g, create_graph=True)
(gg,) = mg.grad(gx, g, grad_outputs=mg.tensor(rng.standard_normal(gx.shape)), create_graph=True)
print("the input gradient was made by:", type(gx.grad_fn).__name__, "  and its gradient by:", type(gg.grad_fn).__name__)
assert type(gx.grad_fn).__name__ == "ConvTranspose2d" and type(gg.grad_fn).__name__ == "Conv2d"

first, second = mg.gradcheck(conv_s2, (x, w)), mg.gradgradcheck(conv_s2, (x, w))
print("gradcheck    :", first)
print("gradgradcheck:", second)
assert first and second

# %% [markdown]
# ## 5. What im2col buys: one timing
#
# One timing of the loop of step 1 against conv2d, for a batch of 8 images of 16 channels and
# 32x32 pixels with 32 kernels of 3x3. A timing depends on the machine and on what else it runs,
# so it is printed, not asserted; that the two agree is asserted.

# %%
xb, wb = rng.standard_normal((8, 16, 32, 32)), rng.standard_normal((32, 16, 3, 3))
start = time.perf_counter()
slow = conv2d_loop(xb, wb, 1, 1)
loop_time = time.perf_counter() - start
start = time.perf_counter()
fast = F.conv2d(mg.tensor(xb), mg.tensor(wb), padding=1)
kernel_time = time.perf_counter() - start
print(f"loop over 32x32 output pixels: {1000 * loop_time:.1f} ms;  im2col + one matrix product: "
      f"{1000 * kernel_time:.1f} ms")
assert close(fast, slow)


# %% [markdown]
# ## Exercises
#
# [`exercises/02_convolution.py`](../exercises/02_convolution.py): im2col without a loop over pixels (2.1),
# and conv2d's input gradient as a transposed convolution, `output_padding` included (2.2).
# `minigan exercises check all` grades every exercise; `minigan exercises list` lists them.
