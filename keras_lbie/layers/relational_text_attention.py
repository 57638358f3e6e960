import math

import keras
from keras import ops

from keras_lbie.layers.text_attention import TextAttention
from keras_lbie.utils.validation import check_odd_positive_int
from keras_lbie.utils.validation import check_rank
from keras_lbie.utils.validation import check_same_batch


@keras.saving.register_keras_serializable(package="keras_lbie")
class RelationalTextAttention(TextAttention):
    """Text attention that can find a region by its relation to another.

    Extends the attention of Chen et al., "Language-Based Image Editing
    with Recurrent Attentive Models", CVPR 2018, Section 3, to sentences
    that describe a region by where it lies next to another one ("The
    shape left of the diamond is blue."). The paper's logit s_i^T W u_j
    compares region `i` with sentence `j` as a whole, so it cannot tell
    the shape left of a diamond from the one right of it. Here each
    sentence also marks the regions holding what it *mentions*, and moves
    that map by where it says its target lies, a distribution k_j over the
    offsets of a `kernel_size` square (a dynamic filter, De Brabandere et
    al., NeurIPS 2016, in the spirit of the "find" and "transform" modules
    of neural module networks, Andreas et al., CVPR 2016):

        a_ij    = s_i^T W u_j                      the paper's logit
        m_ij    = s_i^T W_m w_j                    what sentence j mentions
        k_j     = softmax(W_k u_j + b_k)           where its target lies
        beta_ij ∝ exp(a_ij + sum_o k_j(o) m_{i+o, j})

    with m = 0 outside the image. `w_j` are context-free features of the
    sentence's words (`word_features`, e.g. the sum of their embeddings):
    "diamond" then marks the diamond in "The diamond is yellow." and in
    "The shape left of the diamond is blue." alike, so what the direct
    sentences teach the mention map carries over to the relational ones,
    which only have to learn the offset their relation word means. (With
    features that read the whole sentence, such as `u_j`, training learns
    to keep a relational sentence off the shape it names, which is the
    offset's signal.) Without `word_features`, `w_j = u_j`. b_k starts
    with half of every k_j on the centre. Nothing here knows a grid:
    `kernel_size` is the reach of a relation in regions (a CoSaL tile is
    2 regions of the paper's encoder, hence 5).

    Args:
        units: `None` or a positive int, the rank of `W` and of `W_m` (see
            `TextAttention`).
        kernel_size: odd positive int, side of the offset map `k_j`.
        **kwargs: standard layer arguments.

    Call arguments:
        query, value, mask, return_attention_scores: as `TextAttention`.
        word_features: optional float tensor `(batch, length, E)`, the
            `w_j`; `value` when None. The layer must be built with (or
            without) them as it is called.

    Returns:
        As `TextAttention`.

    Example:
    >>> attention = RelationalTextAttention(units=16, kernel_size=5)
    >>> state = np.random.rand(2, 6, 6, 16).astype("float32")
    >>> sentences = np.random.rand(2, 9, 32).astype("float32")
    >>> words = np.random.rand(2, 9, 24).astype("float32")
    >>> attention(state, sentences, word_features=words).shape
    TensorShape([2, 6, 6, 32])
    """

    def __init__(self, units=None, kernel_size=5, **kwargs):
        super().__init__(units=units, **kwargs)
        check_odd_positive_int(kernel_size, "kernel_size")
        self.kernel_size = kernel_size

    def build(self, query_shape, value_shape, word_features_shape=None):
        super().build(query_shape, value_shape)
        words_shape = word_features_shape or value_shape
        rank = self.units or words_shape[-1]
        self.mention_query_dense = self._dense(
            rank, "mention_query_dense", query_shape
        )
        self.mention_key_dense = self._dense(
            rank, "mention_key_dense", words_shape
        )
        offsets = self.kernel_size**2
        # Half of every offset map on its centre at the start.
        bias = [0.0] * offsets
        bias[offsets // 2] = math.log(max(offsets - 1, 1))
        self.offset_dense = self._dense(
            offsets,
            "offset_dense",
            value_shape,
            bias_initializer=keras.initializers.Constant(bias),
        )

    def _dense(self, units, name, input_shape, **kwargs):
        layer = keras.layers.Dense(
            units,
            use_bias="bias_initializer" in kwargs,
            dtype=self.dtype_policy,
            name=name,
            **kwargs,
        )
        layer.build(input_shape)
        return layer

    def call(
        self,
        query,
        value,
        mask=None,
        word_features=None,
        return_attention_scores=False,
    ):
        mask = self._checked_mask(query, value, mask)
        words = value if word_features is None else word_features
        self._check_words(value, words)
        mentions = ops.einsum(
            "bhwr,blr->bhwl",
            self.mention_query_dense(query),
            self.mention_key_dense(words),
        )
        offsets = ops.softmax(
            ops.cast(self.offset_dense(value), "float32"), axis=-1
        )
        scores = self.attention_logits(query, value) + self._move(
            ops.cast(mentions, "float32"), offsets
        )
        return self._attend(scores, value, mask, return_attention_scores)

    def _check_words(self, value, words):
        check_rank(words.shape, 3, "word_features", "(batch, length, E)")
        check_same_batch({"value": value.shape, "word_features": words.shape})
        if None not in (words.shape[1], value.shape[1]) and (
            words.shape[1] != value.shape[1]
        ):
            raise ValueError(
                "`word_features` must have one entry per entry of `value` "
                f"({value.shape[1]}). Received shape: {tuple(words.shape)}"
            )
        expected = self.mention_key_dense.kernel.shape[0]
        if words.shape[-1] != expected:
            raise ValueError(
                f"`word_features` must have {expected} channels, as when "
                f"the layer was built. Received: {words.shape[-1]}"
            )

    def _move(self, maps, offsets):
        """sum_o offsets[b, l, o] maps[b, i + o, l], zero outside."""
        radius = self.kernel_size // 2
        height, width = maps.shape[1], maps.shape[2]
        if height is None or width is None:
            height, width = ops.shape(maps)[1], ops.shape(maps)[2]
        padded = ops.pad(
            maps, ((0, 0), (radius, radius), (radius, radius), (0, 0))
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
