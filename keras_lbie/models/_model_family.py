"""What the segmenter and colorizer families share, backbones and tasks.

Each family is a backbone on token ids (`LBIESegmenterBackbone`,
`ReferItSegmenterBackbone`, `LBIEColorizerBackbone`) wrapped by a task
model on raw text (`LBIESegmenter`, `ReferItSegmenter`, `LBIEColorizer`):
the backbones check and serialise their arguments alike, the tasks pair a
tokenizer with a backbone, resolve presets and take text alike. Private to
`keras_lbie.models`; the error messages are those the tests and users see.
"""

import copy
import inspect
import numbers
import os

import keras
import numpy as np
import tensorflow as tf

from keras_lbie.utils.validation import check_positive_int

# The package folder of shipped preset weights (never the network).
WEIGHTS_DIR = os.path.join(os.path.dirname(__file__), "weights")


def dtype_name(value):
    """The Keras dtype name of an array, tensor or list ("string" for str)."""
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


def check_input_keys(inputs, keys):
    """Raises unless `inputs` is a dict holding exactly `keys`."""
    if not isinstance(inputs, dict) or set(inputs) != set(keys):
        received = sorted(inputs) if isinstance(inputs, dict) else type(inputs)
        raise ValueError(
            f"The model's inputs must be a dict with keys {sorted(keys)}. "
            f"Received: {received}"
        )


def check_ids(token_ids, sizes, source):
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


def check_bool(value, name):
    """Raises unless `value` is a bool (ints such as 1 rejected)."""
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be a bool. Received: {value!r}")


def check_seed(seed):
    """Raises unless `seed` is None or an int (bools rejected)."""
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
    ):
        raise TypeError(f"`seed` must be None or an int. Received: {seed!r}")


class ArgumentConfig:
    """`get_config` and `from_config` from the constructor's arguments.

    A mixin for `keras.Model` subclasses that keep each `__init__`
    argument as the attribute of its name (`store_arguments`): the config
    is `name`, `trainable` and those attributes, tuples as lists (JSON),
    so the list of arguments is written once, in the signature.
    """

    @classmethod
    def argument_names(cls):
        """The `__init__` arguments but `self` and `**kwargs`, in order."""
        return [
            parameter.name
            for parameter in inspect.signature(cls.__init__).parameters.values()
            if parameter.name != "self"
            and parameter.kind is not inspect.Parameter.VAR_KEYWORD
        ]

    def store_arguments(self, arguments):
        """Sets the attribute of each argument from `arguments`.

        Args:
            arguments: the `__init__`'s `locals()` once its arguments are
                checked (and normalised, e.g. sequences as tuples).
        """
        for name in self.argument_names():
            setattr(self, name, arguments[name])

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        for name in self.argument_names():
            value = getattr(self, name)
            config[name] = list(value) if isinstance(value, tuple) else value
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class TaskModel:
    """The config and shared parts of the task models (tokenizer + backbone).

    A mixin for `keras.Model` subclasses with `backbone` and `tokenizer`
    attributes; both are serialised in the config.
    """

    @property
    def image_size(self):
        """The height and width of the images the model takes."""
        return self.backbone.image_size

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "tokenizer": keras.saving.serialize_keras_object(self.tokenizer),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_parts(config, ("backbone", "tokenizer")))


def deserialize_parts(config, keys):
    """A copy of `config` with its serialised parts at `keys` deserialised.

    Parts already deserialised (objects, not dicts) are kept as they are.
    """
    config = dict(config)
    for key in keys:
        if isinstance(config[key], dict):
            config[key] = keras.saving.deserialize_keras_object(config[key])
    return config


def check_task_parts(backbone, tokenizer, classes, shared):
    """Raises unless the backbone and tokenizer are of a task's classes.

    Args:
        backbone, tokenizer: the task's parts.
        classes: the pair `(backbone class, tokenizer class)`.
        shared: the attribute names whose values the two must agree on,
            e.g. `("vocabulary_size", "max_words")`.
    """
    for name, part, cls in zip(
        ("backbone", "tokenizer"), (backbone, tokenizer), classes, strict=True
    ):
        if not isinstance(part, cls):
            # "an LBIE...": the initialism is read letter by letter.
            vowel_sound = cls.__name__.startswith(("LBIE", *"AEIOU"))
            article = "an" if vowel_sound else "a"
            raise TypeError(
                f"`{name}` must be {article} {cls.__name__}. Received: "
                f"{type(part).__name__}"
            )
    for attribute in shared:
        if getattr(tokenizer, attribute) != getattr(backbone, attribute):
            raise ValueError(
                f"The tokenizer's `{attribute}` "
                f"({getattr(tokenizer, attribute)}) must equal the "
                f"backbone's ({getattr(backbone, attribute)})."
            )


