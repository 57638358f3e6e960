import numpy as np
import pytest

from keras_lbie.serving import grpc_predict_request
from keras_lbie.serving import rest_predict_request
from keras_lbie.serving.request_inputs import standardize_request_inputs
from tests.serving.images import jpeg
from tests.serving.images import png
from tests.serving.images import random_image

IMAGE = random_image()
PNG = png(IMAGE)

# Every builder must check its inputs the same way, before building.
BUILDERS = {
    "standardize": standardize_request_inputs,
    "rest": rest_predict_request,
    "grpc": lambda texts, **kwargs: grpc_predict_request(
        "cosal", texts, **kwargs
    ),
}

# (id, keyword arguments, error type, message pattern)
BAD_INPUTS = [
    ("neither", {"texts": "a"}, ValueError, "exactly one.*Received neither"),
    (
        "both",
        {"texts": "a", "images": IMAGE, "image_bytes": PNG},
        ValueError,
        "exactly one.*Received both",
    ),
    (
        "float_images",
        {"texts": "a", "images": IMAGE.astype("float32")},
        TypeError,
        "`images` must be uint8.*float32",
    ),
    (
        "bool_images",
        {"texts": "a", "images": np.ones((2, 2, 3), bool)},
        TypeError,
        "`images` must be uint8.*bool",
    ),
    (
        "string_images",
        {"texts": "a", "images": np.full((2, 2, 3), "x")},
        TypeError,
        "`images` must be uint8",
    ),
    (
        "above_255",
        {"texts": "a", "images": np.full((2, 2, 3), 256)},
        ValueError,
        r"`images` must hold values in 0\.\.255.*256",
    ),
    (
        "negative",
        {"texts": "a", "images": np.full((2, 2, 3), -1, "int8")},
        ValueError,
        r"`images` must hold values in 0\.\.255.*-1",
    ),
    (
        "rank_2",
        {"texts": "a", "images": np.zeros((4, 3), "uint8")},
        ValueError,
        r"`images` must be one image.*\(4, 3\)",
    ),
    (
        "rank_5",
        {"texts": "a", "images": np.zeros((1, 1, 4, 4, 3), "uint8")},
        ValueError,
        r"`images` must be one image.*\(1, 1, 4, 4, 3\)",
    ),
    (
        "rgba",
        {"texts": "a", "images": np.zeros((4, 4, 4), "uint8")},
        ValueError,
        r"`images` must have 3 \(RGB\) channels.*\(1, 4, 4, 4\)",
    ),
    (
        "empty_batch",
        {"texts": [], "images": np.zeros((0, 4, 4, 3), "uint8")},
        ValueError,
        "`images` is empty",
    ),
    (
        "zero_height",
        {"texts": "a", "images": np.zeros((1, 0, 4, 3), "uint8")},
        ValueError,
        "`images` must have a height and width of at least 1",
    ),
    (
        "zero_width",
        {"texts": "a", "images": np.zeros((4, 0, 3), "uint8")},
        ValueError,
        "`images` must have a height and width of at least 1",
    ),
    (
        "ragged_images",
        {
            "texts": ["a", "b"],
            "images": [IMAGE.tolist(), random_image(3, 3).tolist()],
        },
        ValueError,
        "`images` must be one array of integers.*share one height and width",
    ),
    (
        "object_images",
        {"texts": "a", "images": np.full((2, 2, 3), None)},
        ValueError,
        "`images` must be one array of integers",
    ),
    (
        "too_few_texts",
        {"texts": ["a"], "images": np.stack([IMAGE, IMAGE])},
        ValueError,
        "`texts` must hold one description per image.*1 texts for 2 "
        "images in `images`",
    ),
    (
        "too_many_texts",
        {"texts": ["a", "b"], "image_bytes": [PNG]},
        ValueError,
        "`texts` must hold one description per image.*2 texts for 1 "
        "images in `image_bytes`",
    ),
    (
        "one_text_for_a_batch",
        {"texts": "a", "image_bytes": [PNG, PNG]},
        ValueError,
        "1 texts for 2 images",
    ),
    (
        "texts_not_a_list",
        {"texts": 3, "images": IMAGE},
        TypeError,
        "`texts` must be a str or a list of str.*int",
    ),
    (
        "texts_a_set",
        {"texts": {"a"}, "images": IMAGE},
        TypeError,
        "`texts` must be a str or a list of str.*set",
    ),
    (
        "texts_of_bytes",
        {"texts": ["a", b"b"], "image_bytes": [PNG, PNG]},
        TypeError,
        r"`texts\[1\]` must be a str.*bytes",
    ),
    (
        "texts_2d_array",
        {"texts": np.array([["a"]]), "images": IMAGE},
        ValueError,
        r"`texts` must be a str or a list of str.*\(1, 1\)",
    ),
    (
        "empty_image_bytes",
        {"texts": [], "image_bytes": []},
        ValueError,
        "`image_bytes` is empty",
    ),
    (
        "image_bytes_not_a_list",
        {"texts": "a", "image_bytes": np.array([PNG])},
        TypeError,
        "`image_bytes` must be bytes or a list of bytes.*ndarray",
    ),
    (
        "image_bytes_a_str",
        {"texts": "a", "image_bytes": "rose.png"},
        TypeError,
        "`image_bytes` must be bytes or a list of bytes.*str",
    ),
    (
        "image_bytes_of_paths",
        {"texts": "a", "image_bytes": ["rose.png"]},
        TypeError,
        r"`image_bytes\[0\]` must be bytes.*str \(a path\?",
    ),
    (
        "image_bytes_of_arrays",
        {"texts": ["a", "b"], "image_bytes": [PNG, IMAGE]},
        TypeError,
        r"`image_bytes\[1\]` must be bytes.*ndarray",
    ),
    (
        "empty_file",
        {"texts": ["a", "b"], "image_bytes": [PNG, b""]},
        ValueError,
        r"`image_bytes\[1\]` is empty",
    ),
    (
        "not_an_image_file",
        {"texts": "a", "image_bytes": [b"rose.png"]},
        ValueError,
        r"`image_bytes\[0\]` is not a PNG, JPEG, GIF, BMP or WebP file.*"
        "rose.png",
    ),
    (
        "pixels_to_encoded_signature",
        {"texts": "a", "images": IMAGE, "signature_name": "serving_encoded"},
        ValueError,
        "`signature_name` 'serving_encoded' does not take `images`.*"
        "'serving_default'",
    ),
    (
        "files_to_default_signature",
        {
            "texts": "a",
            "image_bytes": PNG,
            "signature_name": "serving_default",
        },
        ValueError,
        "`signature_name` 'serving_default' does not take `image_bytes`.*"
        "'serving_encoded'",
    ),
    (
        "signature_name_not_a_str",
        {"texts": "a", "images": IMAGE, "signature_name": 1},
        TypeError,
        "`signature_name` must be a str or None.*int",
    ),
    (
        "empty_signature_name",
        {"texts": "a", "images": IMAGE, "signature_name": ""},
        ValueError,
        "`signature_name` must not be empty",
    ),
]


