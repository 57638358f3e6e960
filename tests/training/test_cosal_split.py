"""Tests for the CoSaL splits of a run and their TFRecord shards."""

import os

import numpy as np
import pytest

from keras_lbie.datasets import cosal
from keras_lbie.training import CoSaLSplit
from keras_lbie.training import cosal_test_splits
from keras_lbie.training import cosal_train_splits


def read_all(pattern):
    examples = list(cosal.read_tfrecords(pattern).as_numpy_iterator())
    return {
        "image": np.stack([e["image"] for e in examples]),
        "text": [e["text"].decode() for e in examples],
    }


def test_train_splits_share_the_seed_on_consecutive_indices():
    splits = cosal_train_splits((4, 6, 8), 100, seed=2)
    assert splits == [
        CoSaLSplit("train", 4, 33, 2, 0),
        CoSaLSplit("train", 6, 33, 2, 33),
        CoSaLSplit("train", 8, 33, 2, 66),
    ]


def test_test_splits_use_the_next_seed_from_index_0():
    assert cosal_test_splits((4, 6), 10, seed=2) == [
        CoSaLSplit("test", 4, 10, 3),
        CoSaLSplit("test", 6, 10, 3),
    ]


def test_generate_is_the_slice_of_one_generate_call():
    split = CoSaLSplit("train", 6, 10, 1, start_index=5)
    whole = cosal.generate(10, num_direct=6, seed=1, start_index=5)
    part = split.generate(3, 7)
    np.testing.assert_array_equal(part["image"], whole["image"][3:7])
    assert list(part["text"]) == list(whole["text"][3:7])


def test_write_shards_equal_one_generate_call(tmp_path):
    split = CoSaLSplit("train", 4, 20, 0, start_index=3)
    written = []
    paths = split.write(tmp_path, examples_per_shard=7, on_shard=written.append)
    assert [os.path.basename(p) for p in paths] == [
        f"train_nd4-0000{k}-of-00003.tfrecord" for k in range(3)
    ]
    assert sorted(os.listdir(tmp_path)) == sorted(
        os.path.basename(p) for p in paths
    )
    assert written == [7, 14, 20]
    expected = cosal.generate(20, num_direct=4, seed=0, start_index=3)
    read = read_all(split.pattern(str(tmp_path)))
    np.testing.assert_array_equal(read["image"], expected["image"])
    assert read["text"] == list(expected["text"])


def test_write_refuses_to_mix_with_existing_shards(tmp_path):
    split = CoSaLSplit("test", 4, 3, 1)
    split.write(tmp_path)
    with pytest.raises(FileExistsError, match="already holds the test split"):
        split.write(tmp_path)


def test_source_generates_reads_or_writes(tmp_path):
    split = CoSaLSplit("test", 5, 4, 1)
    data = split.source()
    assert len(data["image"]) == 4
    with pytest.raises(FileNotFoundError, match="no test split"):
        split.source(str(tmp_path), write_missing=False)
    pattern = split.source(str(tmp_path))
    assert pattern == split.pattern(str(tmp_path))
    np.testing.assert_array_equal(read_all(pattern)["image"], data["image"])
    # A second call reads what the first wrote.
    assert split.source(str(tmp_path), write_missing=False) == pattern


def test_source_reads_single_files_of_earlier_versions(tmp_path):
    split = CoSaLSplit("train", 4, 3, 0)
    cosal.write_tfrecords(
        split.generate(), str(tmp_path / "train_nd4.tfrecord")
    )
    pattern = split.source(str(tmp_path), write_missing=False)
    assert len(read_all(pattern)["text"]) == 3


def test_a_split_of_another_size_is_refused_naming_both(tmp_path):
    CoSaLSplit("train", 4, 8, seed=0).write(str(tmp_path))
    with pytest.raises(ValueError, match="holds 8 train examples .* for 16"):
        CoSaLSplit("train", 4, 16, seed=0).check_size(str(tmp_path))
    CoSaLSplit("train", 4, 8, seed=0).check_size(str(tmp_path))
    # A split not written yet will be of the right size.
    CoSaLSplit("test", 4, 16, seed=1).check_size(str(tmp_path))
