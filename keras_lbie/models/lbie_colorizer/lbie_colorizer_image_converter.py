"""The colorizer's image conversions: pixels → scaled L, ab → colours."""

import keras
import tensorflow as tf
from keras import ops

from keras_lbie.color import model_outputs_to_rgb
from keras_lbie.color import rgb_to_model_inputs


def scaled_lightness(images):
    """The colorizer's L input, `L / 50 - 1`, of gray or RGB images.

    Args:
        images: tensor or array `(..., 1)` (gray) or `(..., 3)` (sRGB),
            uint8 or float with values in [0, 255]. A gray value g is the
            sRGB colour (g, g, g).

    Returns:
        float32 `(..., 1)` in [-1, 1].
    """
    images = ops.cast(images, "float32") / 255.0
    if images.shape[-1] == 1:
        images = ops.repeat(images, 3, axis=-1)
    return rgb_to_model_inputs(images)[0]


def colorize_at_input_size(images, ab):
    """Colours images of any size with ab predicted at the model's size.

    The colorizer sees each image resized to its `image_size`; this keeps
    the input's own full-resolution lightness and upsamples only the
    predicted ab (bilinear), so the colours land on every detail of the
    original. Graph-safe: the exported signatures trace it.

    Args:
        images: tensor or array `(batch, height, width, 1)` (gray) or
            `(batch, height, width, 3)` (sRGB, only its lightness is used),
            uint8 or float with values in [0, 255].
        ab: float tensor or array `(batch, size, size, 2)`, the colorizer's
            ab for those images (scaled to [-1, 1]), at any size.

    Returns:
        uint8 tensor `(batch, height, width, 3)`, sRGB.

    Example:
    >>> small = resize(images, (48, 48))
    >>> ab = colorizer.predict_ab(scaled_lightness(small), captions)
    >>> colorize_at_input_size(images, ab)  # images' size
    """
    image_l = scaled_lightness(images)
    # Antialiasing changes nothing when upsampling; it averages the ab of
    # an input smaller than the model's instead of skipping pixels.
    ab = tf.image.resize(
        ops.cast(ab, "float32"), tf.shape(image_l)[1:3], antialias=True
    )
    rgb = model_outputs_to_rgb(image_l, ab)
    return ops.cast(ops.round(rgb * 255.0), "uint8")


@keras.saving.register_keras_serializable(package="keras_lbie")
class _GrayscaleToLightness(keras.layers.Layer):
    """Gray values in [0, 255] `(..., 1)` → scaled L `(..., 1)`, float32."""

    def __init__(self, **kwargs):
        # The cube roots of the Lab conversion need float32.
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)

    def call(self, image):
        return scaled_lightness(image)

    def compute_output_shape(self, image_shape):
        return image_shape
