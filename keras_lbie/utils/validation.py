"""Argument checks shared across keras_lbie: errors name the argument.

Every check shared by two modules lives here, named `check_<what>(value,
name, ...)`: the value first, then the argument name its errors quote.
Checks that belong to one function stay beside it.

Stdlib and numpy only at import time (Keras is imported where a check
needs it), so that light modules such as the `lbie` command's parsers can
use these checks without importing TensorFlow.
"""

import numbers
import os
import warnings

import numpy as np

# === Python values ===


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


def check_positive_ints(values, name):
    """Returns `values` as a tuple of ints, or raises naming `name`.

    Args:
        values: a non-empty sequence of positive ints.
        name: the argument name used in the error messages.
    """
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(
            f"`{name}` must be a non-empty sequence of positive ints. "
            f"Received: {values!r}"
        )
    values = tuple(values)
    if not values:
        raise ValueError(f"`{name}` must not be empty.")
    for value in values:
        check_positive_int(value, name)
    return tuple(int(value) for value in values)


def check_int(value, name, low, high=None):
    """Raises unless `value` is an int in `low..high` (bools rejected).

    Args:
        value: the argument.
        name: the argument name used in the error messages.
        low: int, the smallest allowed value.
        high: None (no upper bound) or int, the largest allowed value.
    """
    # bool is an int subclass, but `True` as a count is always a mistake.
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"`{name}` must be an int, got {type(value).__name__} {value!r}."
        )
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in {low}..{high}"
        raise ValueError(f"`{name}` must be {allowed}, got {value}.")


def check_odd_positive_int(value, name):
    """Raises unless `value` is an odd positive int (a kernel with a centre)."""
    check_positive_int(value, name)
    if value % 2 == 0:
        raise ValueError(
            f"`{name}` must be odd, so that the kernel has a centre. "
            f"Received: {value}"
        )


