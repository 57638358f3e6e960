import os

import keras
import tensorflow as tf

from keras_lbie.models.lbie_colorizer import LBIEColorizer
from keras_lbie.models.lbie_colorizer import colorize_at_input_size
from keras_lbie.models.lbie_colorizer import scaled_lightness
from keras_lbie.models.lbie_segmenter import CLASS_COLORS
from keras_lbie.models.lbie_segmenter import LBIESegmenter
from keras_lbie.utils.validation import check_folder_name
from keras_lbie.utils.validation import check_positive_int

# Signature names and their inputs, in one place for `keras_lbie.serving`.
DEFAULT_SIGNATURE = "serving_default"
ENCODED_SIGNATURE = "serving_encoded"


def export_saved_model(model, export_dir, name="lbie", version=1):
    """Writes a segmenter or colorizer as a SavedModel for TF Serving.

    The model lands in TF Serving's layout, `export_dir/name/version/`,
    loadable with `tf.saved_model.load` in a process that has TensorFlow
    and nothing else (tokenisation is core TF string ops and a lookup
    table inside the graph). Two signatures, whose image inputs are RGB
    of any size, resized to the model's `image_size` in the graph
    (bilinear with antialiasing), and whose outputs come back at each
    input's size:

    - `"serving_default"`, inputs `image` uint8 `(batch, height, width, 3)`
      (one size per request) and `text` string `(batch,)`, one
      description per image.
    - `"serving_encoded"`, inputs `image_bytes` string `(batch,)`, image
      files (PNG, JPEG, GIF, BMP or WebP; sizes may differ within a batch;
      grayscale is converted to RGB, and transparent pixels are
      composited onto white, the background CoSaL draws on), and `text`.
      Its edited images come back PNG-encoded (the `_bytes` suffix of
      their name makes TF Serving's REST API send them base64-encoded).

    Outputs of an `LBIESegmenter`: `logits` float32 `(batch, image_size,
    image_size, num_classes)` from both signatures; from
    `"serving_default"`, `labels` int32 `(batch, height, width)` and
    `edited_image` uint8 `(batch, height, width, 3)`, the predicted classes
    and their colours (`LBIESegmenter.edit`) at the input's size
    (nearest-neighbour); from `"serving_encoded"`, `edited_png_bytes`
    string `(batch,)`.

    Outputs of an `LBIEColorizer` (only the images' lightness is used,
    so gray images sent as RGB work): `ab` float32 `(batch, image_size,
    image_size, 2)`, the predicted ab scaled to [-1, 1], from both
    signatures; from `"serving_default"`, `colorized_image` uint8
    `(batch, height, width, 3)`, the input's own lightness with the ab
    upsampled bilinearly to its size (`colorize_at_input_size`; at the
    model's size, `LBIEColorizer.colorize`); from `"serving_encoded"`,
    `colorized_png_bytes` string `(batch,)`.

    Bad requests fail with a message naming the input: an empty batch,
    image and text batches of different sizes, a zero-sized image, or
    bytes that are not an image file, an input of the wrong rank or
    channel count (`"Shape of tensor image [48,48,3] is not compatible
    with expected shape [?,?,?,3]"`). TF Serving itself rejects inputs of
    the wrong dtype.

    Args:
        model: an `LBIESegmenter` or an `LBIEColorizer`.
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
    serving_class = next(
        (
            serving
            for model_class, serving in _SERVING_CLASSES.items()
            if isinstance(model, model_class)
        ),
        None,
    )
    if serving_class is None:
        raise TypeError(
            "`model` must be an LBIESegmenter or an LBIEColorizer. "
            f"Received: {type(model).__name__}"
        )
    check_folder_name(name, "name")
    check_positive_int(version, "version")
    path = os.path.join(os.fspath(export_dir), name, str(version))
    if tf.io.gfile.exists(path):
        raise FileExistsError(
            f"`export_dir` already holds version {version} of {name!r} "
            f"({path}). TF Serving versions are immutable: pass a new "
            "`version`."
        )
    archive = keras.export.ExportArchive()
    archive.track(model)
    serving = serving_class(model)
    archive.add_endpoint(
        DEFAULT_SIGNATURE,
        serving.serve_pixels,
        input_signature=[
            tf.TensorSpec([None, None, None, 3], tf.uint8, name="image"),
            tf.TensorSpec([None], tf.string, name="text"),
        ],
    )
    archive.add_endpoint(
        ENCODED_SIGNATURE,
        serving.serve_encoded,
        input_signature=[
            tf.TensorSpec([None], tf.string, name="image_bytes"),
            tf.TensorSpec([None], tf.string, name="text"),
        ],
    )
    archive.write_out(path, verbose=False)
    return path


class _ServingFunctions:
    """The signatures' bodies; TF only, so they trace into the SavedModel.

    Checking, decoding and resizing the request is common to every model;
    a subclass names its outputs and says how it predicts from the
    resized images (`_predict`) and how it edits the images at their own
    size from that prediction (`_edit_at_input_size`).
    """

    prediction_output = None
    edited_image_output = None
    edited_png_output = None

    def __init__(self, model):
        self.model = model
        self.image_size = model.image_size

    def serve_pixels(self, image, text):
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
        prediction = self._predict(self._resize(image), text)
        return {
            self.prediction_output: prediction,
            **self._pixel_outputs(image, prediction),
        }

    def serve_encoded(self, image_bytes, text):
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
        prediction = self._predict(decoded, text)
        edited_png_bytes = tf.map_fn(
            self._encode_at_input_size,
            (image_bytes, prediction),
            fn_output_signature=tf.TensorSpec([], tf.string),
        )
        return {
            self.prediction_output: prediction,
            self.edited_png_output: edited_png_bytes,
        }

    def _predict(self, image, text):
        """The model's output for float images at its size, 0..255."""
        raise NotImplementedError

    def _edit_at_input_size(self, image, prediction):
        """uint8 `(batch, height, width, 3)` edits of uint8 `image`."""
        raise NotImplementedError

    def _pixel_outputs(self, image, prediction):
        return {
            self.edited_image_output: self._edit_at_input_size(
                image, prediction
            )
        }

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
            # Native channels: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
            image = tf.io.decode_image(encoded, expand_animations=False)
        return _rgb_on_white(image)

    def _decode_and_resize(self, encoded):
        return self._resize(self._decode(encoded)[None])[0]

    def _encode_at_input_size(self, args):
        encoded, prediction = args
        image = self._decode(encoded)[None]
        edited = self._edit_at_input_size(image, prediction[None])
        return tf.io.encode_png(edited[0])


