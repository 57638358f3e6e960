import os

import keras
import tensorflow as tf

from keras_lbie.models.lbie_segmenter import CLASS_COLORS
from keras_lbie.models.lbie_segmenter import LBIESegmenter
from keras_lbie.utils.validation import check_positive_int

# Signature names and their inputs, in one place for `keras_lbie.serving`.
DEFAULT_SIGNATURE = "serving_default"
ENCODED_SIGNATURE = "serving_encoded"


def export_saved_model(segmenter, export_dir, name="lbie", version=1):
    """Writes a segmenter as a SavedModel for TensorFlow Serving.

    The model lands in TF Serving's layout, `export_dir/name/version/`,
    loadable with `tf.saved_model.load` in a process that has TensorFlow
    and nothing else (tokenisation is core TF string ops and a lookup
    table inside the graph). Two signatures:

    - `"serving_default"`, inputs `image` uint8 `(batch, height, width, 3)`
      of any size (one size per request; resized to the model's
      `image_size` in the graph, bilinear with antialiasing) and `text`
      string `(batch,)`, one description per image. Outputs: `logits`
      float32 `(batch, image_size, image_size, num_classes)`, `labels`
      int32 `(batch, height, width)` and `edited_image` uint8
      `(batch, height, width, 3)`: the predicted classes, and their
      colours (`LBIESegmenter.edit`), at the input's size
      (nearest-neighbour).
    - `"serving_encoded"`, inputs `image_bytes` string `(batch,)`, image
      files (PNG, JPEG, GIF, BMP or WebP; sizes may differ within a batch;
      grayscale or RGBA is converted to RGB), and `text`. Outputs:
      `logits`, and `edited_png_bytes` string `(batch,)`, each edited image
      PNG-encoded at its input's size (the `_bytes` suffix makes TF
      Serving's REST API send it base64-encoded).

    Bad requests fail with a message naming the input: an empty batch,
    image and text batches of different sizes, a zero-sized image, or
    bytes that are not an image file, an input of the wrong rank or
    channel count (`"Shape of tensor image [48,48,3] is not compatible
    with expected shape [?,?,?,3]"`). TF Serving itself rejects inputs of
    the wrong dtype.

    Args:
        segmenter: an `LBIESegmenter`.
        export_dir: str or path-like, the model base path TF Serving
            watches.
        name: str, the model name (a folder name: no path separators).
        version: positive int, the version folder.

    Returns:
        str, the path of the written SavedModel, `export_dir/name/version`.

    Example:
    >>> segmenter = LBIESegmenter.from_preset("cosal")
    >>> path = export_saved_model(segmenter, "/tmp/models", name="cosal")
    >>> served = tf.saved_model.load(path).signatures["serving_default"]
    >>> served(image=images, text=texts)["edited_image"]
    """
    if not isinstance(segmenter, LBIESegmenter):
        raise TypeError(
            "`segmenter` must be an LBIESegmenter. Received: "
            f"{type(segmenter).__name__}"
        )
    _check_name(name)
    check_positive_int(version, "version")
    path = os.path.join(os.fspath(export_dir), name, str(version))
    if tf.io.gfile.exists(path):
        raise FileExistsError(
            f"`export_dir` already holds version {version} of {name!r} "
            f"({path}). TF Serving versions are immutable: pass a new "
            "`version`."
        )
    archive = keras.export.ExportArchive()
    archive.track(segmenter)
    serving = _ServingFunctions(segmenter)
    archive.add_endpoint(
        DEFAULT_SIGNATURE,
        serving.edit_pixels,
        input_signature=[
            tf.TensorSpec([None, None, None, 3], tf.uint8, name="image"),
            tf.TensorSpec([None], tf.string, name="text"),
        ],
    )
    archive.add_endpoint(
        ENCODED_SIGNATURE,
        serving.edit_encoded,
        input_signature=[
            tf.TensorSpec([None], tf.string, name="image_bytes"),
            tf.TensorSpec([None], tf.string, name="text"),
        ],
    )
    archive.write_out(path, verbose=False)
    return path


