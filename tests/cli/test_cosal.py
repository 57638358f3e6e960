"""`lbie cosal generate` (`keras_lbie.cli.cosal`)."""

import os
import re

import numpy as np

from keras_lbie.datasets import cosal
from keras_lbie.datasets.cosal.tfrecords import tfrecord_compression
from keras_lbie.datasets.cosal.tfrecords import tfrecord_size
from tests.cli.runner import assert_one_error
from tests.cli.runner import run_lbie


def test_generate_writes_compressed_shards_that_as_dataset_reads(data_dir):
    folder, result = data_dir
    names = sorted(os.listdir(folder))
    assert names == [
        "test_nd4-00000-of-00001.tfrecord",
        "train_nd4-00000-of-00002.tfrecord",
        "train_nd4-00001-of-00002.tfrecord",
    ]
    assert {tfrecord_compression(str(folder / name)) for name in names} == {
        "GZIP"
    }
    assert "64/64" in result.stdout  # the progress bar
    batches = cosal.as_dataset(str(folder / "train_nd4-*.tfrecord"), 64)
    ((x, _),) = list(batches)
    expected = cosal.generate(64, num_direct=4, seed=0)
    np.testing.assert_array_equal(x["image"].numpy(), expected["image"])
    assert x["text"].numpy()[63].decode() == expected["text"][63]


def test_generate_reports_the_size_written_and_the_ratio(data_dir):
    folder, result = data_dir
    paths = sorted(str(folder / name) for name in os.listdir(folder))
    stored, uncompressed = tfrecord_size(paths)
    assert stored == sum(os.path.getsize(path) for path in paths)
    # CoSaL's white images and binary maps compress well.
    assert uncompressed > 10 * stored
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(
        rf"Wrote 2 splits to {re.escape(str(folder))}: ([\d.]+) KB \(GZIP\), "
        r"([\d.]+)x smaller than uncompressed \(([\d.]+) MB\)",
        last,
    )
    assert match, last
    assert float(match[1]) == float(f"{stored / 1000:.3g}")
    assert float(match[2]) == round(uncompressed / stored, 1)
    assert float(match[3]) == float(f"{uncompressed / 1e6:.3g}")
    # One line per split too.
    assert result.stdout.count("x smaller than uncompressed") == 3


def test_generate_refuses_to_overwrite_a_split(data_dir):
    folder, _ = data_dir
    result = run_lbie(
        folder.parent, "cosal", "generate", "--train", 8, "--test", 8,
        "--out", "data", status=1,
    )  # fmt: skip
    assert_one_error(result, "already holds", "train_nd4")
