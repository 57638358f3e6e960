import keras
import numpy as np
from keras import ops

from keras_lbie.color import model_outputs_to_rgb
from keras_lbie.models.lbie_colorizer.lbie_colorizer_backbone import L_HINT
from keras_lbie.models.lbie_colorizer.lbie_colorizer_backbone import (
    LBIEColorizerBackbone,
)
from keras_lbie.models.lbie_colorizer.lbie_colorizer_image_converter import (
    _GrayscaleToLightness,
)
from keras_lbie.models.lbie_colorizer.lbie_colorizer_image_converter import (
    scaled_lightness,
)
from keras_lbie.models.lbie_colorizer.lbie_colorizer_presets import PRESETS
from keras_lbie.models.task import Task
from keras_lbie.tokenizers.caption_tokenizer import CaptionTokenizer
from keras_lbie.utils.validation import check_finite
from keras_lbie.utils.validation import check_float_image
from keras_lbie.utils.validation import check_image_batch
from keras_lbie.utils.validation import check_image_shape
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import dtype_name

_GRAY_HINT = (
    " `image` is a grayscale image with values in [0, 255]; `colorize` "
    "also takes RGB images (it keeps their lightness)."
)


@keras.saving.register_keras_serializable(package="keras_lbie")
class LBIEColorizer(Task):
    """Language-based colorization from grayscale images and raw captions.

    Chen et al., "Language-Based Image Editing with Recurrent Attentive
    Models", CVPR 2018, Section 4.3: colourise a grayscale image as its
    caption describes ("This flower has white petals and a yellow
    centre."). A functional model in the keras-hub task style: the gray
    image is converted to the lightness L in the graph, a `CaptionTokenizer`
    turns the caption into word ids in the graph, and an
    `LBIEColorizerBackbone` (the generator) predicts the ab channels. A
    saved or exported colorizer therefore takes raw images and strings.

    Build it from a preset (`LBIEColorizer.available_presets()`):

        colorizer = LBIEColorizer.from_preset("cosal_colorizer")

    or from its parts, `LBIEColorizer(backbone, tokenizer)`.

    Training: train `LBIEColorizerGAN(colorizer, discriminator)` (the
    paper's GAN + L1 objective) on a tokenized `tf.data` pipeline
    (`colorizer.tokenize_dataset(flowers.as_dataset(...))`); it updates
    `colorizer.backbone`, which this model shares. String ops cannot be
    XLA-compiled, and Keras cannot `fit` string inputs under a
    multi-replica strategy, hence the tokenized pipeline.

    Caption handling (see `CaptionTokenizer`): words outside the
    vocabulary share the out-of-vocabulary id; captions beyond `max_words`
    words are **truncated**; an empty caption (or one without a word) is
    all padding: the attention is zero everywhere and the colours come from
    the image alone.

    Args:
        backbone: an `LBIEColorizerBackbone`.
        tokenizer: a `CaptionTokenizer` with the backbone's
            `vocabulary_size` and `max_words`.
        **kwargs: standard model arguments (`name`, ...).

    Inputs:
        A dict with `"image"` `(batch, image_size, image_size, 1)` (or
        `(batch, image_size, image_size)`), grayscale pixel values in
        [0, 255] whatever the dtype (gray g is read as the sRGB colour
        (g, g, g) and converted to L), and `"text"`, one caption per
        image: a list of str or bytes, a numpy array of them, a string
        tensor `(batch,)`, or a str for a batch of one. Images of another
        size or with 3 channels (colour), and NaN or inf pixels, raise an
        error: nothing is resized or converted silently; `colorize` takes
        colour images. A float image whose maximum is at most 1 draws a
        `PixelRangeWarning` (see `keras_lbie.utils.validation.check_pixels`).

    Outputs:
        ab `(batch, image_size, image_size, 2)`, float32 in [-1, 1]
        (`ab / keras_lbie.color.AB_SCALE`); with the input's L,
        `keras_lbie.color.model_outputs_to_rgb` gives the colour image.

    Example:
    >>> colorizer = LBIEColorizer.from_preset("cosal_colorizer")
    >>> gray = np.zeros((2, 48, 48, 1), "uint8")
    >>> colorizer({"image": gray, "text": np.array(["a", "b"])}).shape
    TensorShape([2, 48, 48, 2])
    >>> colorizer.colorize(gray, ["The circle is red.", ""]).shape
    (2, 48, 48, 3)
    """

    backbone_class = LBIEColorizerBackbone
    tokenizer_class = CaptionTokenizer
    tokenizer_arguments = ("max_words",)
    presets = PRESETS
    preset_name_prefix = "lbie_colorizer"
    preset_kind = "colorizer preset"
    preset_changes = "the architecture or the word ids"
    # Overrides that leave the weights' shapes and meaning unchanged.
    weight_preserving_overrides = frozenset(
        ("termination_mode", "temperature", "seed")
    )

    @classmethod
    def task_graph(cls, backbone, tokenizer):
        size = backbone.image_size
        image = keras.Input((size, size, 1), dtype="float32", name="image")
        text = keras.Input((), dtype="string", name="text")
        image_l = _GrayscaleToLightness(name="grayscale_to_lightness")(image)
        token_ids = tokenizer(text)
        ab = backbone({"image_l": image_l, "token_ids": token_ids})["ab"]
        return {"image": image, "text": text}, ab

    @classmethod
    def from_preset(
        cls, preset, vocabulary=None, load_weights=True, **overrides
    ):
        """Builds a colorizer from a named configuration.

        Args:
            preset: str, a name from `LBIEColorizer.available_presets()`.
            vocabulary: None for the preset's default vocabulary, or a list
                of words for the `CaptionTokenizer` (e.g.
                `build_vocabulary(training_captions)`); a different
                vocabulary cannot be combined with loaded weights.
            load_weights: bool, load the preset's weights if it has any
                (from the package folder `keras_lbie/models/weights/`,
                never the network). Presets without weights give a randomly
                initialised model either way.
            **overrides: `LBIEColorizerBackbone` arguments replacing the
                preset's, e.g. `max_steps=4` or `seed=0`; `max_words` also
                sets the tokenizer's. `vocabulary_size` comes from the
                vocabulary. With weights only `termination_mode`,
                `temperature` and `seed` may be overridden.

        Returns:
            An `LBIEColorizer`.

        Raises:
            ValueError: unknown preset or override name, or an architecture
                or vocabulary override while loading weights.
            FileNotFoundError: the preset's weights file is missing.
        """
        return cls.build_from_preset(
            preset,
            load_weights=load_weights,
            vocabulary=vocabulary,
            **overrides,
        )

    def check_image_input(self, image):
        dtype = dtype_name(image)
        if dtype != "uint8" and "float" not in dtype:
            raise TypeError(
                "`image` must be uint8 or float gray values in [0, 255]. "
                f"Received dtype: {dtype}"
            )
        check_image_shape(image, self.image_size, 1, "image", _GRAY_HINT)

    def standardize_image(self, image):
        size = self.image_size
        if image.ndim == 3 and image.shape[1:] == (size, size):
            image = image[..., None]  # a batch of gray images
        check_image_shape(image, size, 1, "image", _GRAY_HINT)
        return image

    def predict_ab(self, image_l, texts, batch_size=32):
        """The generator's ab for scaled L and captions (eager, numpy).

        Args:
            image_l: float `(batch, image_size, image_size, 1)`, L scaled to
                [-1, 1] (as `keras_lbie.color.rgb_to_model_inputs` and the
                flowers pipeline give it).
            texts: one caption per image: a list of str or bytes, a numpy
                array of them, or a str for one image.
            batch_size: positive int, examples per forward pass.

        Returns:
            float32 numpy `(batch, image_size, image_size, 2)` in [-1, 1].
        """
        check_positive_int(batch_size, "batch_size")
        image_l = np.asarray(image_l)
        check_float_image(image_l, self.image_size, 1, "image_l", L_HINT)
        check_finite(image_l, "image_l", "the lightness must be finite")
        _, outputs = self.predict_with_texts(
            {"image_l": image_l.astype(np.float32)}, texts, batch_size
        )
        return outputs["ab"]

    def colorize(self, images, texts, batch_size=32):
        """Colourises images as their captions say (eager, numpy).

        Args:
            images: pixel values in [0, 255] whatever the dtype (see the
                class docstring): grayscale `(batch, S, S, 1)` or
                `(batch, S, S)`, or colour `(batch, S, S, 3)` (only its
                lightness is used, as the paper's experiments turn colour
                photos "into black and white"), with S the model's
                `image_size`; or one image `(S, S)`, `(S, S, 1)` or
                `(S, S, 3)` (the output then has a batch of one). Images are
                never resized: another size is an error. An empty batch
                gives an empty output.
            texts: one caption per image: a list of str or bytes, a numpy
                array of them, or a str for one image. See the class
                docstring for empty captions, unknown words and truncation.
            batch_size: positive int, examples per forward pass.

        Returns:
            uint8 sRGB `(batch, S, S, 3)`: the input's L with the predicted
            ab (Lab colours outside sRGB are clipped, see
            `keras_lbie.color.lab_to_rgb`).
        """
        images = check_image_batch(images, self.image_size)
        image_l = ops.convert_to_numpy(scaled_lightness(images))
        ab = self.predict_ab(image_l, texts, batch_size=batch_size)
        rgb = ops.convert_to_numpy(model_outputs_to_rgb(image_l, ab))
        return np.round(rgb * 255.0).astype(np.uint8)
