"""text_objseg's resize-and-pad of ReferIt images, and its inverse."""

import numpy as np
import tensorflow as tf

from keras_lbie.utils.validation import check_positive_int

# The paper and text_objseg feed VGG-16 512 × 512 inputs.
DEFAULT_IMAGE_SIZE = 512
# Integer entries of `meta`: the original size, then `resize_geometry`'s.
META_INTS = (
    "height",
    "width",
    "resized_height",
    "resized_width",
    "pad_top",
    "pad_left",
)


def resize_geometry(height, width, image_size=DEFAULT_IMAGE_SIZE):
    """Returns the resize-and-pad parameters of one image (text_objseg's).

    Args:
        height, width: positive ints, the original size.
        image_size: positive int, S, the side of the padded square.

    Returns:
        A dict: `scale` (float, `min(S / height, S / width)`),
        `resized_height` and `resized_width` (ints, `round(size * scale)`,
        half to even), `pad_top` and `pad_left` (ints,
        `(S - resized) // 2`).

    Example:
    >>> resize_geometry(360, 480)
    {'scale': 1.0666666666666667, 'resized_height': 384,
     'resized_width': 512, 'pad_top': 64, 'pad_left': 0}
    """
    for name, value in (
        ("height", height),
        ("width", width),
        ("image_size", image_size),
    ):
        check_positive_int(value, name)
    scale = min(image_size / height, image_size / width)
    resized_height = int(np.round(height * scale))
    resized_width = int(np.round(width * scale))
    return {
        "scale": scale,
        "resized_height": resized_height,
        "resized_width": resized_width,
        "pad_top": (image_size - resized_height) // 2,
        "pad_left": (image_size - resized_width) // 2,
    }


# String columns of the pipeline; the others are numbers.
def unpad_and_resize(prediction, meta, method="nearest"):
    """Maps one prediction on the padded square back to the original size.

    Inverts `as_dataset`'s geometry: crops the resized image's area out of
    the S × S prediction and resizes it to the original height × width.
    With `method="nearest"` (for labels and masks) a mask that went through
    `as_dataset` comes back exactly whenever the image was enlarged (S at
    least its longer side, as for ReferIt's ≤ 480-pixel photos at 512);
    `"bilinear"` suits scores and probabilities.

    Args:
        prediction: tensor or array `(S, S)` or `(S, S, C)` of one example,
            numeric (bool is not resizable: cast it first).
        meta: dict with scalar `"height"`, `"width"`, `"resized_height"`,
            `"resized_width"`, `"pad_top"` and `"pad_left"`: one example of
            `as_dataset(..., with_meta=True)`'s `meta`, e.g.
            `{key: value[i] for key, value in meta.items()}`, or a
            `resize_geometry` dict with `height` and `width` added.
        method: a `tf.image.resize` method name.

    Returns:
        A tensor `(height, width)` or `(height, width, C)`: the dtype of
        `prediction` with `"nearest"`, float32 otherwise.

    Raises:
        ValueError: `prediction` is not rank 2 or 3, or `meta` lacks a key.
    """
    prediction = tf.convert_to_tensor(prediction)
    if prediction.shape.rank not in (2, 3):
        raise ValueError(
            "`prediction` must have rank 2 (S, S) or 3 (S, S, C), one "
            f"example. Received shape: {tuple(prediction.shape)}"
        )
    missing = [key for key in META_INTS if key not in meta]
    if missing:
        raise ValueError(f"`meta` lacks {missing}.")
    top, left, height, width = (
        tf.cast(meta[key], tf.int32)
        for key in ("pad_top", "pad_left", "resized_height", "resized_width")
    )
    crop = prediction[top : top + height, left : left + width]
    if prediction.shape.rank == 2:
        crop = crop[..., None]
    original = tf.stack(
        [tf.cast(meta["height"], tf.int32), tf.cast(meta["width"], tf.int32)]
    )
    resized = tf.image.resize(crop, original, method=method)
    return resized[..., 0] if prediction.shape.rank == 2 else resized


# Words of the expressions `write_referit_format` writes, besides the shape
# and colour names.
