import math

import keras
from keras import ops

from keras_lbie.layers.conv_gru_fusion import ConvGRUFusion
from keras_lbie.layers.termination_gate import check_termination_mode
from keras_lbie.layers.text_encoder import TextEncoder
from keras_lbie.models.backbone import Backbone
from keras_lbie.utils.validation import check_batched_ids
from keras_lbie.utils.validation import check_float_image
from keras_lbie.utils.validation import check_input_keys
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_positive_ints
from keras_lbie.utils.validation import check_seed
from keras_lbie.utils.validation import check_temperature

# The paper's colorization encoder (Section 4.3): "a 15-layer convolutional
# network similar to [33]" (Zhang et al., "Colorful Image Colorization",
# ECCV 2016): its VGG-like blocks of 3x3 convolutions, 64-64 | 128-128 |
# 256 x3 | 512 x3 | 512 x3 | 512 x2, each of the first four ending with a
# stride-2 convolution (256 px → 16×16×512).
PAPER_ENCODER_FILTERS = (64,) * 2 + (128,) * 2 + (256,) * 3 + (512,) * 8
PAPER_ENCODER_STRIDES = (1, 2, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1)

# Appended to shape errors of scaled-L inputs.
L_HINT = (
    " `image_l` is the lightness L / 50 - 1 of each image: convert RGB with "
    "`keras_lbie.color.rgb_to_model_inputs`."
)


def check_caption_ids(token_ids, max_words):
    """Raises unless `token_ids` is a numeric `(batch, max_words)`."""
    check_batched_ids(
        token_ids, {"max_words": max_words}, "word ids from a CaptionTokenizer"
    )