class _SegmenterServing(_ServingFunctions):
    prediction_output = "logits"
    edited_image_output = "edited_image"
    edited_png_output = "edited_png_bytes"

    def __init__(self, segmenter):
        super().__init__(segmenter)
        self.colors = tf.constant(CLASS_COLORS)

    def _predict(self, image, text):
        return self.model({"image": image, "text": text}, training=False)

    def _edit_at_input_size(self, image, logits):
        labels = self._labels_at(logits, tf.shape(image)[1:3])
        return tf.gather(self.colors, labels)

    def _pixel_outputs(self, image, logits):
        # The labels are an output too: compute them once for both.
        labels = self._labels_at(logits, tf.shape(image)[1:3])
        return {
            "labels": labels,
            self.edited_image_output: tf.gather(self.colors, labels),
        }

    def _labels_at(self, logits, size):
        labels = tf.argmax(logits, axis=-1, output_type=tf.int32)
        resized = tf.image.resize(labels[..., None], size, method="nearest")
        return resized[..., 0]


class _ColorizerServing(_ServingFunctions):
    prediction_output = "ab"
    edited_image_output = "colorized_image"
    edited_png_output = "colorized_png_bytes"

    def _predict(self, image, text):
        # The colorizer's own `image` input is 1-channel gray; the
        # lightness of RGB requests goes to its backbone directly, as in
        # `LBIEColorizer.colorize`.
        outputs = self.model.backbone(
            {
                "image_l": scaled_lightness(image),
                "token_ids": self.model.tokenizer(text),
            },
            training=False,
        )
        return tf.cast(outputs["ab"], tf.float32)

    def _edit_at_input_size(self, image, ab):
        return colorize_at_input_size(image, ab)


_SERVING_CLASSES = {
    LBIESegmenter: _SegmenterServing,
    LBIEColorizer: _ColorizerServing,
}


def _rgb_on_white(image):
    """uint8 RGB `(H, W, 3)` of a decoded image of 1 to 4 channels.

    Gray becomes (g, g, g); an alpha channel is composited onto white,
    CoSaL's background (a transparent PNG would otherwise read as black).
    The same float32 arithmetic as `lbie edit` and the studio
    (`keras_lbie.studio.image_io.composite_on_white`);
    opaque pixels keep their exact values.
    """
    channels = tf.shape(image)[-1]
    has_alpha = tf.equal(channels % 2, 0)
    color_channels = channels - tf.cast(has_alpha, tf.int32)
    color = tf.tile(image[..., :color_channels], [1, 1, 3 // color_channels])
    alpha = tf.where(has_alpha, image[..., -1:], tf.constant(255, tf.uint8))
    alpha = tf.cast(alpha, tf.float32) / 255.0
    rgb = tf.cast(color, tf.float32) * alpha + 255.0 * (1.0 - alpha)
    rgb = tf.cast(tf.round(rgb), tf.uint8)
    rgb.set_shape([None, None, 3])
    return rgb


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
