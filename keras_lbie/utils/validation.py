"""Argument checks shared across keras_lbie: errors name the argument.

Stdlib only at import time (Keras is imported where a check needs it), so
that light modules such as the `lbie` command's parsers can use these
checks without importing TensorFlow.
"""

import numbers


def check_positive_int(value, name):
    """Raises unless `value` is a positive Python int (bools rejected)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value <= 0
    ):
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {value!r}"
        )


def check_rank(shape, rank, name, axes):
    """Raises unless `shape` has `rank` axes; `axes` names them."""
    if len(shape) != rank:
        raise ValueError(
            f"`{name}` must have rank {rank} {axes}. Received shape: "
            f"{tuple(shape)}"
        )


def check_known_channels(shape, name):
    """Raises unless the last axis of `shape` is statically known."""
    if shape[-1] is None:
        raise ValueError(
            f"The last (channel) axis of `{name}` must be known. Received "
            f"shape: {tuple(shape)}"
        )


def check_same_batch(shapes):
    """Raises if two statically known batch sizes in `shapes` differ.

    Args:
        shapes: dict mapping argument names to shapes.
    """
    known = {name: s[0] for name, s in shapes.items() if s[0] is not None}
    if len(set(known.values())) > 1:
        raise ValueError(
            "All inputs must have the same batch size. Received batch sizes: "
            + ", ".join(f"`{name}`: {size}" for name, size in known.items())
        )


def check_token_ids(token_ids, rank, axes):
    """Raises unless `token_ids` is an integer tensor of the given rank."""
    import keras

    check_rank(token_ids.shape, rank, "token_ids", axes)
    if "int" not in keras.backend.standardize_dtype(token_ids.dtype):
        raise TypeError(
            "`token_ids` must be an integer tensor. Received dtype: "
            f"{token_ids.dtype}"
        )


def check_temperature(temperature, name="temperature"):
    """Raises unless `temperature` is a positive finite number."""
    if isinstance(temperature, bool) or not isinstance(
        temperature, numbers.Real
    ):
        raise TypeError(
            f"`{name}` must be a positive number. Received: {temperature!r}"
        )
    if not 0 < temperature < float("inf"):
        raise ValueError(
            f"`{name}` must be a positive finite number. "
            f"Received: {temperature}"
        )


def check_kernel_size(kernel_size):
    """Raises unless `kernel_size` is a positive int or pair of them."""
    if isinstance(kernel_size, (tuple, list)):
        if len(kernel_size) != 2:
            raise ValueError(
                "`kernel_size` must be a positive int or a pair of positive "
                f"ints. Received: {kernel_size!r}"
            )
        for size in kernel_size:
            check_positive_int(size, "kernel_size")
    else:
        check_positive_int(kernel_size, "kernel_size")


def check_sequence_mask(mask_shape, sequence_shape, mask_name, sequence_name):
    """Raises unless `mask_shape` is `(batch, length)` of the sequence."""
    check_rank(mask_shape, 2, mask_name, "(batch, length)")
    if None not in (mask_shape[1], sequence_shape[1]) and (
        mask_shape[1] != sequence_shape[1]
    ):
        raise ValueError(
            f"`{mask_name}` must have one entry per position of "
            f"`{sequence_name}`. Received `{mask_name}` shape "
            f"{tuple(mask_shape)} and `{sequence_name}` shape "
            f"{tuple(sequence_shape)}"
        )
