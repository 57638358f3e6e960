import math

import keras
from keras import ops

from keras_lbie.layers.text_attention import TextAttention
from keras_lbie.utils.validation import check_odd_positive_int


@keras.saving.register_keras_serializable(package="keras_lbie")
class RelationalTextAttention(TextAttention):
    """Text attention that can find a region by its relation to another.

    Extends the attention of Chen et al., "Language-Based Image Editing
    with Recurrent Attentive Models", CVPR 2018, Section 3, to sentences
    that describe a region by where it lies next to another one ("The
    shape left of the diamond is blue."). The paper's logit s_i^T W u_j
    compares region `i` with what sentence `j` names, so such a sentence
    scores highest on the diamond, not on the shape left of it. Here each
    sentence also predicts where its target lies relative to what it
    names, a distribution k_j over the offsets of a `kernel_size` square,
    and the logit map is moved accordingly (a dynamic filter, De
    Brabandere et al., NeurIPS 2016, in the spirit of the "find" and
    "transform" modules of neural module networks, Andreas et al., CVPR
    2016):

        a_ij   = s_i^T W u_j                            what it names
        k_j    = softmax(W_k u_j + b_k)                 where, relative to it
        beta_ij ∝ exp(sum_o k_j(o) a_{i+o, j})          moved there

    with a = 0 outside the image. With the offset map on its centre this
    is the paper's attention, which is how the layer starts: b_k puts half
    of every k_j on the centre. The same W finds what a direct sentence
    ("The diamond is yellow.") and a relational one name, so what the
    direct sentences teach carries over; a relational sentence only has
    to learn the offset its relation word means. Nothing here knows a
    grid: `kernel_size` is the reach of one relation in regions (a CoSaL
    tile is 2 regions of the paper's encoder, hence 5).

    Args:
        units: `None` or a positive int, the rank of the paper's bilinear
            form `W` (see `TextAttention`).
        kernel_size: odd positive int, side of the offset map `k_j`.
        **kwargs: standard layer arguments.

    Call arguments and returns: as `TextAttention`.

    Example:
    >>> attention = RelationalTextAttention(units=16, kernel_size=5)
    >>> state = np.random.rand(2, 6, 6, 16).astype("float32")
    >>> sentences = np.random.rand(2, 9, 32).astype("float32")
    >>> attention(state, sentences).shape
    TensorShape([2, 6, 6, 32])
    """

    def __init__(self, units=None, kernel_size=5, **kwargs):
        super().__init__(units=units, **kwargs)
        check_odd_positive_int(kernel_size, "kernel_size")
        self.kernel_size = kernel_size

    def build(self, query_shape, value_shape):
        super().build(query_shape, value_shape)
        offsets = self.kernel_size**2
        centre = offsets // 2
        # Half of every offset map on its centre: the paper's attention.
        bias = [0.0] * offsets
        bias[centre] = math.log(max(offsets - 1, 1))
        self.offset_dense = keras.layers.Dense(
            offsets,
            bias_initializer=keras.initializers.Constant(bias),
            dtype=self.dtype_policy,
            name="offset_dense",
        )
        self.offset_dense.build(value_shape)

    def attention_logits(self, query, value):
        """sum_o k_j(o) a_{i+o, j}, float32 `(batch, height, width, L)`."""
        logits = super().attention_logits(query, value)
        offsets = ops.softmax(
            ops.cast(self.offset_dense(value), "float32"), axis=-1
        )
        radius = self.kernel_size // 2
        height, width = logits.shape[1], logits.shape[2]
        if height is None or width is None:
            height, width = ops.shape(logits)[1], ops.shape(logits)[2]
        padded = ops.pad(
            logits, ((0, 0), (radius, radius), (radius, radius), (0, 0))
        )
        shifted = [
            padded[:, dy : dy + height, dx : dx + width, :]
            for dy in range(self.kernel_size)
            for dx in range(self.kernel_size)
        ]
        return ops.einsum(
            "bhwlo,blo->bhwl", ops.stack(shifted, axis=-1), offsets
        )

    def get_config(self):
        config = super().get_config()
        config.update({"kernel_size": self.kernel_size})
        return config