def check_preset_name(preset, presets, kind="preset"):
    """Raises unless `preset` names an entry of `presets`."""
    if preset not in presets:
        raise ValueError(
            f"Unknown {kind} {preset!r}. Available presets: {sorted(presets)}"
        )


def preset_config(preset, entry, overrides, allowed=None):
    """A deep copy of a preset's backbone config, overrides checked.

    Args:
        preset: str, the preset's name (for the error).
        entry: the preset's table entry, with a `"config"` dict.
        overrides: dict of the caller's overrides (not applied here).
        allowed: the names that may be overridden; the config's keys if
            None.

    Raises:
        ValueError: an override name outside `allowed`.
    """
    config = copy.deepcopy(entry["config"])
    allowed = set(config) if allowed is None else allowed
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise ValueError(
            f"Unknown override(s) {unknown} for preset {preset!r}. "
            f"Allowed: {sorted(allowed)}"
        )
    return config


def resolve_preset(
    preset,
    presets,
    load_weights,
    overrides,
    weight_preserving,
    kind="preset",
    changes="the architecture",
    other_changes=(),
):
    """`(entry, backbone config, has_weights)` of a preset, validated.

    Args:
        preset: str, the preset's name.
        presets: the preset table, entries with `"config"` and `"weights"`.
        load_weights: bool, whether to load the preset's weights.
        overrides: dict of backbone arguments replacing the preset's.
        weight_preserving: the override names that keep the weights valid.
        kind: what a preset is called in the unknown-name error.
        changes: what other overrides change, for the error.
        other_changes: names of further changes the weights do not fit,
            e.g. `["vocabulary"]`.

    Raises:
        ValueError: unknown preset or override name, or an override (or
            one of `other_changes`) while loading weights.
    """
    check_preset_name(preset, presets, kind)
    if not isinstance(load_weights, bool):
        raise TypeError(
            f"`load_weights` must be a bool. Received: {load_weights!r}"
        )
    entry = presets[preset]
    config = preset_config(preset, entry, overrides)
    has_weights = load_weights and entry["weights"] is not None
    changed = sorted(set(overrides) - weight_preserving) + list(other_changes)
    if has_weights and changed:
        raise ValueError(
            f"Override(s) {changed} change {changes}, which the weights of "
            f"preset {preset!r} were not trained for. Pass "
            "`load_weights=False` to build it randomly initialised; with "
            f"weights only {sorted(weight_preserving)} can be overridden."
        )
    config.update(overrides)
    return entry, config, has_weights


def load_preset_weights(backbone, preset, file_name):
    """Loads a preset's shipped weights from `WEIGHTS_DIR` into `backbone`.

    Raises:
        FileNotFoundError: the file is missing (an incomplete install).
        ValueError: the file does not fit the backbone.
    """
    path = os.path.join(WEIGHTS_DIR, file_name)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"The weights of preset {preset!r} are missing: no file {path}. "
            "The package install is incomplete; reinstall keras_lbie, or "
            "pass `load_weights=False` for a randomly initialised model."
        )
    try:
        backbone.load_weights(path)
    except ValueError as error:
        raise ValueError(
            f"The weights file of preset {preset!r} ({path}) does not fit "
            f"the preset's model. Cause: {error}"
        ) from error


def predict_with_texts(model, inputs, texts, batch_size):
    """Runs a task's backbone on numpy `inputs` and tokenized `texts`.

    Args:
        model: a task model (with `tokenizer` and `backbone`).
        inputs: dict of the backbone's numpy inputs but `"token_ids"`.
        texts: one text per example: a list of str, or a str for one.
        batch_size: positive int, examples per forward pass.

    Returns:
        `(token_ids, outputs)`: the numpy ids and the backbone's outputs.
    """
    texts = edit_texts(texts, len(next(iter(inputs.values()))))
    token_ids = model.tokenizer(tf.constant(texts, tf.string)).numpy()
    outputs = model.backbone.predict(
        {**inputs, "token_ids": token_ids}, batch_size=batch_size, verbose=0
    )
    return token_ids, outputs


def check_text(text, name):
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


def edit_texts(texts, num_images):
    """`texts` (a str, or a list, tuple or 1-D array of str) as a list.

    Raises unless there is one text per image.
    """
    if isinstance(texts, str):
        texts = [texts]
    elif isinstance(texts, np.ndarray) and texts.ndim == 1:
        texts = list(texts)
    elif not isinstance(texts, (list, tuple)):
        raise TypeError(
            "`texts` must be a str or a list of str, one per image. "
            f"Received: {type(texts).__name__}"
        )
    not_str = [text for text in texts if not isinstance(text, str)]
    if not_str:
        raise TypeError(
            f"`texts` entries must be str. Received: {not_str[:3]!r}"
        )
    if len(texts) != num_images:
        raise ValueError(
            f"`texts` must hold one description per image: {num_images} "
            f"image(s), {len(texts)} text(s)."
        )
    return [str(text) for text in texts]
