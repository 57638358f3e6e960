"""CoSaL TFRecord files (`keras_lbie.datasets.cosal.tfrecords`):
compressed by default, and every compression read back, old files too."""

import os

import numpy as np
import pytest
import tensorflow as tf

from keras_lbie.datasets import cosal
from keras_lbie.datasets.cosal.tfrecords import tfrecord_compression
from keras_lbie.datasets.cosal.tfrecords import tfrecord_size
from tests.datasets.cosal.test_generator import assert_equal_data


@pytest.fixture(scope="module")
def data():
    return cosal.generate(20, num_direct=4, image_size=48, seed=2)


def read_all(pattern):
    examples = list(cosal.read_tfrecords(pattern).as_numpy_iterator())
    read = {key: np.stack([e[key] for e in examples]) for key in examples[0]}
    read["text"] = np.array([t.decode() for t in read["text"]], dtype=object)
    return read


@pytest.mark.parametrize("compression", ["GZIP", "ZLIB", None])
def test_every_compression_reads_back_exactly(data, tmp_path, compression):
    path = str(tmp_path / "split.tfrecord")
    (written,) = cosal.write_tfrecords(data, path, compression=compression)
    assert tfrecord_compression(written) == (compression or "")
    assert_equal_data(read_all(path), data)


def test_gzip_is_the_default_and_much_smaller(data, tmp_path):
    compressed = cosal.write_tfrecords(data, str(tmp_path / "gzip"))
    plain = cosal.write_tfrecords(
        data, str(tmp_path / "plain"), compression=None
    )
    assert tfrecord_compression(compressed[0]) == "GZIP"
    stored, uncompressed = tfrecord_size(compressed)
    assert stored == os.path.getsize(compressed[0])
    # The records uncompressed are exactly the uncompressed file.
    assert uncompressed == os.path.getsize(plain[0])
    assert tfrecord_size(plain) == (uncompressed, uncompressed)
    assert uncompressed > 10 * stored


def test_old_uncompressed_and_new_shards_read_together(data, tmp_path):
    """A folder holding shards of an earlier (uncompressed) version and new
    ones reads in order, each file with its own compression."""
    first = {key: value[:8] for key, value in data.items()}
    second = {key: value[8:] for key, value in data.items()}
    cosal.write_tfrecords(first, str(tmp_path / "part-0"), compression=None)
    cosal.write_tfrecords(second, str(tmp_path / "part-1"))
    assert_equal_data(read_all(str(tmp_path / "part-*")), data)
    # As the training pipeline reads them.
    batches = list(cosal.as_dataset(str(tmp_path / "part-*"), 20))
    np.testing.assert_array_equal(batches[0][0]["image"], data["image"])


def test_files_of_unknown_formats_are_named(data, tmp_path):
    path = tmp_path / "notes.tfrecord"
    path.write_bytes(b"These are notes, not records.")
    with pytest.raises(ValueError, match="notes.tfrecord is not a TFRecord"):
        cosal.read_tfrecords(str(path))
    with pytest.raises(ValueError, match="`compression`"):
        cosal.write_tfrecords(data, str(tmp_path / "x"), compression="LZ4")


def test_tf_data_reads_the_files_with_gzip(data, tmp_path):
    (path,) = cosal.write_tfrecords(data, str(tmp_path / "split"))
    records = tf.data.TFRecordDataset([path], compression_type="GZIP")
    assert records.reduce(0, lambda count, _: count + 1).numpy() == 20
