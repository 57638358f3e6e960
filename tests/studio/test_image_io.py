import io

import numpy as np
import pytest
from PIL import Image

from keras_lbie.studio.image_io import decode_image
from keras_lbie.studio.image_io import encode_png


def file_bytes(image, fmt, **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


NOISE_PNG = file_bytes(
    Image.fromarray(
        np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)
    ),
    "PNG",
)


def test_png_round_trip_is_exact():
    pixels = np.random.default_rng(0).integers(0, 256, (5, 7, 3), np.uint8)
    np.testing.assert_array_equal(decode_image(encode_png(pixels)), pixels)


def test_gray_and_rgba_become_rgb_and_exif_is_applied():
    gray = Image.fromarray(np.full((4, 6), 9, np.uint8))
    assert decode_image(file_bytes(gray, "PNG")).shape == (4, 6, 3)
    rgba = Image.new("RGBA", (3, 2))
    assert decode_image(file_bytes(rgba, "PNG")).shape == (2, 3, 3)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: shown 90 degrees clockwise
    jpeg = file_bytes(Image.new("RGB", (8, 4)), "JPEG", exif=exif)
    assert decode_image(jpeg).shape == (8, 4, 3)


def test_transparent_pixels_are_read_as_white():
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[0, 0] = (200, 0, 0, 255)  # opaque red
    rgba[0, 1] = (0, 0, 0, 128)  # half-transparent black
    pixels = decode_image(file_bytes(Image.fromarray(rgba), "PNG"))
    np.testing.assert_array_equal(pixels[0, 0], (200, 0, 0))
    np.testing.assert_array_equal(pixels[0, 1], (127, 127, 127))
    np.testing.assert_array_equal(pixels[1], np.full((3, 3), 255))


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"The circle is red.", "not an image"),
        (file_bytes(Image.new("RGB", (4, 4)), "GIF"), "GIF"),
        (NOISE_PNG[: len(NOISE_PNG) // 2], "cannot be read"),
        (file_bytes(Image.new("1", (300, 300)), "PNG"), "300x300 px"),
    ],
    ids=["empty", "text", "gif", "truncated", "too many pixels"],
)
def test_bad_files_say_what_is_wrong(data, message):
    with pytest.raises(ValueError, match=message):
        decode_image(data, max_pixels=256 * 256)
