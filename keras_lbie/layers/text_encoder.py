import keras
from keras import ops

from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_rank
from keras_lbie.utils.validation import check_token_ids


@keras.saving.register_keras_serializable(package="keras_lbie")
class TextEncoder(keras.layers.Layer):
    """Word embedding and (Bi)LSTM: the language encoder.

    Implements the language encoder of Chen et al., "Language-Based Image
    Editing with Recurrent Attentive Models", CVPR 2018, Section 3: each
    token is embedded, then an LSTM (or a BiLSTM) gives every token a
    contextual feature `u_j`, the language feature map `U` that
    `TextAttention` reads.

    Args:
        vocabulary_size: positive int, the number of token ids; id 0 is
            padding.
        embedding_dim: positive int, the word embedding size.
        units: positive int, the LSTM units per direction.
        bidirectional: bool, run a forward and a backward LSTM and
            concatenate their outputs.
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        token_ids: int tensor `(batch, length)`, 0 for padding. Padding may
            sit on either side (or anywhere): the LSTMs skip it, so the
            features of real tokens do not depend on it.

    Returns:
        A tensor `(batch, length, units)`, or `(batch, length, 2 * units)`
        when bidirectional, zero at padding positions. Its Keras mask is
        `token_ids != 0`, so `TextAttention` ignores the padding.

    Example:
    >>> encoder = TextEncoder(vocabulary_size=100, embedding_dim=8, units=16)
    >>> token_ids = np.array([[0, 0, 5, 7, 9], [3, 4, 5, 6, 7]])
    >>> encoder(token_ids).shape
    TensorShape([2, 5, 16])
    """

    def __init__(
        self,
        vocabulary_size,
        embedding_dim,
        units,
        bidirectional=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int(vocabulary_size, "vocabulary_size")
        check_positive_int(embedding_dim, "embedding_dim")
        check_positive_int(units, "units")
        if not isinstance(bidirectional, bool):
            raise ValueError(
                f"`bidirectional` must be a bool. Received: {bidirectional!r}"
            )
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.bidirectional = bidirectional

    def build(self, token_ids_shape):
        check_rank(token_ids_shape, 2, "token_ids", "(batch, length)")
        self.embedding = keras.layers.Embedding(
            self.vocabulary_size,
            self.embedding_dim,
            mask_zero=True,
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.embedding.build(token_ids_shape)
        self.lstm = keras.layers.LSTM(
            self.units,
            return_sequences=True,
            zero_output_for_mask=True,
            dtype=self.dtype_policy,
            name="lstm",
        )
        if self.bidirectional:
            self.lstm = keras.layers.Bidirectional(
                self.lstm, dtype=self.dtype_policy, name="bidirectional_lstm"
            )
        self.lstm.build((*token_ids_shape, self.embedding_dim))

    def call(self, token_ids):
        check_token_ids(token_ids, 2, "(batch, length)")
        return self.lstm(
            self.embedding(token_ids), mask=self.compute_mask(token_ids)
        )

    def compute_mask(self, token_ids, mask=None):
        return ops.not_equal(token_ids, 0)

    def compute_output_shape(self, token_ids_shape):
        directions = 2 if self.bidirectional else 1
        return (*token_ids_shape, directions * self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "embedding_dim": self.embedding_dim,
                "units": self.units,
                "bidirectional": self.bidirectional,
            }
        )
        return config