def _check_name(name):
    if (
        not isinstance(name, str)
        or not name
        or name in (".", "..")
        or any(sep in name for sep in ("/", "\\", os.sep))
    ):
        raise ValueError(
            "`name` must be a non-empty folder name without path "
            f"separators. Received: {name!r}"
        )


class _ServingFunctions:
    """The signatures' bodies; TF only, so they trace into the SavedModel."""

    def __init__(self, segmenter):
        self.segmenter = segmenter
        self.image_size = segmenter.image_size
        self.colors = tf.constant(CLASS_COLORS)

    def edit_pixels(self, image, text):
        image = _ensure_shape(image, [None, None, None, 3], "image")
        text = _ensure_shape(text, [None], "text")
        height, width = tf.shape(image)[1], tf.shape(image)[2]
        checks = _batch_checks(tf.shape(image)[0], text) + [
            tf.debugging.assert_positive(
                height * width,
                message="`image` must have a height and width of at least 1",
            )
        ]
        # Asserts are not data inputs of the resize: order them explicitly.
        with tf.control_dependencies(checks):
            image = tf.identity(image)
        logits = self._logits(self._resize(image), text)
        labels = self._labels_at(logits, [height, width])
        return {
            "logits": logits,
            "labels": labels,
            "edited_image": tf.gather(self.colors, labels),
        }

    def edit_encoded(self, image_bytes, text):
        image_bytes = _ensure_shape(image_bytes, [None], "image_bytes")
        text = _ensure_shape(text, [None], "text")
        with tf.control_dependencies(
            _batch_checks(tf.shape(image_bytes)[0], text)
        ):
            image_bytes = tf.identity(image_bytes)
        decoded = tf.map_fn(
            self._decode_and_resize,
            image_bytes,
            fn_output_signature=tf.TensorSpec(
                [self.image_size, self.image_size, 3], tf.float32
            ),
        )
        logits = self._logits(decoded, text)
        edited_png_bytes = tf.map_fn(
            self._encode_at_input_size,
            (image_bytes, logits),
            fn_output_signature=tf.TensorSpec([], tf.string),
        )
        return {"logits": logits, "edited_png_bytes": edited_png_bytes}

    def _logits(self, image, text):
        return self.segmenter({"image": image, "text": text}, training=False)

    def _resize(self, image):
        size = [self.image_size, self.image_size]
        resized = tf.image.resize(image, size, antialias=True)
        return tf.clip_by_value(resized, 0.0, 255.0)

    def _decode(self, encoded):
        check = tf.debugging.assert_greater(
            tf.strings.length(encoded),
            0,
            message="`image_bytes` must hold image files; one is empty.",
        )
        with tf.control_dependencies([check]):
            image = tf.io.decode_image(
                encoded, channels=3, expand_animations=False
            )
        image.set_shape([None, None, 3])
        return image

    def _decode_and_resize(self, encoded):
        return self._resize(self._decode(encoded)[None])[0]

    def _labels_at(self, logits, size):
        labels = tf.argmax(logits, axis=-1, output_type=tf.int32)
        resized = tf.image.resize(labels[..., None], size, method="nearest")
        return resized[..., 0]

    def _encode_at_input_size(self, args):
        encoded, logits = args
        size = tf.shape(self._decode(encoded))[:2]
        labels = self._labels_at(logits[None], size)[0]
        return tf.io.encode_png(tf.gather(self.colors, labels))


def _ensure_shape(tensor, shape, name):
    # Loaded signatures do not check shapes (TF Serving neither): without
    # this a single (H, W, 3) image would run as a batch of H rows.
    return tf.ensure_shape(tensor, shape, name=f"{name}_has_wrong_shape")


def _batch_checks(num_images, text):
    return [
        tf.debugging.assert_positive(
            num_images,
            message="The request is empty: send at least one image",
        ),
        tf.debugging.assert_equal(
            num_images,
            tf.shape(text)[0],
            message="`text` must hold one description per image.",
        ),
    ]