def check_fraction(value, name):
    """Raises unless `value` is a real number in [0, 1] (bools rejected)."""
    if isinstance(value, bool) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(
            f"`{name}` must be a float in [0, 1], got "
            f"{type(value).__name__} {value!r}."
        )
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` must be in [0, 1], got {value}.")


def check_bool(value, name):
    """Returns `value` as a bool, or raises unless it is one (or numpy's).

    Ints such as 1 are rejected: a count passed for a flag is a mistake.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be a bool. Received: {value!r}")
    return bool(value)


def check_seed(seed):
    """Raises unless `seed` is None or an int (bools rejected)."""
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
    ):
        raise TypeError(f"`seed` must be None or an int. Received: {seed!r}")


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


def check_loss_weight(value, name):
    """Returns `value` as a float, or raises unless a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number. Received: {value!r}")
    if not 0 <= value < float("inf"):
        raise ValueError(
            f"`{name}` must be a finite number >= 0. Received: {value}"
        )
    return float(value)


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


def check_path(path, name):
    """Returns `path` as a str, or raises unless a str or path-like."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"`{name}` must be a str or path-like. Received: "
            f"{type(path).__name__} {path!r}"
        )
    return os.fspath(path)


def check_folder_name(name, argument):
    """Returns `name` unless it is not a plain folder name (no path).

    Refuses the empty name, `.`, `..` and names holding a path separator,
    which would write outside the parent folder.
    """
    if (
        not isinstance(name, str)
        or not name
        or name in (".", "..")
        or any(sep in name for sep in {"/", "\\", os.sep})
    ):
        raise ValueError(
            f"`{argument}` must be a non-empty folder name without path "
            f"separators. Received: {name!r}"
        )
    return name


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


def check_texts(texts, num_images, name="texts"):
    """Returns `texts` as a list of str, one per image, or raises.

    Takes what users have: a str (or bytes) for one image; a list or
    tuple of str or bytes; a 1-D numpy array of them (`<U`, `S` or
    object, as `np.array(list_of_str)` makes); an eager string tensor
    (bytes, as `tensor.numpy()` returns them). Bytes are decoded as UTF-8.

    Args:
        texts: the descriptions.
        num_images: int, the number of images they describe.
        name: the argument name used in the error messages.
    """
    if hasattr(texts, "numpy") and not isinstance(texts, np.ndarray):
        try:
            texts = texts.numpy()
        except Exception:  # a symbolic tensor: no values to check here
            raise TypeError(
                f"`{name}` must hold concrete strings here, not a symbolic "
                "tensor."
            ) from None
    if isinstance(texts, (str, bytes)):
        texts = [texts]
    elif isinstance(texts, np.ndarray):
        if texts.ndim == 0:
            texts = [texts.item()]
        elif texts.ndim == 1:
            # `np.array([])` is float64: an empty batch, not numbers.
            texts = texts.tolist()
        else:
            raise ValueError(
                f"`{name}` must have shape (batch,), one description per "
                f"image. Received shape: {texts.shape}"
            )
    elif isinstance(texts, (list, tuple)):
        texts = list(texts)
    else:
        raise TypeError(
            f"`{name}` must be a str or a list of str, one per image. "
            f"Received: {type(texts).__name__}"
        )
    not_str = [text for text in texts if not isinstance(text, (str, bytes))]
    if not_str:
        raise TypeError(
            f"`{name}` entries must be str (or UTF-8 bytes). Received: "
            f"{not_str[:3]!r}"
        )
    if len(texts) != num_images:
        hint = (
            " A single str is the description of one image: pass a list."
            if len(texts) == 1 and num_images > 1
            else ""
        )
        raise ValueError(
            f"`{name}` must hold one description per image: {num_images} "
            f"image(s), {len(texts)} text(s).{hint}"
        )
    decoded = []
    for index, text in enumerate(texts):
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"`{name}` entry {index} is bytes that are not UTF-8: "
                    f"{error}"
                ) from None
        decoded.append(str(text))
    return decoded


def check_input_keys(inputs, keys):
    """Raises unless `inputs` is a dict holding exactly `keys`."""
    if not isinstance(inputs, dict) or set(inputs) != set(keys):
        received = sorted(inputs) if isinstance(inputs, dict) else type(inputs)
        raise ValueError(
            f"The model's inputs must be a dict with keys {sorted(keys)}. "
            f"Received: {received}"
        )


# === Dtypes and shapes of arrays and tensors ===


def dtype_name(value):
    """The Keras dtype name of an array, tensor or list ("string" for str)."""
    import keras

    if not hasattr(value, "dtype"):
        value = np.asarray(value)
    if isinstance(value.dtype, np.dtype) and value.dtype.kind in "OUS":
        return "string"
    try:
        return keras.backend.standardize_dtype(value.dtype)
    except ValueError:
        return str(value.dtype)


def static_shape(value):
    """The shape of an array, tensor or list as a tuple (None if unknown)."""
    if not hasattr(value, "shape"):
        value = np.asarray(value)
    shape = value.shape
    if getattr(shape, "rank", 0) is None:
        return None
    return tuple(shape)


def matches_batched(shape, expected):
    """Whether `shape` is `(batch, *expected)`, unknown sizes matching."""
    return len(shape) == len(expected) + 1 and all(
        size is None or size == want
        for size, want in zip(shape[1:], expected, strict=True)
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


def check_channels(x, channels, name, axes):
    """Raises unless `x` has rank >= 1 and a last axis of size `channels`.

    Returns:
        The static shape of `x` as a tuple.
    """
    shape = x.shape
    if getattr(shape, "rank", 0) is None:
        raise ValueError(
            f"`{name}` must have a known rank. Received shape: {shape}"
        )
    shape = tuple(shape)
    if len(shape) < 1:
        raise ValueError(
            f"`{name}` must have rank >= 1 with a last axis of size "
            f"{channels} {axes}. Received shape: {shape}"
        )
    if shape[-1] != channels:
        raise ValueError(
            f"The last axis of `{name}` must have size {channels} {axes}. "
            f"Received shape: {shape}"
        )
    return shape


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


def check_real(x, name):
    """Returns the dtype name of `x`; raises unless real float or integer."""
    dtype = dtype_name(x)
    if not (is_float_dtype(dtype) or is_int_dtype(dtype)):
        raise TypeError(
            f"`{name}` must have a real numeric dtype (float or integer). "
            f"Received dtype: {dtype}"
        )
    return dtype


def is_float_dtype(dtype):
    """Whether a Keras dtype name is a float type."""
    return dtype in ("bfloat16", "float16", "float32", "float64")


def is_int_dtype(dtype):
    """Whether a Keras dtype name is a signed or unsigned integer type."""
    return dtype.startswith(("int", "uint"))


# === Model inputs: images, token ids, text ===


class PixelRangeWarning(UserWarning):
    """A float image whose values look like [0, 1] rather than [0, 255]."""


def check_pixels(images, name="image"):
    """Returns images as a numpy uint8 or float32 array, or raises.

    keras_lbie's one convention for images: pixel values are in [0, 255]
    whatever the dtype. Takes what `numpy.asarray` makes of `images`
    (arrays, eager tensors, nested lists):

    - integers must be in [0, 255] and become uint8;
    - floats must be finite (NaN or inf is an error, not a colour) and
      become float32; a float image whose maximum is in (0, 1] is used as
      it is, with a `PixelRangeWarning`: as [0, 255] values it is almost
      black, so it was probably scaled to [0, 1] (multiply it by 255);
    - other dtypes (bool, str, complex, object) raise a `TypeError`.

    Args:
        images: the pixels, any shape.
        name: the argument name used in the messages.
    """
    if hasattr(images, "numpy") and not isinstance(images, np.ndarray):
        images = images.numpy()
    try:
        images = np.asarray(images)
    except ValueError as error:  # ragged nested lists
        raise ValueError(
            f"`{name}` must be an array of pixels; numpy cannot make one of "
            f"it: {error}"
        ) from None
    dtype = dtype_name(images)
    if is_int_dtype(dtype):
        if images.size and (images.min() < 0 or images.max() > 255):
            bad = (images < 0) | (images > 255)
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"`{name}` must hold pixel values in [0, 255]. Received "
                f"{images[index]} at index {index}."
            )
        return images.astype(np.uint8, copy=False)
    if not is_float_dtype(dtype):
        raise TypeError(
            f"`{name}` must be uint8 or float pixel values in [0, 255] (or "
            f"integers in that range). Received dtype: {dtype}"
        )
    images = images.astype(np.float32, copy=False)
    check_finite(
        images, name, "pixel values must be finite numbers in [0, 255]"
    )
    if images.size:
        top = float(images.max())
        if 0.0 < top <= 1.0:
            warnings.warn(
                f"`{name}` is a float image with values in [0, 1] (maximum "
                f"{top:g}). keras_lbie reads pixel values as [0, 255] "
                "whatever the dtype, so the model sees an almost black "
                "image: multiply it by 255 (or pass uint8) if it was "
                "scaled to [0, 1].",
                PixelRangeWarning,
                stacklevel=3,
            )
    return images


def check_finite(values, name, why="they must be finite"):
    """Raises unless the numpy float `values` hold no NaN or inf.

    The error counts them and gives the index of the first: one NaN
    pixel turns the weights into NaN after one training step while the
    loss stays finite, and gives confident nonsense at inference.
    """
    finite = np.isfinite(values)
    if not finite.all():
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"`{name}` holds {values.size - int(finite.sum())} NaN or "
            f"infinite value(s), the first at index {index}: {why}."
        )


def check_image_batch(images, image_size, name="images"):
    """Returns one image or a batch as pixels `(batch, S, S, channels)`.

    What the eager editing methods (`edit`, `segment`, `colorize`) take:
    one image `(S, S)` (gray), `(S, S, 1)` or `(S, S, 3)`, or a batch
    `(batch, S, S)` (gray), `(batch, S, S, 1)` or `(batch, S, S, 3)`, with
    S the model's `image_size` (nothing is resized), as `check_pixels`
    takes them. A 3-D array is one image when its last axis has 1 or 3
    entries, else a batch of gray images.

    Returns:
        `check_pixels(images)` with a batch axis and a channel axis of 1
        (gray) or 3 (RGB).
    """
    images = check_pixels(images, name)
    shape = images.shape
    if images.ndim == 2:
        images = images[None, ..., None]
    elif images.ndim == 3:
        images = images[None] if shape[-1] in (1, 3) else images[..., None]
    if images.ndim != 4 or images.shape[1:] not in (
        (image_size, image_size, 1),
        (image_size, image_size, 3),
    ):
        raise ValueError(
            f"`{name}` must be one image ({image_size}, {image_size}), "
            f"({image_size}, {image_size}, 1) or ({image_size}, "
            f"{image_size}, 3), or a batch of them (batch, {image_size}, "
            f"{image_size}[, 1 or 3]): gray or RGB at the model's "
            f"`image_size` (nothing is resized). Received shape: {shape}"
        )
    return images


def check_image(image, image_size, name="image"):
    """Raises unless `image` is a uint8 or float `(batch, size, size, 3)`.

    Args:
        image: array, tensor or nested list.
        image_size: int, the expected height and width.
        name: the argument name used in the error messages.
    """
    expected = f"(batch, {image_size}, {image_size}, 3)"
    dtype = dtype_name(image)
    if dtype != "uint8" and "float" not in dtype:
        raise TypeError(
            f"`{name}` must be uint8 or float RGB values in [0, 255]. "
            f"Received dtype: {dtype}"
        )
    shape = static_shape(image)
    if shape is None:
        return
    if not matches_batched(shape, (image_size, image_size, 3)):
        raise ValueError(
            f"`{name}` must have shape {expected} (RGB images of the model's "
            f"`image_size`; resize them first). Received shape: {shape}"
        )


def check_image_shape(image, image_size, channels, name, hint=""):
    """Raises unless `image` has shape `(batch, size, size, channels)`.

    Args:
        image: array, tensor or nested list.
        image_size: int, the expected height and width.
        channels: int, the expected number of channels.
        name: the argument name used in the error messages.
        hint: str appended to the shape error, e.g. how to convert.
    """
    shape = static_shape(image)
    if shape is None:
        return
    if not matches_batched(shape, (image_size, image_size, channels)):
        raise ValueError(
            f"`{name}` must have shape (batch, {image_size}, {image_size}, "
            f"{channels}) (the model's `image_size`; nothing is resized)."
            f"{hint} Received shape: {shape}"
        )


def check_float_image(image, image_size, channels, name, hint=""):
    """Raises unless `image` is a float `(batch, size, size, channels)`.

    Args: as `check_image_shape`.
    """
    dtype = dtype_name(image)
    if "float" not in dtype:
        raise TypeError(f"`{name}` must be float. Received dtype: {dtype}")
    check_image_shape(image, image_size, channels, name, hint)


def check_token_ids(token_ids, rank, axes):
    """Raises unless symbolic `token_ids` is an integer tensor of `rank`."""
    import keras

    check_rank(token_ids.shape, rank, "token_ids", axes)
    if "int" not in keras.backend.standardize_dtype(token_ids.dtype):
        raise TypeError(
            "`token_ids` must be an integer tensor. Received dtype: "
            f"{token_ids.dtype}"
        )


def check_batched_ids(token_ids, sizes, source):
    """Raises unless `token_ids` is numeric with shape `(batch, *sizes)`.

    Floats are accepted (the functional models cast them to int32): under
    a `tf.distribute` strategy Keras builds a model on the replica mean of
    a batch, which is float.

    Args:
        token_ids: array, tensor or nested list.
        sizes: dict from axis names to their sizes, in axis order, e.g.
            `{"sequence_length": 20}`.
        source: what the ids are, for the dtype error, e.g. "word ids
            from a ReferItTokenizer".
    """
    dtype = dtype_name(token_ids)
    if "int" not in dtype and "float" not in dtype:
        raise TypeError(
            f"`token_ids` must be integer {source}. Received dtype: {dtype}"
        )
    shape = static_shape(token_ids)
    if shape is None:
        return
    if not matches_batched(shape, tuple(sizes.values())):
        raise ValueError(
            f"`token_ids` must have shape "
            f"(batch, {', '.join(str(size) for size in sizes.values())}) "
            f"(batch, {', '.join(sizes)}). Received shape: {shape}"
        )


def check_vocabulary_ids(ids, vocabulary_size, last_axis):
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


def check_text_batch(text, name):
    """Raises unless `text` holds strings `(batch,)`, one per image."""
    dtype = dtype_name(text)
    if dtype != "string":
        raise TypeError(
            f"`{name}` must hold strings, one description per image. "
            f"Received dtype: {dtype}"
        )
    shape = static_shape(text)
    if shape is not None and len(shape) != 1:
        raise ValueError(
            f"`{name}` must have shape (batch,), one description per image. "
            f"Received shape: {shape}"
        )


def check_text_tensor(shape, dtype, unit):
    """Raises unless a tokenizer's `text` is a `(batch,)` string tensor.

    Symbolic inputs give a tuple shape; a traced tensor may have unknown
    rank, which the tokenizer's `call` then checks at run time.

    Args:
        shape: the tensor's shape (a tuple or a `tf.TensorShape`).
        dtype: its dtype.
        unit: what one row holds, e.g. "caption", for the error.
    """
    import keras
    import tensorflow as tf

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


def check_spatial_match(true_shape, y_pred):
    """Raises `ValueError` unless `y_pred` is a per-pixel prediction.

    `true_shape` is the static `(batch, H, W)` of the ground truth; dims that
    are `None` on either side are not compared.
    """
    pred_shape = tuple(y_pred.shape)
    if len(pred_shape) not in (3, 4):
        raise ValueError(
            "`y_pred` must be class scores (batch, H, W, num_classes) or "
            f"class ids (batch, H, W); got shape {pred_shape}."
        )
    if len(pred_shape) == 4 and pred_shape[-1] == 1:
        # The argmax of one channel is always 0: almost surely class ids
        # with a trailing axis rather than scores.
        raise ValueError(
            "`y_pred` of rank 4 must hold one score per class; got 1 "
            f"channel (shape {pred_shape}). Pass class ids as (batch, H, W)."
        )
    for axis, (expected, got) in enumerate(
        zip(true_shape, pred_shape[:3], strict=True)
    ):
        if expected is not None and got is not None and expected != got:
            raise ValueError(
                f"`y_pred` must match `y_true` in (batch, H, W) = "
                f"{tuple(true_shape)}; axis {axis} differs in shape "
                f"{pred_shape}."
            )
