"""Argument checks shared by the tokenizers, so their errors read alike."""

import keras
import numpy as np
import tensorflow as tf


def check_word_list(vocabulary):
    """Returns `vocabulary` as a list of plain str, or raises a TypeError."""
    if isinstance(vocabulary, (str, bytes)) or not hasattr(
        vocabulary, "__iter__"
    ):
        raise TypeError(
            "`vocabulary` must be a list of words (str). Received: "
            f"{type(vocabulary).__name__} {vocabulary!r}"
        )
    vocabulary = list(vocabulary)
    not_str = [word for word in vocabulary if not isinstance(word, str)]
    if not_str:
        raise TypeError(
            f"`vocabulary` entries must be str. Received: {not_str[:5]!r}"
        )
    # Plain str (not numpy.str_) keeps the config JSON-friendly.
    return [str(word) for word in vocabulary]


def check_text(shape, dtype, unit):
    """Raises unless `text` is a `(batch,)` string tensor, one `unit` a row.

    Symbolic inputs give a tuple shape; a traced tensor may have unknown
    rank, which the tokenizer's `call` then checks at run time.
    """
    if keras.backend.standardize_dtype(dtype) != "string":
        raise TypeError(
            f"`text` must be a string tensor. Received dtype: {dtype}"
        )
    rank = shape.rank if isinstance(shape, tf.TensorShape) else len(shape)
    if rank is not None and rank != 1:
        raise ValueError(
            f"`text` must have rank 1 (batch,), one {unit} per example. "
            f"Received shape: {tuple(shape)}"
        )


def check_ids(ids, vocabulary_size, last_axis):
    """Returns `ids` as a numpy integer array with ids in range, or raises.

    Args:
        ids: array-like given to a tokenizer's `detokenize`.
        vocabulary_size: int, the number of ids the tokenizer has.
        last_axis: str, what the last axis holds, for the error message.
    """
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"`ids` must be integers. Received dtype: {ids.dtype}")
    if ids.ndim < 1:
        raise ValueError(
            f"`ids` must have a {last_axis} axis (..., {last_axis}). "
            "Received a scalar."
        )
    if ids.size and (ids.min() < 0 or ids.max() >= vocabulary_size):
        raise ValueError(
            f"`ids` must be in [0, {vocabulary_size}). Received "
            f"values in [{ids.min()}, {ids.max()}]."
        )
    return ids


def string_output_spec(layer, text, unit):
    """A tokenizer's `compute_output_spec`: int32 ids, not the float dtype."""
    check_text(text.shape, text.dtype, unit)
    return keras.KerasTensor(
        layer.compute_output_shape(text.shape), dtype="int32"
    )
