"""The `tf.data` pipeline of CoSaL examples, from arrays or TFRecords."""

import functools
import os

import tensorflow as tf

from keras_lbie.datasets.cosal.generator import check_keys
from keras_lbie.datasets.cosal.tfrecords import read_tfrecords
from keras_lbie.utils.validation import check_bool
from keras_lbie.utils.validation import check_int

# Examples held by the shuffle buffer of TFRecord input: ~70 MB at 48 px.
_TFRECORD_SHUFFLE_BUFFER = 10_000
# Passes of a run with distinct shuffle seeds (`epoch_seed`).
_SEEDS_PER_RUN = 1_000_003


def as_dataset(
    data,
    batch_size,
    shuffle=False,
    seed=None,
    with_shape_map=False,
    drop_remainder=False,
    epochs=None,
    first_epoch=0,
):
    """Batches CoSaL examples for `model.fit` / `model.evaluate`.

    A `generate()` dict is copied into tensors held by the dataset; for the
    full splits under a distribution strategy, prefer TFRecords, which are
    streamed from disk.

    Args:
        data: a dict returned by `generate()`, or a TFRecord file name or glob
            (str or path-like) written by `write_tfrecords()`.
        batch_size: int >= 1.
        shuffle: if True, reshuffle every epoch: the whole dict, or a buffer
            of 10,000 examples for TFRecords.
        seed: None or int, seed of the shuffle.
        with_shape_map: if True, `y` also carries the shape map (see Returns).
        drop_remainder: if True, drop the last batch when it is smaller.
        epochs: None for one pass over the examples (reshuffled at each
            iteration with `shuffle`), or a positive int: that many
            passes in one dataset, pass `k` shuffled with a seed made of
            `seed` and `k`. Its order is then fixed: the same under any
            `tf.distribute` strategy (which re-seeds the reshuffles of
            one pass), and from any step on (to resume a run).
        first_epoch: int >= 0, with `epochs`: the passes before it are
            left out (a resumed run starts there).

    Returns:
        A `tf.data.Dataset` of `(x, y)` with `x = {"image": uint8 (B, H, W, 3),
        "text": string (B,)}`. `y` is the int32 class map (B, H, W), or with
        `with_shape_map=True` an int32 (B, H, W, 2) tensor stacking
        `[label, shape_map]` on the last axis: the packed `y_true` that the
        CoSaLRegionIoU metric takes.

    Raises:
        TypeError, ValueError: bad arguments; FileNotFoundError: no TFRecord
        file matches `data`.
    """
    check_int(batch_size, "batch_size", 1)
    check_bool(shuffle, "shuffle")
    check_bool(with_shape_map, "with_shape_map")
    check_bool(drop_remainder, "drop_remainder")
    if seed is not None:
        check_int(seed, "seed", 0)
    if epochs is not None:
        check_int(epochs, "epochs", 1)
    check_int(first_epoch, "first_epoch", 0)
    if isinstance(data, (str, os.PathLike)):
        examples = read_tfrecords(data)
        buffer_size, gather = _TFRECORD_SHUFFLE_BUFFER, None
    elif isinstance(data, dict):
        examples, gather = _indices_and_gather(data)
        # Shuffling indices, not examples, keeps the buffer tiny and the
        # shuffle exact over the whole split.
        buffer_size = max(len(data["image"]), 1)
    else:
        raise TypeError(
            "`data` must be a dict from generate() or a TFRecord path, "
            f"got {type(data).__name__}."
        )

    def one_pass(pass_seed):
        if shuffle:
            return examples.shuffle(
                buffer_size,
                seed=pass_seed,
                reshuffle_each_iteration=epochs is None,
            ).batch(batch_size, drop_remainder=drop_remainder)
        return examples.batch(batch_size, drop_remainder=drop_remainder)

    if epochs is None:
        dataset = one_pass(seed)
    else:
        dataset = concatenated(
            one_pass(epoch_seed(seed or 0, k))
            for k in range(first_epoch, epochs)
        )
    if gather is not None:
        dataset = dataset.map(gather, num_parallel_calls=tf.data.AUTOTUNE)

    def to_pair(batch):
        x = {"image": batch["image"], "text": batch["text"]}
        y = tf.cast(batch["label"], tf.int32)
        if with_shape_map:
            shapes = tf.cast(batch["shape_map"], tf.int32)
            y = tf.stack([y, shapes], axis=-1)
        return x, y

    return dataset.map(to_pair, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE
    )


def epoch_seed(seed, epoch):
    """The shuffle seed of pass `epoch` of a run's `seed` (ints)."""
    return seed * _SEEDS_PER_RUN + epoch


def concatenated(datasets):
    """The datasets one after the other (an iterable of `tf.data`)."""
    return functools.reduce(tf.data.Dataset.concatenate, datasets)


def _indices_and_gather(data):
    """A `generate()` dict as example indices, and the batch gather."""
    check_keys(data, ("image", "text", "label", "shape_map"))
    tensors = {
        key: tf.constant(data[key])
        for key in ("image", "text", "label", "shape_map")
    }
    indices = tf.data.Dataset.range(len(data["image"]))
    return indices, lambda idx: {
        key: tf.gather(t, idx) for key, t in tensors.items()
    }
