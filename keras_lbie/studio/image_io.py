"""Image bytes ↔ pixels for the studio: checked decoding, PNG encoding."""

import io

import numpy as np
from PIL import Image
from PIL import ImageOps
from PIL import UnidentifiedImageError

FORMATS = ("PNG", "JPEG")
# 4 megapixels: any photo a phone takes at its default size, while decoding
# stays well below a second and a few hundred MB.
MAX_IMAGE_PIXELS = 2048 * 2048


def decode_image(data, max_pixels=MAX_IMAGE_PIXELS):
    """The pixels of a PNG or JPEG file's bytes, upright, as uint8 RGB.

    Args:
        data: bytes, the file's content.
        max_pixels: positive int; larger images are refused before their
            pixels are decoded.

    Returns:
        uint8 numpy array `(height, width, 3)`.

    Raises:
        ValueError: `data` is empty, not a PNG or JPEG, corrupt, or larger
            than `max_pixels`; the message says which.
    """
    if not data:
        raise ValueError("the file is empty: choose a PNG or JPEG image.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in FORMATS:
                raise ValueError(
                    f"the file is a {image.format} image: choose a PNG or "
                    "JPEG image."
                )
            width, height = image.size
            if width * height > max_pixels:
                raise ValueError(
                    f"the image is {width}x{height} px, more than the "
                    f"{max_pixels:,} pixels allowed: make it smaller."
                )
            # Photos store their orientation in EXIF; edit them upright.
            return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    except UnidentifiedImageError:
        raise ValueError(
            "the file is not an image: choose a PNG or JPEG image."
        ) from None
    except (OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValueError(f"the image cannot be read: {error}") from None


def encode_png(pixels):
    """PNG bytes of uint8 RGB `pixels` `(height, width, 3)`."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()