@keras.saving.register_keras_serializable(package="keras_lbie")
class LBIEColorizerBackbone(Backbone):
    """The paper's language-based colorization generator, on word ids.

    Chen et al., "Language-Based Image Editing with Recurrent Attentive
    Models", CVPR 2018, Sections 3 and 4.3: given the lightness L of an
    image and a caption, predict its ab colour channels. A functional
    model:

    1. image encoder: `len(encoder_filters)` 3x3 "same" convolutions with
       ReLU, strides `encoder_strides` (the paper's 15-layer encoder by
       default: 256 px → 16×16×512), giving V `(batch, M, N, D)`;
    2. text encoder: `TextEncoder`, a word embedding and a BiLSTM of
       `text_units` per direction over the caption's words, giving U
       `(batch, max_words, 2 * text_units)`;
    3. fusion: `ConvGRUFusion` (Algorithm 1: attention over the words,
       C-GRU and termination gates, `max_steps` steps), attending only to
       real words; with `max_steps > 1` the decoder reads the gate-weighted
       fusion of the steps (a Gumbel-softmax sample in training with
       `termination_mode="gumbel"`, beta-weighted with `"expected"`, each
       region's argmax step at inference), so every step trains;
    4. decoder: per entry of `decoder_filters`, a `Conv2DTranspose` with
       stride `decoder_strides[i]` (kernel twice the stride) and ReLU, then
       two 3x3 convolutions (the paper's "2 deconvolutional layers, each
       followed by 2 convolutional layers"); the very last convolution has
       2 channels and tanh, so ab lies in [-1, 1] (`keras_lbie.color`'s
       `ab / AB_SCALE`). It is computed in float32 under mixed precision.

    There is no normalisation layer (the paper names none): batch
    statistics would differ between replicas under `tf.distribute`.

    Train it with `LBIEColorizerGAN` (GAN + L1, the paper's objective), or
    alone with `compile(loss="mae")` on `"ab"` for an L1-only baseline.

    Args:
        vocabulary_size: positive int, the number of word ids (the
            tokenizer's `vocabulary_size`; id 0 is padding).
        image_size: positive int, the height and width of the images;
            divisible by the encoder stride `prod(encoder_strides)`.
        encoder_filters: sequence of positive ints, channels of each 3x3
            convolution of the image encoder.
        encoder_strides: sequence of positive ints, one stride per
            encoder convolution.
        embedding_dim: positive int, the word embedding size.
        text_units: positive int, units per direction of the BiLSTM.
        fusion_units: positive int, channels of the C-GRU state ("GRU
            units"); a 1x1 convolution projects V when D differs.
        attention_units: positive int, rank of the attention's bilinear form.
        max_steps: positive int, the number of fusion steps T (1 in the
            paper's colorization experiment).
        termination_mode: `"gumbel"` or `"expected"`, how training mixes
            the steps when `max_steps > 1` (see `TerminationGate`).
        temperature: positive float, the initial Gumbel-softmax temperature.
        decoder_filters: sequence of positive ints, channels of each
            deconvolution block.
        decoder_strides: sequence of positive ints, one upsampling factor per
            deconvolution; their product must equal the encoder stride.
        max_words: positive int, word ids per caption.
        seed: optional int, seeds the Gumbel noise.
        **kwargs: standard model arguments (`name`, ...).

    Inputs:
        A dict with `"image_l"` float32 `(batch, image_size, image_size, 1)`,
        L scaled to [-1, 1] (`L / 50 - 1`, as
        `keras_lbie.color.rgb_to_model_inputs` and
        `keras_lbie.datasets.flowers.as_dataset` give it), and
        `"token_ids"` int32 `(batch, max_words)` from a `CaptionTokenizer`,
        0 for padding.

    Outputs:
        A dict with `"ab"` float32 `(batch, image_size, image_size, 2)` in
        [-1, 1]; `"attention"` `(batch, T, M, N, max_words)`, each region's
        attention over the words per step (zero on padding); `"stop_step"`
        int32 `(batch, M, N)`, the 0-based argmax stop step of each region.

    Example:
    >>> backbone = LBIEColorizerBackbone(vocabulary_size=100)
    >>> outputs = backbone({
    ...     "image_l": np.zeros((1, 256, 256, 1), "float32"),
    ...     "token_ids": np.ones((1, 32), "int32"),
    ... })
    >>> outputs["ab"].shape
    TensorShape([1, 256, 256, 2])
    """

    def __init__(
        self,
        vocabulary_size,
        image_size=256,
        encoder_filters=PAPER_ENCODER_FILTERS,
        encoder_strides=PAPER_ENCODER_STRIDES,
        embedding_dim=300,
        text_units=512,
        fusion_units=128,
        attention_units=128,
        max_steps=1,
        termination_mode="gumbel",
        temperature=1.0,
        decoder_filters=(128, 64),
        decoder_strides=(4, 4),
        max_words=32,
        seed=None,
        **kwargs,
    ):
        for name, value in (
            ("vocabulary_size", vocabulary_size),
            ("image_size", image_size),
            ("embedding_dim", embedding_dim),
            ("text_units", text_units),
            ("fusion_units", fusion_units),
            ("attention_units", attention_units),
            ("max_steps", max_steps),
            ("max_words", max_words),
        ):
            check_positive_int(value, name)
        check_termination_mode(termination_mode)
        check_temperature(temperature)
        check_seed(seed)
        encoder_filters, encoder_strides = _check_strided_layers(
            encoder_filters, encoder_strides, "encoder"
        )
        decoder_filters, decoder_strides = _check_strided_layers(
            decoder_filters, decoder_strides, "decoder"
        )
        _check_strides_fit(image_size, encoder_strides, decoder_strides)

        text_encoder = TextEncoder(
            vocabulary_size,
            embedding_dim=embedding_dim,
            units=text_units,
            bidirectional=True,
            name="text_encoder",
        )
        fusion = ConvGRUFusion(
            fusion_units,
            max_steps=max_steps,
            attention_units=attention_units,
            termination_mode=termination_mode,
            temperature=temperature,
            seed=seed,
            name="fusion",
        )

        image_input = keras.Input(
            (image_size, image_size, 1), dtype="float32", name="image_l"
        )
        token_ids_input = keras.Input(
            (max_words,), dtype="int32", name="token_ids"
        )
        x = image_input
        for layer in _encoder_layers(encoder_filters, encoder_strides):
            x = layer(x)
        words = text_encoder(token_ids_input)
        details = fusion(
            x,
            words,
            text_mask=ops.not_equal(token_ids_input, 0),
            return_details=True,
        )
        ab = details["fusion"]
        for layer in _decoder_layers(decoder_filters, decoder_strides):
            ab = layer(ab)
        super().__init__(
            inputs={"image_l": image_input, "token_ids": token_ids_input},
            outputs={
                "ab": ab,
                "attention": details["attention"],
                "stop_step": details["stop_step"],
            },
            **kwargs,
        )

        self.store_arguments(locals())

    @property
    def encoder_stride(self):
        """The encoder's downsampling factor, `prod(encoder_strides)`."""
        return math.prod(self.encoder_strides)

    def check_inputs(self, inputs):
        check_input_keys(inputs, ("image_l", "token_ids"))
        check_float_image(
            inputs["image_l"], self.image_size, 1, "image_l", L_HINT
        )
        check_caption_ids(inputs["token_ids"], self.max_words)


