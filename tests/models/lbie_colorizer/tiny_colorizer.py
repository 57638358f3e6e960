"""Tiny colorizer parts shared by the colorizer, discriminator, GAN and
callback tests (a helper module: it holds no tests)."""

import numpy as np

from keras_lbie.models import LBIEColorizer
from keras_lbie.models import LBIEColorizerBackbone
from keras_lbie.models import LBIEColorizerGAN
from keras_lbie.models import TextConditionedDiscriminator
from keras_lbie.tokenizers.caption_tokenizer import CaptionTokenizer

# Ids: padding 0, unknown 1, then these words from 2 (vocabulary_size 9).
VOCABULARY = ["the", "flower", "petals", "are", "red", "blue", "yellow"]
IMAGE_SIZE = 16
MAX_WORDS = 6

# A 16-px generator with 4×4 regions (encoder stride 4).
TINY_BACKBONE = {
    "vocabulary_size": len(VOCABULARY) + 2,
    "image_size": IMAGE_SIZE,
    "encoder_filters": (8, 8),
    "encoder_strides": (2, 2),
    "embedding_dim": 8,
    "text_units": 8,
    "fusion_units": 8,
    "attention_units": 8,
    "max_steps": 1,
    "decoder_filters": (8, 8),
    "decoder_strides": (2, 2),
    "max_words": MAX_WORDS,
    "seed": 0,
}

# 16 px → 8 → 4 → 2×2 patches.
TINY_DISCRIMINATOR = {
    "vocabulary_size": len(VOCABULARY) + 2,
    "image_size": IMAGE_SIZE,
    "filters": (8, 8, 1),
    "kernel_size": 3,
    "embedding_dim": 4,
    "text_units": 4,
    "attention_units": 4,
    "max_words": MAX_WORDS,
}


def tiny_tokenizer():
    return CaptionTokenizer(VOCABULARY, max_words=MAX_WORDS, name="tokenizer")


def tiny_backbone(**overrides):
    return LBIEColorizerBackbone(**{**TINY_BACKBONE, **overrides})


def tiny_colorizer(**overrides):
    return LBIEColorizer(tiny_backbone(**overrides), tiny_tokenizer())


def tiny_discriminator(**overrides):
    return TextConditionedDiscriminator(**{**TINY_DISCRIMINATOR, **overrides})


def tiny_gan(gan_weight=1.0, l1_weight=100.0, l2_weight=0.0, **overrides):
    return LBIEColorizerGAN(
        tiny_colorizer(**overrides),
        tiny_discriminator(),
        gan_weight=gan_weight,
        l1_weight=l1_weight,
        l2_weight=l2_weight,
    )


def tiny_data(batch=4, seed=0):
    """`(x, ab)`: horizontal L ramps whose ab a few steps can learn.

    x holds `"image_l"` float32 `(batch, 16, 16, 1)` and `"token_ids"`
    `(batch, 6)`; example 0's caption is half padding. ab is a smooth
    function of L, in [-1, 1].
    """
    rng = np.random.default_rng(seed)
    grid = np.linspace(-1.0, 1.0, IMAGE_SIZE, dtype="float32")
    slopes = rng.uniform(0.3, 1.0, (batch, 1, 1, 1))
    image_l = np.broadcast_to(
        grid[None, None, :, None] * slopes, (batch, IMAGE_SIZE, IMAGE_SIZE, 1)
    )
    token_ids = rng.integers(2, len(VOCABULARY) + 2, size=(batch, MAX_WORDS))
    token_ids[0, 3:] = 0
    ab = np.concatenate(
        [0.8 * np.tanh(2.0 * image_l + 0.5), -0.6 * image_l], axis=-1
    )
    x = {
        "image_l": np.ascontiguousarray(image_l, "float32"),
        "token_ids": token_ids.astype("int32"),
    }
    return x, ab.astype("float32")


def vivid_cosal_colorizer(max_ab=0.3, seed=0):
    """A randomly initialised `cosal_colorizer` whose ab reach `max_ab`.

    A fresh generator predicts ab of about 1e-3, near gray: comparisons of
    its ab or colours would pass whatever happened to them. Scaling the
    output convolution (kernel and bias) scales its pre-tanh values, so
    the ab grow to colours that a lost or misplaced ab would change.
    """
    colorizer = LBIEColorizer.from_preset(
        "cosal_colorizer", load_weights=False, seed=seed
    )
    size = colorizer.image_size
    image_l = np.random.default_rng(seed).uniform(-1.0, 1.0, (2, size, size, 1))
    ab = colorizer.predict_ab(image_l.astype("float32"), ["", "The circle."])
    factor = max_ab / np.abs(ab).max()
    output = colorizer.backbone.get_layer("ab_output")
    output.kernel.assign(output.kernel * factor)
    output.bias.assign(output.bias * factor)
    return colorizer
