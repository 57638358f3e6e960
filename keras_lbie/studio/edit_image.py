"""One edit of an image of any size, as `lbie edit` makes it."""

import time

import numpy as np
from PIL import Image


def resized(pixels, size, nearest=False):
    """`pixels` at `size` (height, width); the same array if already so.

    Bilinear, or nearest neighbour with `nearest=True` (for class colours,
    which must not blend).
    """
    if pixels.shape[:2] == tuple(size):
        return pixels
    resample = (
        Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
    )
    image = Image.fromarray(pixels).resize((size[1], size[0]), resample)
    return np.asarray(image)


def edit_image(model, pixels, description):
    """Edits one uint8 RGB image of any size by a description.

    The image is resized (bilinear) to the model's `image_size` for the
    model. A segmenter's class colours are scaled back to the image's size
    with nearest neighbour; a colorizer's predicted ab are upsampled and
    laid over the image's own full-size lightness
    (`colorize_at_input_size`).

    Args:
        model: an `LBIESegmenter` or an `LBIEColorizer`.
        pixels: uint8 numpy array `(height, width, 3)`.
        description: str.

    Returns:
        A dict: `"image"` uint8 `(height, width, 3)`, the edit;
        `"attention"` float32 `(T, M, N, U)`, each region's attention over
        the `U` units the model read at each step; `"stop_step"` int32
        `(M, N)`; `"units"` the list of the `U` units as the tokenizer read
        them (lower-case, "[UNK]" for unknown words): the sentences for a
        segmenter, the words for a colorizer; `"seconds"`, the time the
        model took (tokenization, forward pass, colours).
    """
    from keras_lbie.models import LBIEColorizer

    start = time.perf_counter()
    model_input = resized(pixels, (model.image_size, model.image_size))
    if isinstance(model, LBIEColorizer):
        image, attention, stop_step, units = _colorize(
            model, pixels, model_input, description
        )
    else:
        edited, details = model.edit(
            model_input, description, return_details=True
        )
        image = resized(edited[0], pixels.shape[:2], nearest=True)
        attention, stop_step = details["attention"], details["stop_step"]
        units = details["sentences"][0]
    return {
        "image": image,
        "attention": attention[0][..., : len(units)],
        "stop_step": stop_step[0],
        "units": units,
        "seconds": time.perf_counter() - start,
    }


def _colorize(colorizer, pixels, model_input, description):
    from keras import ops

    from keras_lbie.models.lbie_colorizer import colorize_at_input_size
    from keras_lbie.models.lbie_colorizer import scaled_lightness

    image_l = ops.convert_to_numpy(scaled_lightness(model_input[None]))
    token_ids, outputs = colorizer.predict_with_texts(
        {"image_l": image_l}, [description], batch_size=1
    )
    image = colorize_at_input_size(pixels[None], outputs["ab"])
    units = str(colorizer.tokenizer.detokenize(token_ids)[0]).split()
    return (
        ops.convert_to_numpy(image)[0],
        outputs["attention"],
        outputs["stop_step"],
        units,
    )
