import keras
from keras import ops

from keras_lbie.utils.validation import check_known_channels
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_rank
from keras_lbie.utils.validation import check_same_batch
from keras_lbie.utils.validation import check_sequence_mask

# Logit given to padding. The softmax always runs in float32, so this never
# meets float16's range.
_PADDING_LOGIT = -1e9


@keras.saving.register_keras_serializable(package="keras_lbie")
class TextAttention(keras.layers.Layer):
    """Attention of every image region over the language features.

    Implements the attention of Chen et al., "Language-Based Image Editing
    with Recurrent Attentive Models", CVPR 2018, Section 3. For the state
    `s_i` of region `i` and the language features `u_j`,

        beta_ij ∝ exp(s_i^T W u_j),    û_i = sum_j beta_ij u_j.

    With `units=None`, `W` is a full `D x K` bilinear kernel. With
    `units=n`, `W` is factored as `W_q W_k^T` with `W_q` of shape `D x n`
    and `W_k` of shape `K x n` (the paper's "attention model has 16 units"
    on CoSaL). Neither form has a bias.

    Args:
        units: `None` for a full bilinear `W`, or a positive int, the rank of
            the factored `W`.
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        query: float tensor `(batch, height, width, D)`, the internal state
            `S` of every region.
        value: float tensor `(batch, length, K)`, the language features `U`.
        mask: optional bool tensor `(batch, length)`, `True` for real
            tokens. When `None`, the Keras mask of `value` is used (e.g. the
            one a `TextEncoder` attaches), otherwise every token is valid.
            Padding never receives attention. A sample whose tokens are all
            padding gets attention weights of zero and `û = 0`.
        return_attention_scores: bool, also return the attention weights.

    Returns:
        `û`, a tensor `(batch, height, width, K)` in the compute dtype, or
        with `return_attention_scores=True` the tuple `(û, weights)` with
        `weights` of shape `(batch, height, width, length)`, summing to one
        over `length` for samples with at least one real token. The softmax
        is computed in float32.

    Example:
    >>> attention = TextAttention(units=16)
    >>> state = np.random.rand(2, 6, 6, 16).astype("float32")
    >>> words = np.random.rand(2, 9, 32).astype("float32")
    >>> mask = np.arange(9)[None, :] < np.array([[9], [5]])
    >>> attended, weights = attention(
    ...     state, words, mask=mask, return_attention_scores=True
    ... )
    >>> attended.shape, weights.shape
    (TensorShape([2, 6, 6, 32]), TensorShape([2, 6, 6, 9]))
    """

    def __init__(self, units=None, **kwargs):
        super().__init__(**kwargs)
        if units is not None:
            check_positive_int(units, "units")
        self.units = units

    def build(self, query_shape, value_shape):
        self._check_shapes(query_shape, value_shape)
        value_dim = value_shape[-1]
        # The full W maps the query straight into the value space; the
        # factored one meets a projection of the value in a rank-n space.
        self.query_dense = keras.layers.Dense(
            value_dim if self.units is None else self.units,
            use_bias=False,
            dtype=self.dtype_policy,
            name="query_dense",
        )
        self.query_dense.build(query_shape)
        if self.units is not None:
            self.key_dense = keras.layers.Dense(
                self.units,
                use_bias=False,
                dtype=self.dtype_policy,
                name="key_dense",
            )
            self.key_dense.build(value_shape)

    def _check_shapes(self, query_shape, value_shape, mask_shape=None):
        check_rank(query_shape, 4, "query", "(batch, height, width, D)")
        check_rank(value_shape, 3, "value", "(batch, length, K)")
        check_known_channels(query_shape, "query")
        check_known_channels(value_shape, "value")
        shapes = {"query": query_shape, "value": value_shape}
        if mask_shape is not None:
            check_sequence_mask(mask_shape, value_shape, "mask", "value")
            shapes["mask"] = mask_shape
        check_same_batch(shapes)

    def _check_built_channels(self, query_shape, value_shape):
        expected = {"query": self.query_dense.kernel.shape[0]}
        if self.units is None:
            expected["value"] = self.query_dense.kernel.shape[1]
        else:
            expected["value"] = self.key_dense.kernel.shape[0]
        received = {"query": query_shape[-1], "value": value_shape[-1]}
        for name, channels in expected.items():
            if received[name] != channels:
                raise ValueError(
                    f"`{name}` must have {channels} channels, as when the "
                    f"layer was built. Received: {received[name]}"
                )

    def call(self, query, value, mask=None, return_attention_scores=False):
        mask = self._checked_mask(query, value, mask)
        return self._attend(
            self.attention_logits(query, value),
            value,
            mask,
            return_attention_scores,
        )

    def _checked_mask(self, query, value, mask):
        """The mask to use (given or Keras's), once the shapes are checked."""
        if mask is None:
            mask = getattr(value, "_keras_mask", None)
        self._check_shapes(
            query.shape, value.shape, None if mask is None else mask.shape
        )
        self._check_built_channels(query.shape, value.shape)
        return mask

    def _attend(self, scores, value, mask, return_attention_scores):
        """The masked softmax of float32 `scores` and the attended value."""
        # The softmax runs in float32 whatever the compute dtype: its
        # normalising sum is where half precision loses the most.
        if mask is None:
            weights = ops.softmax(scores, axis=-1)
        else:
            mask = ops.cast(mask, "bool")[:, None, None, :]
            weights = ops.softmax(
                ops.where(mask, scores, _PADDING_LOGIT), axis=-1
            )
            # An all-padding row has a uniform softmax over padding; the
            # mask zeroes it, elsewhere padding is already exp(-1e9) = 0.
            weights = ops.where(mask, weights, 0.0)
        weights = ops.cast(weights, self.compute_dtype)
        attended = ops.einsum("bhwl,blk->bhwk", weights, value)
        if return_attention_scores:
            return attended, weights
        return attended

    def attention_logits(self, query, value):
        """s_i^T W u_j, float32 `(batch, height, width, length)`."""
        keys = value if self.units is None else self.key_dense(value)
        scores = ops.einsum("bhwk,blk->bhwl", self.query_dense(query), keys)
        return ops.cast(scores, "float32")

    def compute_mask(self, query, previous_mask=None):
        # The token mask is consumed here: every region of the output is
        # valid, whatever padding the text had.
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config