def _check_strided_layers(filters, strides, part):
    """`(filters, strides)` of the encoder or decoder as tuples, checked.

    Args:
        filters, strides: sequences of positive ints of one length.
        part: "encoder" or "decoder", the arguments' prefix.
    """
    filters = check_positive_ints(filters, f"{part}_filters")
    strides = check_positive_ints(strides, f"{part}_strides")
    if len(strides) != len(filters):
        raise ValueError(
            f"`{part}_strides` must have one stride per entry of "
            f"`{part}_filters` ({len(filters)}). Received: {strides}"
        )
    return filters, strides


def _check_strides_fit(image_size, encoder_strides, decoder_strides):
    """Raises unless the decoder undoes the encoder's stride on the image."""
    stride = math.prod(encoder_strides)
    if image_size % stride:
        raise ValueError(
            f"`image_size` must be divisible by the encoder stride "
            f"{stride} (the product of `encoder_strides`). Received: "
            f"{image_size}"
        )
    if math.prod(decoder_strides) != stride:
        raise ValueError(
            "The product of `decoder_strides` must equal the encoder "
            f"stride {stride}, so the output has the input's size. "
            f"Received: {decoder_strides}"
        )


def _encoder_layers(filters, strides):
    """The image encoder: one 3x3 "same" convolution with ReLU per entry."""
    return [
        keras.layers.Conv2D(
            layer_filters,
            3,
            strides=layer_stride,
            padding="same",
            activation="relu",
            name=f"image_conv_{index}",
        )
        for index, (layer_filters, layer_stride) in enumerate(
            zip(filters, strides, strict=True)
        )
    ]


def _decoder_layers(filters, strides):
    """The decoder: per block a deconvolution and two convolutions, ReLU.

    The second convolution of the last block is the output: 2 channels
    (ab) with tanh, in float32 under mixed precision, since the L1 loss and
    the Lab conversion read it.
    """
    layers = []
    for index, (block_filters, block_stride) in enumerate(
        zip(filters, strides, strict=True)
    ):
        layers += [
            keras.layers.Conv2DTranspose(
                block_filters,
                2 * block_stride,
                strides=block_stride,
                padding="same",
                activation="relu",
                name=f"decoder_deconv_{index}",
            ),
            keras.layers.Conv2D(
                block_filters,
                3,
                padding="same",
                activation="relu",
                name=f"decoder_conv_{index}_0",
            ),
        ]
        if index < len(filters) - 1:
            layers.append(
                keras.layers.Conv2D(
                    block_filters,
                    3,
                    padding="same",
                    activation="relu",
                    name=f"decoder_conv_{index}_1",
                )
            )
    layers.append(
        keras.layers.Conv2D(
            2,
            3,
            padding="same",
            activation="tanh",
            dtype="float32",
            name="ab_output",
        )
    )
    return layers
