"""The `tf.data` pipeline of a ReferIt split: images, expressions, masks."""

import numpy as np
import tensorflow as tf

from keras_lbie.datasets.referit.geometry import DEFAULT_IMAGE_SIZE
from keras_lbie.datasets.referit.geometry import META_INTS
from keras_lbie.datasets.referit.geometry import resize_geometry
from keras_lbie.datasets.referit.index import load_index
from keras_lbie.datasets.referit.layout import IMSIZE_FILE
from keras_lbie.datasets.referit.masks import read_mask
from keras_lbie.utils.validation import check_bool
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_seed

# String columns of the pipeline; the others are numbers.
_STRINGS = ("query_id", "image_path", "mask_path", "text")


def as_dataset(
    root,
    split,
    batch_size,
    image_size=DEFAULT_IMAGE_SIZE,
    shuffle=False,
    seed=None,
    with_meta=False,
    drop_remainder=False,
    vocabulary_file=None,
    check_masks=False,
    blank_text=False,
):
    """Batches a ReferIt split for training and evaluation.

    One element per (object, expression) pair, so an image appears once per
    expression of each of its objects. Images are decoded and resized in
    the graph; masks are read lazily with `scipy.io.loadmat` through
    `tf.numpy_function` (nothing is converted ahead of time; the mask files
    are small next to the images), so a mask file without `segimg_t` or of
    the wrong size fails when the pipeline reaches it, with an
    `InvalidArgumentError` naming the file (pass `check_masks=True` to find
    it before). An image whose decoded size differs from its imsize entry
    fails likewise.

    Args:
        root: str or path-like, a folder in the module docstring's layout.
        split: one of `SPLITS`.
        batch_size: positive int.
        image_size: positive int, S: images and masks are resized keeping
            their aspect ratio to fit S × S, centred and zero-padded (see the
            module docstring; the paper uses 512).
        shuffle: bool, reshuffle the examples every epoch.
        seed: None or int, the shuffle seed.
        with_meta: bool, add the `meta` dict below as a third element. Use it
            in evaluation loops, not in `fit`/`evaluate`: Keras would read a
            third element as sample weights.
        drop_remainder: bool, drop a last, smaller batch.
        vocabulary_file: passed to `load_index`.
        check_masks: passed to `load_index`.
        blank_text: bool, replace every expression with the empty string
            (a model trained and scored so shows what the image alone
            gives).

    Returns:
        A `tf.data.Dataset` of `(x, y)`, or `(x, y, meta)` with
        `with_meta=True`, B the batch size:
        `x = {"image": uint8 (B, S, S, 3) RGB, "text": string (B,)}`, the raw
        expressions (tokenize them with `ReferItTokenizer`, in the model or
        the pipeline); `y`: int32 (B, S, S), 1 on the object, 0 elsewhere
        (padding included). `meta`: `"query_id"` and `"mask_path"`
        (string), `"height"`, `"width"` (the original size),
        `"resized_height"`, `"resized_width"`, `"pad_top"`, `"pad_left"`
        (int32) and `"scale"` (float32), each `(B,)`: what
        `unpad_and_resize` needs, and where `load_mask` finds the
        original-size mask to score against (as text_objseg evaluates).

    Raises:
        TypeError, ValueError: bad arguments; FileNotFoundError, ValueError:
        see `load_index`.

    Example:
    >>> train = as_dataset("referit", "trainval", batch_size=10, shuffle=True)
    >>> test = as_dataset("referit", "test", batch_size=1, with_meta=True)
    >>> for x, y, meta in test:
    ...     labels = tf.argmax(model(x)[0], axis=-1)  # (512, 512)
    ...     one = {key: value[0] for key, value in meta.items()}
    ...     prediction = unpad_and_resize(labels, one)  # (height, width)
    ...     truth = load_mask(one["mask_path"].numpy().decode())
    """
    check_positive_int(batch_size, "batch_size")
    check_positive_int(image_size, "image_size")
    for name, value in (
        ("shuffle", shuffle),
        ("with_meta", with_meta),
        ("drop_remainder", drop_remainder),
        ("blank_text", blank_text),
    ):
        check_bool(value, name)
    check_seed(seed)
    index = load_index(root, split, vocabulary_file, check_masks)
    columns = _columns(index.examples, image_size)
    if blank_text:
        columns["text"] = np.full_like(columns["text"], "")
    dataset = tf.data.Dataset.from_tensor_slices(columns)
    if shuffle:
        # Shuffling file names, not decoded examples, keeps the buffer tiny
        # and the shuffle exact over the whole split.
        dataset = dataset.shuffle(len(index.examples), seed=seed)
    dataset = dataset.map(
        lambda example: _load_example(example, image_size),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)

    def to_element(batch):
        x = {"image": batch.pop("image"), "text": batch.pop("text")}
        y = batch.pop("mask")
        batch.pop("image_path")
        return (x, y, batch) if with_meta else (x, y)

    return dataset.map(to_element).prefetch(tf.data.AUTOTUNE)


def _columns(examples, image_size):
    """The per-example tensors the pipeline starts from, as numpy arrays."""
    geometry = [
        resize_geometry(e.height, e.width, image_size) for e in examples
    ]
    columns = {
        "query_id": [e.query_id for e in examples],
        "image_path": [e.image_path for e in examples],
        "mask_path": [e.mask_path for e in examples],
        "text": [e.expression for e in examples],
        "height": [e.height for e in examples],
        "width": [e.width for e in examples],
    }
    for key in META_INTS[2:]:
        columns[key] = [g[key] for g in geometry]
    columns = {
        key: np.array(values, dtype=object if key in _STRINGS else np.int32)
        for key, values in columns.items()
    }
    columns["scale"] = np.array([g["scale"] for g in geometry], np.float32)
    return columns


def _load_example(example, image_size):
    """Reads, resizes and pads one example's image and mask."""
    example = dict(example)
    size = tf.stack([example["height"], example["width"]])
    resized = tf.stack([example["resized_height"], example["resized_width"]])
    image = tf.io.decode_image(
        tf.io.read_file(example["image_path"]),
        channels=3,
        expand_animations=False,
    )
    check = tf.debugging.Assert(
        tf.reduce_all(tf.equal(tf.shape(image)[:2], size)),
        [
            f"An image's size differs from its {IMSIZE_FILE} entry:",
            example["image_path"],
            tf.shape(image)[:2],
            size,
        ],
    )
    with tf.control_dependencies([check]):
        image = tf.image.resize(image, resized, antialias=True)
    image = tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)
    mask = tf.numpy_function(
        _pipeline_mask,
        [example["mask_path"], example["height"], example["width"]],
        tf.uint8,
        stateful=False,
    )
    mask = tf.image.resize(
        tf.ensure_shape(mask, [None, None])[..., None],
        resized,
        method="nearest",
    )

    def pad(tensor):
        return tf.image.pad_to_bounding_box(
            tensor,
            example["pad_top"],
            example["pad_left"],
            image_size,
            image_size,
        )

    example["image"] = tf.ensure_shape(pad(image), [image_size, image_size, 3])
    example["mask"] = tf.ensure_shape(
        tf.cast(pad(mask)[..., 0], tf.int32), [image_size, image_size]
    )
    return example


def _pipeline_mask(path, height, width):
    return read_mask(path.decode("utf-8"), int(height), int(width)).astype(
        np.uint8
    )
