"""The input checks the models share (`keras_lbie.utils.validation`):
images as pixels in [0, 255] whatever the dtype, texts as users have them."""

import warnings

import numpy as np
import pytest
import tensorflow as tf

from keras_lbie.utils.validation import PixelRangeWarning
from keras_lbie.utils.validation import check_folder_name
from keras_lbie.utils.validation import check_image_batch
from keras_lbie.utils.validation import check_pixels
from keras_lbie.utils.validation import check_texts


def test_check_pixels_keeps_uint8_and_floats_as_they_are():
    pixels = np.arange(12, dtype="uint8").reshape(2, 2, 3)
    assert check_pixels(pixels) is pixels
    floats = check_pixels(pixels.astype("float64") * 10)
    assert floats.dtype == np.float32
    np.testing.assert_array_equal(floats, pixels * 10.0)
    halves = check_pixels(tf.constant(pixels * 10, tf.bfloat16))
    assert halves.dtype == np.float32


def test_check_pixels_takes_ints_and_nested_lists_in_range():
    pixels = check_pixels([[[0, 128, 255]]])
    assert pixels.dtype == np.uint8
    np.testing.assert_array_equal(pixels, [[[0, 128, 255]]])
    with pytest.raises(ValueError, match=r"Received -3 at index \(0, 1\)"):
        check_pixels([[0, -3]], "image")
    with pytest.raises(ValueError, match="numpy cannot make"):
        check_pixels([[0, 1], [2]], "image")


@pytest.mark.parametrize("dtype", ["bool", "complex64", "str", "object"])
def test_check_pixels_refuses_other_dtypes(dtype):
    with pytest.raises(TypeError, match="`image` must be uint8 or float"):
        check_pixels(np.zeros((2, 2)).astype(dtype))


def test_check_pixels_names_the_first_non_finite_value():
    pixels = np.zeros((2, 3), "float32")
    pixels[1, 2] = np.inf
    pixels[1, 0] = np.nan
    with pytest.raises(
        ValueError, match=r"`x` holds 2 NaN or infinite value\(s\).*\(1, 0\)"
    ):
        check_pixels(pixels, "x")


def test_check_pixels_warns_on_floats_in_0_1_only():
    with pytest.warns(PixelRangeWarning, match=r"maximum 0\.5"):
        check_pixels(np.array([0.0, 0.5]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_pixels(np.zeros(3))  # black in both conventions
        check_pixels(np.array([0.0, 1.5]))
        check_pixels(np.array([0, 1], "uint8"))  # uint8 1 is dark gray


@pytest.mark.parametrize(
    "shape, expected",
    [
        ((8, 8), (1, 8, 8, 1)),
        ((8, 8, 1), (1, 8, 8, 1)),
        ((8, 8, 3), (1, 8, 8, 3)),
        ((5, 8, 8), (5, 8, 8, 1)),  # a batch of gray images
        ((5, 8, 8, 1), (5, 8, 8, 1)),
        ((0, 8, 8, 3), (0, 8, 8, 3)),
    ],
)
def test_check_image_batch_shapes(shape, expected):
    assert check_image_batch(np.zeros(shape, "uint8"), 8).shape == expected


@pytest.mark.parametrize(
    "shape", [(8,), (5, 8, 9), (5, 8, 8, 2), (1, 1, 8, 8, 3)]
)
def test_check_image_batch_reports_the_shape_passed(shape):
    with pytest.raises(
        ValueError,
        match=rf"Received shape: {shape}".replace("(", r"\(").replace(
            ")", r"\)"
        ),
    ):
        check_image_batch(np.zeros(shape, "uint8"), 8)


@pytest.mark.parametrize(
    "texts",
    [
        ["a", "b"],
        ("a", "b"),
        np.array(["a", "b"]),
        np.array(["a", "b"], dtype=object),
        [b"a", b"b"],
        np.array([b"a", b"b"]),
        tf.constant(["a", "b"]),
    ],
)
def test_check_texts_takes_what_users_have(texts):
    assert check_texts(texts, 2) == ["a", "b"]
    assert all(type(text) is str for text in check_texts(texts, 2))


def test_check_texts_for_one_image_and_none():
    assert check_texts("a", 1) == ["a"]
    assert check_texts(b"a", 1) == ["a"]
    assert check_texts(np.array("a"), 1) == ["a"]
    assert check_texts([], 0) == []
    assert check_texts(np.array([]), 0) == []


def test_check_texts_errors_name_the_argument():
    with pytest.raises(
        ValueError, match=r"2 image\(s\), 1 text\(s\). A single"
    ):
        check_texts("a", 2, "text")
    with pytest.raises(ValueError, match=r"`text` must have shape \(batch,\)"):
        check_texts(np.array([["a"]]), 1, "text")
    with pytest.raises(TypeError, match="`texts` entries must be str"):
        check_texts(["a", None], 2)
    with pytest.raises(TypeError, match="`texts` must be a str or a list"):
        check_texts(3, 1)
    with pytest.raises(ValueError, match="entry 1 is bytes that are not UTF-8"):
        check_texts([b"a", b"\xff"], 2)


@pytest.mark.parametrize("name", ["", ".", "..", "../evil", "a/b", 3, None])
def test_check_folder_name_refuses_paths(name):
    with pytest.raises(ValueError, match="`--name` must be a non-empty folder"):
        check_folder_name(name, "--name")


def test_check_folder_name_returns_plain_names():
    assert check_folder_name("cosal-v2.1", "name") == "cosal-v2.1"
