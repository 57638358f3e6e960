"""CoSaL examples as TFRecord files, written and read back losslessly."""

import numpy as np
import tensorflow as tf

from keras_lbie.datasets.cosal.generator import GRID_SIZE
from keras_lbie.datasets.cosal.generator import check_keys
from keras_lbie.utils.validation import check_int
from keras_lbie.utils.validation import check_path

_RECORD_SHAPES = {
    "image": lambda size: (size, size, 3),
    "target": lambda size: (size, size, 3),
    "label": lambda size: (size, size),
    "shape_map": lambda size: (size, size),
    "tile_shapes": lambda size: (GRID_SIZE * GRID_SIZE,),
    "tile_colors": lambda size: (GRID_SIZE * GRID_SIZE,),
    "text": None,
}


def write_tfrecords(data, path, num_shards=1):
    """Writes a `generate()` dict to TFRecord files, one example per record.

    Arrays are stored as raw uint8 bytes (lossless), with the image size, so
    `read_tfrecords` returns exactly what was written. Shards hold contiguous
    runs of examples, so reading them in name order restores the order.

    Args:
        data: dict returned by `generate()`.
        path: output file name (str or path-like); with `num_shards > 1`
            the files are `{path}-00000-of-0000K` ... and
            `read_tfrecords(f"{path}-*")` reads them back.
        num_shards: int >= 1, number of files.

    Returns:
        The list of written file names.
    """
    check_int(num_shards, "num_shards", 1)
    path = check_path(path, "path")
    check_keys(data, tuple(_RECORD_SHAPES))
    if num_shards == 1:
        paths = [path]
    else:
        suffix = f"-of-{num_shards:05d}"
        paths = [f"{path}-{k:05d}{suffix}" for k in range(num_shards)]
    bounds = np.linspace(0, len(data["image"]), num_shards + 1).astype(int)
    for shard_path, start, stop in zip(
        paths, bounds[:-1], bounds[1:], strict=True
    ):
        with tf.io.TFRecordWriter(shard_path) as writer:
            for index in range(start, stop):
                writer.write(_serialise(data, index))
    return paths


def _serialise(data, index):
    def raw(value):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    feature = {
        key: raw(np.ascontiguousarray(data[key][index]).tobytes())
        for key, shape in _RECORD_SHAPES.items()
        if shape is not None
    }
    feature["text"] = raw(str(data["text"][index]).encode("utf-8"))
    feature["image_size"] = tf.train.Feature(
        int64_list=tf.train.Int64List(value=[data["image"].shape[1]])
    )
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    return example.SerializeToString()


def read_tfrecords(path_or_glob):
    """Reads TFRecord files written by `write_tfrecords`.

    Args:
        path_or_glob: a file name or a glob pattern (str or path-like);
            matching files are read in sorted order, so sharded splits keep
            their order.

    Returns:
        A `tf.data.Dataset` of per-example dicts with static shapes: `image`,
        `target` uint8 (H, W, 3); `label`, `shape_map` uint8 (H, W);
        `tile_shapes`, `tile_colors` uint8 (9,); `text` string scalar.

    Raises:
        FileNotFoundError: no file matches.
        ValueError: the files hold no example.
    """
    path_or_glob = check_path(path_or_glob, "path_or_glob")
    files = sorted(tf.io.gfile.glob(path_or_glob))
    if not files:
        raise FileNotFoundError(f"No TFRecord file matches {path_or_glob!r}.")
    records = tf.data.TFRecordDataset(files)
    # The image size is read once from the first record so that every
    # element has a static shape, which Keras needs to build models.
    first = list(records.take(1).as_numpy_iterator())
    if not first:
        raise ValueError(f"The files matching {path_or_glob!r} are empty.")
    size_spec = {"image_size": tf.io.FixedLenFeature([], tf.int64)}
    header = tf.io.parse_single_example(first[0], size_spec)
    image_size = int(header["image_size"])
    spec = {key: tf.io.FixedLenFeature([], tf.string) for key in _RECORD_SHAPES}

    def parse(record):
        example = tf.io.parse_single_example(record, spec)
        parsed = {"text": example["text"]}
        for key, shape in _RECORD_SHAPES.items():
            if shape is not None:
                values = tf.io.decode_raw(example[key], tf.uint8)
                parsed[key] = tf.reshape(values, shape(image_size))
        return parsed

    return records.map(parse, num_parallel_calls=tf.data.AUTOTUNE)
