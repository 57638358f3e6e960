"""Checks and standardises the inputs of a TF Serving predict request.

Shared by the REST and gRPC request builders so that both accept the same
arguments and fail the same way, before anything is sent: a bad request
caught here names the client's argument (`images`, `texts`), where TF
Serving would name the signature's input (`image`, `text`) after a round
trip.
"""

import collections

import numpy as np

from keras_lbie.export.export_saved_model import DEFAULT_SIGNATURE
from keras_lbie.export.export_saved_model import ENCODED_SIGNATURE
from keras_lbie.utils.validation import check_positive_int

# The signatures' input names (`export_saved_model`).
IMAGE_INPUT = "image"
IMAGE_BYTES_INPUT = "image_bytes"
TEXT_INPUT = "text"

# The file signatures `tf.io.decode_image` recognises, which the encoded
# signature decodes with: anything else fails on the server. WebP, `RIFF`
# then a size then `WEBP`, is checked apart.
_IMAGE_FILE_SIGNATURES = (
    b"\x89PNG\r\n\x1a\n",  # PNG
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"BM",  # BMP
)

_PATH_HINT = " (a path? pass the file's contents, open(path, 'rb').read())"

RequestInputs = collections.namedtuple(
    "RequestInputs", ["signature_name", "image_input", "images", "texts"]
)
RequestInputs.__doc__ = """A checked request, ready to serialise.

Fields:
    signature_name: str, the signature to call.
    image_input: str, the signature's image input, `"image"` or
        `"image_bytes"`.
    images: uint8 array `(batch, height, width, 3)`, or a list of `bytes`
        (image files) for `"image_bytes"`.
    texts: list of str, one per image.
"""


def standardize_request_inputs(
    texts, images=None, image_bytes=None, signature_name=None
):
    """Checks a request's inputs and puts them in one canonical form.

    Images are pixels (`images`) or image files (`image_bytes`), never
    both. Pixels must be integers in 0..255: uint8 arrays pass as they
    are, and other integer arrays (say, the int64 of a nested Python list)
    are converted when every value fits. Floats are rejected rather than
    rounded or rescaled, because whether they are in 0..1 or 0..255 cannot
    be told from the values; convert them explicitly.

    Args:
        texts: str, one description for one image, or a list (or tuple,
            or rank-1 array) of str, one per image.
        images: array-like of uint8 (or integers in 0..255), one image
            `(height, width, 3)` or a batch `(batch, height, width, 3)`.
            All images of one request share one size.
        image_bytes: bytes, one image file, or a list of bytes, each the
            contents of a PNG, JPEG, GIF, BMP or WebP file; sizes may
            differ.
        signature_name: str or None; None picks `"serving_default"` for
            `images` and `"serving_encoded"` for `image_bytes`.

    Returns:
        A `RequestInputs` tuple `(signature_name, image_input, images,
        texts)`.

    Raises:
        ValueError: if both or neither of `images` and `image_bytes` are
            given, the batch is empty, `images` has the wrong rank, channels
            or size or values outside 0..255, an image file is empty or of
            an unknown format, `texts` is an array of rank other than 1 or
            its length differs from the number of images, or
            `signature_name` is empty or names the signature of the other
            kind of image.
        TypeError: if `images` is not an integer array, `image_bytes` or
            `texts` holds values of the wrong type, or `signature_name` is
            not a str.

    Example:
    >>> inputs = standardize_request_inputs(
    ...     "the flower is red", images=np.zeros((32, 32, 3), "uint8")
    ... )
    >>> inputs.signature_name, inputs.images.shape
    ('serving_default', (1, 32, 32, 3))
    """
    if (images is None) == (image_bytes is None):
        raise ValueError(
            "Pass exactly one of `images` (pixels) and `image_bytes` (image "
            "files). Received "
            + ("both." if images is not None else "neither.")
        )
    if images is not None:
        image_input = IMAGE_INPUT
        images = _standardize_images(images)
        num_images = images.shape[0]
    else:
        image_input = IMAGE_BYTES_INPUT
        images = _standardize_image_bytes(image_bytes)
        num_images = len(images)
    texts = _standardize_texts(texts)
    if len(texts) != num_images:
        image_arg = "images" if image_input == IMAGE_INPUT else "image_bytes"
        raise ValueError(
            "`texts` must hold one description per image. Received "
            f"{len(texts)} texts for {num_images} images in `{image_arg}`."
        )
    signature_name = _standardize_signature_name(signature_name, image_input)
    return RequestInputs(signature_name, image_input, images, texts)


