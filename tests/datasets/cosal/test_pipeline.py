"""Tests for the CoSaL `tf.data` pipeline and its TFRecord files."""

import numpy as np
import pytest
import tensorflow as tf

from keras_lbie.datasets import cosal
from tests.datasets.cosal.test_generator import KEYS
from tests.datasets.cosal.test_generator import assert_equal_data


@pytest.fixture(scope="module")
def small():
    return cosal.generate(10, image_size=36, seed=22)


def collect(dataset):
    xs, ys = zip(*dataset.as_numpy_iterator(), strict=True)
    images = np.concatenate([x["image"] for x in xs])
    texts = np.concatenate([x["text"] for x in xs])
    return images, texts, np.concatenate(ys), [len(y) for y in ys]


def test_as_dataset_from_arrays(small):
    dataset = cosal.as_dataset(small, batch_size=4)
    x_spec, y_spec = dataset.element_spec
    assert x_spec["image"].dtype == tf.uint8
    assert x_spec["image"].shape.as_list() == [None, 36, 36, 3]
    assert x_spec["text"].dtype == tf.string
    assert y_spec.dtype == tf.int32
    assert y_spec.shape.as_list() == [None, 36, 36]
    images, texts, labels, sizes = collect(dataset)
    assert sizes == [4, 4, 2]
    np.testing.assert_array_equal(images, small["image"])
    np.testing.assert_array_equal(labels, small["label"])
    assert [t.decode() for t in texts] == list(small["text"])


def test_as_dataset_packs_the_shape_map(small):
    dataset = cosal.as_dataset(
        small, batch_size=4, with_shape_map=True, drop_remainder=True
    )
    assert dataset.element_spec[1].shape.as_list() == [4, 36, 36, 2]
    _, _, y, sizes = collect(dataset)
    assert sizes == [4, 4]
    np.testing.assert_array_equal(y[..., 0], small["label"][:8])
    np.testing.assert_array_equal(y[..., 1], small["shape_map"][:8])


def test_as_dataset_shuffles_reproducibly(small):
    def order(seed):
        dataset = cosal.as_dataset(small, 3, shuffle=True, seed=seed)
        return [t.decode() for t in collect(dataset)[1]]

    first = order(1)
    assert first == order(1)
    assert sorted(first) == sorted(small["text"])
    assert first != list(small["text"])
    # Images stay paired with their texts and labels.
    images, texts, labels, _ = collect(
        cosal.as_dataset(small, 3, shuffle=True, seed=1)
    )
    index = [list(small["text"]).index(t.decode()) for t in texts]
    np.testing.assert_array_equal(images, small["image"][index])
    np.testing.assert_array_equal(labels, small["label"][index])


@pytest.mark.parametrize("num_shards", [1, 3])
def test_tfrecord_round_trip_is_exact(small, tmp_path, num_shards):
    path = str(tmp_path / "cosal.tfrecord")
    files = cosal.write_tfrecords(small, path, num_shards=num_shards)
    assert len(files) == num_shards
    pattern = path if num_shards == 1 else path + "-*"
    dataset = cosal.read_tfrecords(pattern)
    assert dataset.element_spec["image"].shape.as_list() == [36, 36, 3]
    assert dataset.element_spec["label"].shape.as_list() == [36, 36]
    assert dataset.element_spec["tile_shapes"].shape.as_list() == [9]
    examples = list(dataset.as_numpy_iterator())
    read = {key: np.stack([e[key] for e in examples]) for key in KEYS}
    read["text"] = np.array([t.decode() for t in read["text"]], dtype=object)
    assert_equal_data(read, small)


def test_as_dataset_from_tfrecords_matches_arrays(small, tmp_path):
    path = tmp_path / "split"
    cosal.write_tfrecords(small, path, num_shards=2)
    from_files = cosal.as_dataset(f"{path}-*", 4, with_shape_map=True)
    from_arrays = cosal.as_dataset(small, 4, with_shape_map=True)
    assert from_files.element_spec[1].shape.as_list() == [None, 36, 36, 2]
    for a, b in zip(collect(from_files), collect(from_arrays), strict=True):
        np.testing.assert_array_equal(a, b)
    shuffled = cosal.as_dataset(f"{path}-*", 4, shuffle=True, seed=0)
    assert sorted(collect(shuffled)[1]) == sorted(collect(from_arrays)[1])


def test_pipeline_errors(small, tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing"):
        cosal.read_tfrecords(str(tmp_path / "nothing*"))
    with pytest.raises(ValueError, match="batch_size"):
        cosal.as_dataset(small, 0)
    with pytest.raises(TypeError, match="data"):
        cosal.as_dataset([small], 2)
    with pytest.raises(ValueError, match="shape_map"):
        cosal.as_dataset({"image": small["image"]}, 2)
    with pytest.raises(TypeError, match="path"):
        cosal.write_tfrecords(small, None)
    with pytest.raises(ValueError, match="num_shards"):
        cosal.write_tfrecords(small, str(tmp_path / "x"), num_shards=0)
    empty = cosal.write_tfrecords(
        cosal.generate(0, image_size=36), str(tmp_path / "empty")
    )
    with pytest.raises(ValueError, match="empty"):
        cosal.read_tfrecords(empty[0])
