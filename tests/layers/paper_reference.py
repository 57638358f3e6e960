"""Plain numpy versions of the paper's equations, the tests' ground truth.

Chen et al., CVPR 2018, Section 3 and Algorithm 1, written as directly as
numpy allows: no fused kernels, no masking tricks, loops where the paper
has sums.
"""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def conv2d_same(x, kernel, bias=None):
    """Naive stride-1 'same' 2-D convolution of `(B, H, W, C)` by `(k, k,
    C, F)`, zero padded as Keras pads (the extra row/column at the end)."""
    kh, kw = kernel.shape[:2]
    top, left = (kh - 1) // 2, (kw - 1) // 2
    padded = np.pad(
        x, ((0, 0), (top, kh - 1 - top), (left, kw - 1 - left), (0, 0))
    )
    height, width = x.shape[1:3]
    out = np.zeros(x.shape[:3] + (kernel.shape[-1],))
    for dy in range(kh):
        for dx in range(kw):
            window = padded[:, dy : dy + height, dx : dx + width]
            out += window @ kernel[dy, dx]
    return out if bias is None else out + bias


def attention(state, words, w, mask=None):
    """beta_ij ∝ exp(s_i^T W u_j) over real tokens; û_i = sum_j beta_ij u_j.

    `w` is the full `D x K` bilinear matrix. Returns (û, beta).
    """
    scores = np.einsum("bhwd,dk,blk->bhwl", state, w, words)
    if mask is None:
        mask = np.ones(words.shape[:2], bool)
    beta = np.zeros_like(scores)
    for b in range(scores.shape[0]):
        valid = mask[b]
        if not valid.any():
            continue
        s = scores[b][..., valid]
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        beta[b][..., valid] = e / e.sum(axis=-1, keepdims=True)
    return np.einsum("bhwl,blk->bhwk", beta, words), beta


def conv_gru(state, context, w):
    """The C-GRU equations; `w` maps "W1".."W7", "b1", "b2", "b"."""
    z = sigmoid(
        conv2d_same(state, w["W1"]) + conv2d_same(context, w["W2"]) + w["b1"]
    )
    r = sigmoid(
        conv2d_same(state, w["W3"]) + conv2d_same(context, w["W4"]) + w["b2"]
    )
    c = np.maximum(
        conv2d_same(r * state, w["W5"])
        + conv2d_same(context, w["W6"])
        + w["b"],
        0.0,
    )
    h = (1 - z) * state + z * c
    return h, conv2d_same(h, w["W7"])


def stop_probabilities(gate_logits):
    """beta_t = f_t prod_{k<t}(1 - f_k), the last step taking the rest.

    `gate_logits` is `(B, T, ...)`; returns the betas, same shape.
    """
    f = sigmoid(gate_logits)
    beta = np.zeros_like(f)
    remaining = np.ones_like(f[:, 0])
    steps = f.shape[1]
    for t in range(steps):
        stop = f[:, t] if t < steps - 1 else 1.0
        beta[:, t] = remaining * stop
        remaining = remaining * (1.0 - f[:, t])
    return beta