def check_model_name(model_name):
    """Raises unless `model_name` is a non-empty str."""
    if not isinstance(model_name, str) or not model_name:
        raise ValueError(
            f"`model_name` must be a non-empty str. Received: {model_name!r}"
        )


def check_version(version):
    """Raises unless `version` is None or a positive int."""
    if version is not None:
        check_positive_int(version, "version")


def _standardize_images(images):
    try:
        array = np.asarray(images)
    except ValueError:
        # Nested lists of images of different sizes (numpy >= 1.24).
        array = None
    if array is None or array.dtype == object:
        raise ValueError(
            "`images` must be one array of integers, and all images of a "
            "request share one height and width: send images of different "
            "sizes as `image_bytes` or in separate requests."
        )
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise ValueError(
            "`images` must be one image (height, width, 3) or a batch "
            f"(batch, height, width, 3). Received shape: {array.shape}"
        )
    if array.shape[-1] != 3:
        raise ValueError(
            "`images` must have 3 (RGB) channels on the last axis. "
            f"Received shape: {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError("`images` is empty: send at least one image.")
    if array.shape[1] == 0 or array.shape[2] == 0:
        raise ValueError(
            "`images` must have a height and width of at least 1. "
            f"Received shape: {array.shape}"
        )
    return _to_uint8(array)


def _to_uint8(array):
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(
            "`images` must be uint8 (or integers in 0..255). Received "
            f"dtype: {array.dtype}. Convert float images explicitly, e.g. "
            "`np.clip(np.round(x * 255), 0, 255).astype('uint8')` for "
            "values in 0..1."
        )
    low, high = array.min(), array.max()
    if low < 0 or high > 255:
        raise ValueError(
            "`images` must hold values in 0..255. Received values in "
            f"{low}..{high}"
        )
    return array.astype(np.uint8)


def _standardize_image_bytes(image_bytes):
    if isinstance(image_bytes, (bytes, bytearray)):
        image_bytes = [image_bytes]
    if not isinstance(image_bytes, (list, tuple)):
        raise TypeError(
            "`image_bytes` must be bytes or a list of bytes, the contents "
            f"of image files. Received: {type(image_bytes).__name__}"
        )
    if not image_bytes:
        raise ValueError("`image_bytes` is empty: send at least one image.")
    files = []
    for index, data in enumerate(image_bytes):
        if not isinstance(data, (bytes, bytearray)):
            hint = _PATH_HINT if isinstance(data, str) else ""
            raise TypeError(
                f"`image_bytes[{index}]` must be bytes, the contents of an "
                f"image file. Received: {type(data).__name__}{hint}"
            )
        data = bytes(data)
        if not data:
            raise ValueError(f"`image_bytes[{index}]` is empty.")
        if not _is_image_file(data):
            raise ValueError(
                f"`image_bytes[{index}]` is not a PNG, JPEG, GIF, BMP or "
                f"WebP file. It starts with: {data[:12]!r}"
            )
        files.append(data)
    return files


def _is_image_file(data):
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return True
    return data.startswith(_IMAGE_FILE_SIGNATURES)


def _standardize_texts(texts):
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, np.ndarray):
        if texts.ndim != 1:
            raise ValueError(
                "`texts` must be a str or a list of str, one per image. "
                f"Received an array of shape {texts.shape}"
            )
        texts = texts.tolist()
    if not isinstance(texts, (list, tuple)):
        raise TypeError(
            "`texts` must be a str or a list of str, one per image. "
            f"Received: {type(texts).__name__}"
        )
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"`texts[{index}]` must be a str. Received: "
                f"{type(text).__name__}"
            )
    return list(texts)


def _standardize_signature_name(signature_name, image_input):
    default = (
        DEFAULT_SIGNATURE if image_input == IMAGE_INPUT else ENCODED_SIGNATURE
    )
    if signature_name is None:
        return default
    if not isinstance(signature_name, str):
        raise TypeError(
            "`signature_name` must be a str or None. Received: "
            f"{type(signature_name).__name__}"
        )
    if not signature_name:
        raise ValueError("`signature_name` must not be empty.")
    other = {DEFAULT_SIGNATURE, ENCODED_SIGNATURE} - {default}
    if signature_name in other:
        image_arg = "images" if image_input == IMAGE_INPUT else "image_bytes"
        raise ValueError(
            f"`signature_name` {signature_name!r} does not take "
            f"`{image_arg}`: its image input is not {image_input!r}. Use "
            f"{default!r} (or leave `signature_name` as None)."
        )
    return signature_name
