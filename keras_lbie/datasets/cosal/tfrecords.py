"""CoSaL examples as TFRecord files, written and read back losslessly.

Files are GZIP-compressed by default: CoSaL's white images, binary
silhouettes and label maps compress about 26 times (a 48 px example takes
19 KB raw, 0.7 KB compressed). Readers detect each file's compression
from its first bytes, so uncompressed files of earlier versions read as
before.
"""

import functools

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

# `compression` arguments → `tf.io.TFRecordOptions.compression_type`.
COMPRESSIONS = {None: "", "GZIP": "GZIP", "ZLIB": "ZLIB"}
# Bytes a TFRecord file adds around each record: its length (8), the
# length's CRC (4) and the data's CRC (4).
_RECORD_FRAMING = 16


def write_tfrecords(data, path, num_shards=1, compression="GZIP"):
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
        compression: "GZIP" (the default: about 26 times smaller at 48 px),
            "ZLIB", or None for uncompressed files. `read_tfrecords` and
            `cosal.as_dataset` detect it; a plain `tf.data.TFRecordDataset`
            needs `compression_type="GZIP"`.

    Returns:
        The list of written file names.
    """
    check_int(num_shards, "num_shards", 1)
    path = check_path(path, "path")
    check_keys(data, tuple(_RECORD_SHAPES))
    if compression not in COMPRESSIONS:
        raise ValueError(
            '`compression` must be "GZIP", "ZLIB" or None. Received: '
            f"{compression!r}"
        )
    options = tf.io.TFRecordOptions(compression_type=COMPRESSIONS[compression])
    if num_shards == 1:
        paths = [path]
    else:
        suffix = f"-of-{num_shards:05d}"
        paths = [f"{path}-{k:05d}{suffix}" for k in range(num_shards)]
    bounds = np.linspace(0, len(data["image"]), num_shards + 1).astype(int)
    for shard_path, start, stop in zip(
        paths, bounds[:-1], bounds[1:], strict=True
    ):
        with tf.io.TFRecordWriter(shard_path, options) as writer:
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
            their order. Each file may be uncompressed or compressed
            (GZIP, ZLIB): `tfrecord_compression` tells from its bytes.

    Returns:
        A `tf.data.Dataset` of per-example dicts with static shapes: `image`,
        `target` uint8 (H, W, 3); `label`, `shape_map` uint8 (H, W);
        `tile_shapes`, `tile_colors` uint8 (9,); `text` string scalar.

    Raises:
        FileNotFoundError: no file matches.
        ValueError: the files hold no example, or one is not a TFRecord
            file.
    """
    path_or_glob = check_path(path_or_glob, "path_or_glob")
    files = sorted(tf.io.gfile.glob(path_or_glob))
    if not files:
        raise FileNotFoundError(f"No TFRecord file matches {path_or_glob!r}.")
    records = _records(files)
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


def _records(files):
    """The records of TFRecord `files` in order, each file decompressed."""
    compressions = [tfrecord_compression(path) for path in files]
    if len(set(compressions)) == 1:
        return tf.data.TFRecordDataset(files, compressions[0])
    # Old (uncompressed) and new shards in one glob: file by file.
    return functools.reduce(
        tf.data.Dataset.concatenate,
        [
            tf.data.TFRecordDataset([path], compression)
            for path, compression in zip(files, compressions, strict=True)
        ],
    )


def tfrecord_compression(path):
    """The compression of a TFRecord file, from its first bytes.

    Args:
        path: str, a file written by `tf.io.TFRecordWriter`.

    Returns:
        "" (uncompressed: the first record's length and its CRC), "GZIP"
        (gzip's magic bytes) or "ZLIB" (a zlib header), as
        `tf.data.TFRecordDataset` takes it.

    Raises:
        ValueError: the file is none of these.
    """
    with tf.io.gfile.GFile(path, "rb") as file:
        head = file.read(12)
    if not head:
        return ""  # an empty uncompressed file
    if len(head) == 12 and _masked_crc32c(head[:8]) == int.from_bytes(
        head[8:], "little"
    ):
        return ""
    if head[:2] == b"\x1f\x8b":
        return "GZIP"
    if (
        len(head) >= 2
        and head[0] & 0x0F == 8
        and (head[0] * 256 + head[1]) % 31 == 0
    ):
        return "ZLIB"
    raise ValueError(
        f"{path} is not a TFRecord file (uncompressed, GZIP or ZLIB)."
    )


def tfrecord_size(paths):
    """What TFRecord files take on disk, and their records uncompressed.

    Reads every record (decompressing), so it also proves the files whole.

    Args:
        paths: a list of TFRecord file names.

    Returns:
        `(stored_bytes, uncompressed_bytes)`: the files' sizes, and what
        the same records take in uncompressed files.
    """
    stored = sum(tf.io.gfile.stat(path).length for path in paths)
    if not paths:
        return 0, 0
    lengths = _records(list(paths)).map(
        lambda record: tf.strings.length(record, unit="BYTE"),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    records = lengths.reduce(
        (tf.constant(0, tf.int64), tf.constant(0, tf.int64)),
        lambda total, length: (
            total[0] + tf.cast(length, tf.int64),
            total[1] + 1,
        ),
    )
    uncompressed = int(records[0]) + _RECORD_FRAMING * int(records[1])
    return stored, uncompressed


def tfrecord_count(paths):
    """The number of records in TFRecord files (each read, decompressed).

    Args:
        paths: a non-empty list of TFRecord file names.
    """
    return int(_records(sorted(paths)).reduce(0, lambda count, _: count + 1))


def _masked_crc32c(data):
    """TFRecord's masked CRC-32C (Castagnoli) of `data`."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
