import keras
from keras import ops

from keras_lbie.layers.text_attention import TextAttention
from keras_lbie.layers.text_encoder import TextEncoder
from keras_lbie.models.backbone import Backbone
from keras_lbie.models.lbie_colorizer.lbie_colorizer_backbone import L_HINT
from keras_lbie.models.lbie_colorizer.lbie_colorizer_backbone import (
    check_caption_ids,
)
from keras_lbie.utils.validation import check_float_image
from keras_lbie.utils.validation import check_input_keys
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_positive_ints

_INPUT_KEYS = ("image_l", "ab", "token_ids")


@keras.saving.register_keras_serializable(package="keras_lbie")
class TextConditionedDiscriminator(Backbone):
    """The colorization discriminator D(E', caption) of the paper.

    Chen et al., "Language-Based Image Editing with Recurrent Attentive
    Models", CVPR 2018, Section 3 ("Discriminator") and Section 4.3: a CNN
    reads the colour image E' = (L, ab) and an LSTM reads the caption; each
    region of the image features attends over the words ("the language
    features are extracted using the attention mechanism and aligned to
    features extracted from each region"), with an LSTM, embedding and
    attention of its own (no weight shared with the generator). A
    functional model:

    1. `len(filters)` convolutions of stride 2 (kernel `kernel_size`,
       "same" padding) on concat(L, ab), ReLU after all but the last
       (Section 4.3: "5 layers of convolutional networks of stride 2, with
       the output dimension 256, 128, 64, 32, 31");
    2. before the last convolution, `TextAttention` (query: each region's
       image features; values: the LSTM's word features, padding masked)
       gives each region a caption vector, concatenated to its features, as
       Reed et al. (ICML 2016) join text and image features before the
       discriminator's last layer;
    3. the last convolution gives per-patch logits; the score is the mean of
       their sigmoids ("the discriminator score is the average of the final
       output").

    The paper lists 31 output channels for the last layer, which we read as
    a typo for 1 (one realness logit per patch), the default; pass
    `filters=(256, 128, 64, 32, 31)` for the literal reading (the score then
    averages over the 31 channels too).

    A `Backbone` in its config and input checks, though no task wraps it:
    `LBIEColorizerGAN` trains it beside the generator.

    There is no normalisation layer (the paper names none): batch
    statistics would differ between replicas under `tf.distribute`.

    Args:
        vocabulary_size: positive int, the number of word ids (id 0 is
            padding); the generator's tokenizer's `vocabulary_size`.
        image_size: positive int, the height and width of the images.
        filters: sequence of at least two positive ints, the output
            channels of the stride-2 convolutions.
        kernel_size: positive int, the convolutions' kernel size.
        embedding_dim: positive int, the word embedding size.
        text_units: positive int, the LSTM units.
        attention_units: positive int, rank of the attention's bilinear form.
        max_words: positive int, word ids per caption.
        **kwargs: standard model arguments (`name`, ...).

    Inputs:
        A dict with `"image_l"` float `(batch, image_size, image_size, 1)`,
        L scaled to [-1, 1]; `"ab"` float `(batch, image_size, image_size,
        2)`, ab scaled to [-1, 1] (the target or the generator's output);
        `"token_ids"` int `(batch, max_words)` from the generator's
        `CaptionTokenizer`, 0 for padding. An all-padding caption attends
        to nothing (zero caption vectors).

    Outputs:
        A dict with `"logits"` float32 `(batch, m, n, filters[-1])`, the
        per-patch logits (m = n = image_size / 2 ** len(filters), rounded
        up), and `"score"` float32 `(batch,)`, the mean of their sigmoids:
        D's probability that the image is real and matches the caption.

    Example:
    >>> discriminator = TextConditionedDiscriminator(vocabulary_size=100)
    >>> outputs = discriminator({
    ...     "image_l": np.zeros((1, 256, 256, 1), "float32"),
    ...     "ab": np.zeros((1, 256, 256, 2), "float32"),
    ...     "token_ids": np.ones((1, 32), "int32"),
    ... })
    >>> outputs["logits"].shape, outputs["score"].shape
    (TensorShape([1, 8, 8, 1]), TensorShape([1]))
    """

    def __init__(
        self,
        vocabulary_size,
        image_size=256,
        filters=(256, 128, 64, 32, 1),
        kernel_size=4,
        embedding_dim=128,
        text_units=128,
        attention_units=128,
        max_words=32,
        **kwargs,
    ):
        for name, value in (
            ("vocabulary_size", vocabulary_size),
            ("image_size", image_size),
            ("kernel_size", kernel_size),
            ("embedding_dim", embedding_dim),
            ("text_units", text_units),
            ("attention_units", attention_units),
            ("max_words", max_words),
        ):
            check_positive_int(value, name)
        filters = check_positive_ints(filters, "filters")
        if len(filters) < 2:
            raise ValueError(
                "`filters` needs at least two convolutions (the caption "
                f"joins before the last one). Received: {filters}"
            )

        # === Layers ===
        convs = [
            keras.layers.Conv2D(
                channels,
                kernel_size,
                strides=2,
                padding="same",
                activation="relu",
                name=f"image_conv_{index}",
            )
            for index, channels in enumerate(filters[:-1])
        ]
        text_encoder = TextEncoder(
            vocabulary_size,
            embedding_dim=embedding_dim,
            units=text_units,
            name="text_encoder",
        )
        attention = TextAttention(units=attention_units, name="attention")
        # float32 under mixed precision: the loss reads the logits.
        output_conv = keras.layers.Conv2D(
            filters[-1],
            kernel_size,
            strides=2,
            padding="same",
            dtype="float32",
            name="patch_logits",
        )

        # === Functional model ===
        image_l = keras.Input(
            (image_size, image_size, 1), dtype="float32", name="image_l"
        )
        ab = keras.Input(
            (image_size, image_size, 2), dtype="float32", name="ab"
        )
        token_ids = keras.Input((max_words,), dtype="int32", name="token_ids")
        x = ops.concatenate([image_l, ab], axis=-1)
        for conv in convs:
            x = conv(x)
        words = text_encoder(token_ids)
        caption = attention(x, words, mask=ops.not_equal(token_ids, 0))
        logits = output_conv(ops.concatenate([x, caption], axis=-1))
        score = ops.mean(ops.sigmoid(logits), axis=(1, 2, 3))
        super().__init__(
            inputs={"image_l": image_l, "ab": ab, "token_ids": token_ids},
            outputs={"logits": logits, "score": score},
            **kwargs,
        )

        self.store_arguments(locals())

    def check_inputs(self, inputs):
        check_input_keys(inputs, _INPUT_KEYS)
        check_float_image(
            inputs["image_l"], self.image_size, 1, "image_l", L_HINT
        )
        check_float_image(inputs["ab"], self.image_size, 2, "ab")
        check_caption_ids(inputs["token_ids"], self.max_words)