@pytest.mark.parametrize("builder", sorted(BUILDERS))
@pytest.mark.parametrize(
    "kwargs, error, match",
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_inputs_raise_naming_the_argument(builder, kwargs, error, match):
    with pytest.raises(error, match=match):
        BUILDERS[builder](**kwargs)


def test_one_image_and_one_text_make_a_batch_of_one():
    inputs = standardize_request_inputs("a red circle", images=IMAGE)
    assert inputs.signature_name == "serving_default"
    assert inputs.image_input == "image"
    assert inputs.images.shape == (1, 5, 7, 3)
    assert inputs.images.dtype == np.uint8
    np.testing.assert_array_equal(inputs.images[0], IMAGE)
    assert inputs.texts == ["a red circle"]


def test_one_file_and_one_text_make_a_batch_of_one():
    inputs = standardize_request_inputs("a red circle", image_bytes=PNG)
    assert inputs.signature_name == "serving_encoded"
    assert inputs.image_input == "image_bytes"
    assert inputs.images == [PNG]
    assert inputs.texts == ["a red circle"]


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint16", "int8"])
def test_integer_images_in_range_are_converted_to_uint8(dtype):
    images = np.stack([IMAGE, IMAGE]).clip(0, 127).astype(dtype)
    inputs = standardize_request_inputs(["a", "b"], images=images)
    assert inputs.images.dtype == np.uint8
    np.testing.assert_array_equal(inputs.images, images)


def test_nested_lists_of_ints_are_accepted():
    inputs = standardize_request_inputs(("a",), images=[IMAGE.tolist()])
    assert inputs.images.dtype == np.uint8
    np.testing.assert_array_equal(inputs.images[0], IMAGE)


def test_uint8_images_are_passed_through_uncopied():
    images = IMAGE[None]
    assert standardize_request_inputs("a", images=images).images is images


def test_text_arrays_and_tuples_become_lists_of_str():
    inputs = standardize_request_inputs(
        np.array(["a", "b"]), image_bytes=(PNG, bytearray(PNG))
    )
    assert inputs.texts == ["a", "b"]
    assert all(type(text) is str for text in inputs.texts)
    assert inputs.images == [PNG, PNG]
    assert all(type(data) is bytes for data in inputs.images)


@pytest.mark.parametrize(
    "data",
    [
        jpeg(IMAGE),
        b"GIF89a" + bytes(10),
        b"GIF87a" + bytes(10),
        b"BM" + bytes(10),
        b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(4),
    ],
    ids=["jpeg", "gif89a", "gif87a", "bmp", "webp"],
)
def test_every_format_the_signature_decodes_is_accepted(data):
    inputs = standardize_request_inputs("a", image_bytes=[data])
    assert inputs.images == [data]


def test_other_signature_names_pass_through():
    # A model exported by other code may name its signatures differently.
    inputs = standardize_request_inputs(
        "a", images=IMAGE, signature_name="edit"
    )
    assert inputs.signature_name == "edit"
