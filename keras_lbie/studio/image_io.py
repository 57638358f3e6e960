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
            return rgb_pixels(image)
    except UnidentifiedImageError:
        raise ValueError(
            "the file is not an image: choose a PNG or JPEG image."
        ) from None
    except (OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValueError(f"the image cannot be read: {error}") from None


def rgb_pixels(image):
    """uint8 RGB `(height, width, 3)` of a Pillow image, upright.

    Photos store their orientation in EXIF; they are turned upright.
    Transparent pixels are composited onto white (CoSaL's background), as
    the exported `serving_encoded` signature does: a transparent PNG would
    otherwise read as black.
    """
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        "transparency" in image.info
    ):
        return composite_on_white(np.asarray(image.convert("RGBA")))
    return np.asarray(image.convert("RGB"))


def composite_on_white(rgba):
    """uint8 RGB of uint8 RGBA `(..., 4)` laid over a white background.

    The same float32 arithmetic as the exported signatures
    (`keras_lbie.export`), so both read a file alike.
    """
    rgba = rgba.astype(np.float32)
    alpha = rgba[..., 3:] / 255.0
    rgb = rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)
    return np.round(rgb).astype(np.uint8)


def encode_png(pixels):
    """PNG bytes of uint8 RGB `pixels` `(height, width, 3)`."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()
