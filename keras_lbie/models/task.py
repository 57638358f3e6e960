import functools

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_lbie.tokenizers.referit_tokenizer import ReferItTokenizer
from keras_lbie.tokenizers.sentence_tokenizer import SentenceTokenizer
from keras_lbie.utils.preset_utils import check_preset_name
from keras_lbie.utils.preset_utils import load_preset_weights
from keras_lbie.utils.preset_utils import preset_descriptions
from keras_lbie.utils.preset_utils import resolve_preset
from keras_lbie.utils.validation import check_input_keys
from keras_lbie.utils.validation import check_pixels
from keras_lbie.utils.validation import check_text_batch
from keras_lbie.utils.validation import check_texts

# The float image inputs of the models (pixels, or the colorizer's scaled
# L), which the input pipelines check for NaN and inf.
_IMAGE_KEYS = ("image", "image_l")


def tokenize_dataset(dataset, tokenizer):
    """Replaces the raw `"text"` of a dataset's inputs by `"token_ids"`.

    Maps the batched elements `x`, `(x, y)` or `(x, y, sample_weight)` of
    `dataset`, where `x` is a dict with a string `"text"` `(batch,)` (as
    `cosal.as_dataset` and `referit.as_dataset` yield), to the same element
    with `x["text"]` replaced by `x["token_ids"] = tokenizer(x["text"])`:
    the inputs of an `LBIESegmenterBackbone` (with a `SentenceTokenizer`)
    or a `ReferItSegmenterBackbone` (with a `ReferItTokenizer`).
    Tokenization then runs in the `tf.data` pipeline, so the backbone can
    be trained with `jit_compile=True` and under `tf.distribute` strategies
    (neither accepts string inputs). Float images (`x["image"]`, or a
    colorizer's `x["image_l"]`) are checked as they stream: a batch with
    NaN or inf raises an `InvalidArgumentError` naming the input, where
    training would otherwise turn the weights into NaN unnoticed.

    Args:
        dataset: a batched `tf.data.Dataset` as above.
        tokenizer: a `SentenceTokenizer` or a `ReferItTokenizer`.

    Returns:
        The mapped `tf.data.Dataset`.

    Example:
    >>> segmenter = LBIESegmenter.from_preset("cosal_paper")
    >>> data = cosal.generate(64)
    >>> train = tokenize_dataset(
    ...     cosal.as_dataset(data, batch_size=32), segmenter.tokenizer)
    >>> segmenter.backbone.compile(optimizer="adam")
    >>> segmenter.backbone.fit(train)
    """
    return _tokenized(dataset, tokenizer)


def _tokenized(dataset, tokenizer, check_targets=None):
    """`tokenize_dataset`, with the targets checked by `check_targets`."""
    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(
            "`dataset` must be a tf.data.Dataset. Received: "
            f"{type(dataset).__name__}"
        )
    if not isinstance(tokenizer, (SentenceTokenizer, ReferItTokenizer)):
        raise TypeError(
            "`tokenizer` must be a SentenceTokenizer or a ReferItTokenizer. "
            f"Received: {type(tokenizer).__name__}"
        )
    spec = dataset.element_spec
    x_spec = spec[0] if isinstance(spec, tuple) else spec
    if not isinstance(x_spec, dict) or "text" not in x_spec:
        raise ValueError(
            "`dataset` elements must be `x`, `(x, y)` or `(x, y, "
            "sample_weight)` with `x` a dict holding a string `'text'`. "
            f"Received element_spec: {spec}"
        )
    return _map_elements(dataset, tokenizer, check_targets)


def _map_elements(dataset, tokenizer=None, check_targets=None):
    """`dataset` with its float images checked, and more (`tf.data`).

    Every element's float image inputs (`"image"`, `"image_l"`) must be
    finite: one NaN pixel would turn the first convolution's weights into
    NaN after one training step while the loss stays finite. With a
    `tokenizer`, `x["text"]` becomes `x["token_ids"]`; with
    `check_targets`, a function of `y` returning it with assertions, the
    targets are checked too.

    Args:
        dataset: batches `x`, `(x, y)` or `(x, y, ...)`, `x` a dict.
        tokenizer: None, or the tokenizer of `x["text"]`.
        check_targets: None, or a function of a `y` tensor.
    """

    def map_element(x, *rest):
        x = dict(x)
        for key in _IMAGE_KEYS:
            if key in x and x[key].dtype.is_floating:
                x[key] = tf.debugging.assert_all_finite(
                    x[key],
                    f"`{key}` holds NaN or infinite values: images must be "
                    "finite.",
                )
        if tokenizer is not None:
            x["token_ids"] = tokenizer(x.pop("text"))
        if check_targets is not None and rest:
            rest = (check_targets(rest[0]), *rest[1:])
        return (x, *rest) if rest else x

    return dataset.map(map_element, num_parallel_calls=tf.data.AUTOTUNE)


def _holds_values(inputs):
    """Whether `inputs` is a dict of concrete values (not symbolic)."""
    return (
        isinstance(inputs, dict)
        and tf.executing_eagerly()
        and not any(
            isinstance(value, keras.KerasTensor)
            or (tf.is_tensor(value) and tf.is_symbolic_tensor(value))
            for value in inputs.values()
        )
    )


class Task(keras.Model):
    """What the task models share: a tokenizer before a backbone.

    A base class in the keras-hub style. A task is a functional model on
    raw inputs, an `"image"` and a string `"text"` `(batch,)` tokenized in
    the graph, wrapping a `Backbone` on token ids; saved and exported
    tasks therefore take raw strings. Subclasses name their parts and
    presets in class attributes and build their graph in `task_graph`:

    - `backbone_class`, `tokenizer_class`: the parts' classes;
    - `tokenizer_arguments`: the tokenizer arguments that come from the
      preset's config, which tokenizer and backbone must agree on (as on
      `vocabulary_size`);
    - `presets`: the family's preset table (`keras_lbie.utils.preset_utils`);
      `preset_name_prefix` starts the names of preset tasks,
      `preset_kind` names a preset in errors, `preset_changes` what an
      override changes, `weight_preserving_overrides` the overrides that
      loaded weights allow;
    - `check_image_input(image)`: raises unless the image input fits;
      `standardize_image(image)`, the image a user passes as the task's
      numpy input; `check_targets(y)` and `target_assertions(y)`, the
      targets of `fit` and `evaluate` (none by default).

    `predict`, `__call__`, `evaluate` and `fit` take raw inputs as users
    have them: the text as a list of str or bytes, a numpy array of them
    or a str for one image; the images as arrays, tensors or nested lists
    of pixel values in [0, 255] whatever the dtype (`check_pixels`: NaN
    or inf is an error, and a float image in [0, 1] draws a
    `PixelRangeWarning`). An empty batch gives an empty output from
    `predict` and `__call__`. `tf.data` inputs and `tokenize_dataset` check
    their float images (and targets) as they stream.

    Example:
    >>> segmenter = LBIESegmenter.from_preset("cosal_paper")
    >>> segmenter.backbone, segmenter.tokenizer
    >>> train = segmenter.tokenize_dataset(cosal.as_dataset(data, 32))
    """

    backbone_class = None
    tokenizer_class = None
    tokenizer_arguments = ()
    presets = {}
    preset_name_prefix = None
    preset_kind = "preset"
    preset_changes = "the architecture"
    weight_preserving_overrides = frozenset()

    def __init__(self, backbone, tokenizer, **kwargs):
        self.check_parts(backbone, tokenizer)
        inputs, outputs = self.task_graph(backbone, tokenizer)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone
        self.tokenizer = tokenizer

    @classmethod
    def task_graph(cls, backbone, tokenizer):
        """`(inputs, outputs)` of the task's functional graph."""
        raise NotImplementedError

    @classmethod
    def check_parts(cls, backbone, tokenizer):
        """Raises unless backbone and tokenizer are the task's and agree."""
        for name, part, part_class in (
            ("backbone", backbone, cls.backbone_class),
            ("tokenizer", tokenizer, cls.tokenizer_class),
        ):
            if not isinstance(part, part_class):
                # "an LBIE...": the initialism is read letter by letter.
                vowel_sound = part_class.__name__.startswith(("LBIE", *"AEIOU"))
                article = "an" if vowel_sound else "a"
                raise TypeError(
                    f"`{name}` must be {article} {part_class.__name__}. "
                    f"Received: {type(part).__name__}"
                )
        for attribute in ("vocabulary_size", *cls.tokenizer_arguments):
            if getattr(tokenizer, attribute) != getattr(backbone, attribute):
                raise ValueError(
                    f"The tokenizer's `{attribute}` "
                    f"({getattr(tokenizer, attribute)}) must equal the "
                    f"backbone's ({getattr(backbone, attribute)})."
                )

    @classmethod
    def available_presets(cls):
        """Returns `{name: description}` of every preset of the task."""
        return preset_descriptions(cls.presets)

    @classmethod
    def build_from_preset(
        cls, preset, load_weights=True, vocabulary=None, **overrides
    ):
        """The task of a preset: checks, tokenizer, backbone, weights.

        What every `from_preset` does, which documents the arguments.
        `vocabulary` None takes the preset's default; otherwise it replaces
        it, which loaded weights do not allow. The task is named
        `<preset_name_prefix>_<preset>`.
        """
        check_preset_name(preset, cls.presets, cls.preset_kind)
        entry, config, has_weights = resolve_preset(
            preset,
            cls.presets,
            load_weights,
            overrides,
            cls.weight_preserving_overrides,
            kind=cls.preset_kind,
            changes=cls.preset_changes,
            other_changes=[] if vocabulary is None else ["vocabulary"],
            allowed=cls.overridable(cls.presets[preset]),
        )
        tokenizer = cls.tokenizer_class(
            cls.preset_vocabulary(entry, vocabulary),
            **{key: config[key] for key in cls.tokenizer_arguments},
            name="tokenizer",
        )
        backbone = cls.preset_backbone(entry, config, tokenizer)
        if has_weights:
            load_preset_weights(backbone, preset, entry["weights"])
        return cls(
            backbone, tokenizer, name=f"{cls.preset_name_prefix}_{preset}"
        )

    @classmethod
    def overridable(cls, entry):
        """The override names a preset allows; None for its config's."""
        return None

    @classmethod
    def preset_vocabulary(cls, entry, vocabulary):
        """The tokenizer's words: the preset's default, or `vocabulary`."""
        return entry["vocabulary"]() if vocabulary is None else vocabulary

    @classmethod
    def preset_backbone(cls, entry, config, tokenizer):
        """The backbone of a preset's resolved `config`."""
        return cls.backbone_class(
            vocabulary_size=tokenizer.vocabulary_size,
            name="backbone",
            **config,
        )

    @property
    def image_size(self):
        """The height and width of the images the model takes."""
        return self.backbone.image_size

    def check_image_input(self, image):
        """Raises unless the `"image"` input fits; subclasses define it."""
        raise NotImplementedError

    def standardize_image(self, image):
        """The numpy `"image"` input of `check_pixels(image)`; subclasses."""
        raise NotImplementedError

    def check_targets(self, y):
        """The numpy `y` of `fit` / `evaluate`, or raises; none here."""
        return y

    def target_assertions(self, y):
        """`y` tensor with the `check_targets` checks as graph assertions."""
        return y

    def standardize_inputs(self, inputs):
        """Raw inputs as users have them → `(image, texts)`, checked.

        Args:
            inputs: a dict with `"image"` (array, eager tensor or nested
                list of pixel values) and `"text"` (see `check_texts`).

        Returns:
            The numpy image batch of `standardize_image` and the list of
            one str per image.
        """
        check_input_keys(inputs, ("image", "text"))
        image = self.standardize_image(check_pixels(inputs["image"], "image"))
        texts = check_texts(inputs["text"], len(image), "text")
        return image, texts

    def empty_output(self):
        """The numpy output of an empty batch."""
        output = self.output
        return np.zeros((0, *output.shape[1:]), output.dtype)

    def __call__(self, inputs, *args, **kwargs):
        if _holds_values(inputs):
            image, texts = self.standardize_inputs(inputs)
            if not texts:
                return tf.constant(self.empty_output())
            inputs = {
                "image": tf.constant(image, tf.float32),
                "text": tf.constant(texts, tf.string),
            }
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, training=None, mask=None):
        check_input_keys(inputs, ("image", "text"))
        self.check_image_input(inputs["image"])
        check_text_batch(inputs["text"], "text")
        return super().call(inputs, training=training, mask=mask)

    def predict(self, x, *args, **kwargs):
        if isinstance(x, dict):
            x = self._numpy_inputs(x)
            if not len(x["text"]):
                return self.empty_output()
        elif isinstance(x, tf.data.Dataset):
            x = _map_elements(x)
        return super().predict(x, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        x, y = self._checked_data(x, y)
        return super().evaluate(x, y, *args, **kwargs)

    def fit(self, x=None, y=None, *args, **kwargs):
        if self.distribute_strategy.num_replicas_in_sync > 1:
            return self._fit_on_token_ids(x, y, *args, **kwargs)
        x, y = self._checked_data(x, y)
        validation_data = kwargs.get("validation_data")
        if isinstance(validation_data, tf.data.Dataset):
            kwargs["validation_data"] = self._checked_data(validation_data)[0]
        elif isinstance(validation_data, (tuple, list)) and isinstance(
            validation_data[0], dict
        ):
            kwargs["validation_data"] = (
                *self._checked_data(*validation_data[:2]),
                *validation_data[2:],
            )
        return super().fit(x, y, *args, **kwargs)

    def _fit_on_token_ids(self, x, y=None, *args, **kwargs):
        """`fit` under several replicas: the backbone, on token ids.

        String tensors cannot be split over replicas, so the text of the
        `tf.data` pipeline is tokenized in it (`tokenize_dataset`, as
        keras-hub maps a preprocessor over the dataset) and the backbone,
        which holds this model's weights, trains with this model's
        `compile` arguments and optimizer.
        """
        if not isinstance(x, tf.data.Dataset):
            raise ValueError(
                "Under a strategy of several replicas, `fit` takes a "
                "batched `tf.data.Dataset` of `({'image', 'text'}, y)`, "
                "tokenized in the pipeline (strings cannot be split over "
                f"replicas). Received: {type(x).__name__}"
            )
        if not self.compiled:
            raise ValueError("Call `compile()` before `fit()`.")
        compile_arguments = dict(self._compile_config.config)
        compile_arguments["optimizer"] = self.optimizer
        self.backbone.compile(**compile_arguments)
        validation_data = kwargs.get("validation_data")
        if isinstance(validation_data, tf.data.Dataset):
            kwargs["validation_data"] = self.tokenize_dataset(validation_data)
        return self.backbone.fit(self.tokenize_dataset(x), y, *args, **kwargs)

    def _numpy_inputs(self, x):
        image, texts = self.standardize_inputs(x)
        return {"image": image, "text": np.array(texts, dtype=object)}

    def _checked_data(self, x, y=None):
        """`(x, y)` of `fit` / `evaluate`, standardised and checked."""
        if isinstance(x, dict):
            x = self._numpy_inputs(x)
            if not len(x["text"]):
                raise ValueError(
                    "The inputs hold no example: `image` and `text` are empty."
                )
            if y is not None:
                y = self.check_targets(y)
        elif isinstance(x, tf.data.Dataset):
            x = _map_elements(x, check_targets=self.target_assertions)
        return x, y

    def tokenize_dataset(self, dataset):
        """Replaces a dataset's raw `"text"` by `"token_ids"` (in `tf.data`).

        `tokenize_dataset(dataset, self.tokenizer)`: the backbone's
        training inputs, e.g. `({"image", "token_ids"}, y)` from
        `cosal.as_dataset`'s `({"image", "text"}, y)`, with the targets
        checked as they stream (`target_assertions`).
        """
        return _tokenized(dataset, self.tokenizer, self.target_assertions)

    def predict_with_texts(self, inputs, texts, batch_size):
        """Runs the backbone on numpy `inputs` and tokenized `texts`.

        Args:
            inputs: dict of the backbone's numpy inputs but `"token_ids"`.
            texts: one text per example (`check_texts`): a list of str or
                bytes, a numpy array of them, or a str for one.
            batch_size: positive int, examples per forward pass.

        Returns:
            `(token_ids, outputs)`: the numpy ids and the backbone's outputs
            (empty arrays for an empty batch).
        """
        texts = check_texts(texts, len(next(iter(inputs.values()))))
        token_ids = self.tokenizer(tf.constant(texts, tf.string)).numpy()
        if not texts:
            outputs = {
                key: np.zeros((0, *value.shape[1:]), value.dtype)
                for key, value in self.backbone.output.items()
            }
            return token_ids, outputs
        inputs = {**inputs, "token_ids": token_ids}
        # `predict_on_batch` per chunk, not `predict`: the same compiled
        # step without `predict`'s data adapter and callbacks, which cost
        # ~140 ms a call, 10x the model itself on one CoSaL image. Under
        # several replicas Keras's `predict_on_batch` runs the whole chunk
        # on each and concatenates the copies: call the model instead.
        predict = self.backbone.predict_on_batch
        if self.backbone.distribute_strategy.num_replicas_in_sync > 1:
            predict = functools.partial(_predict_eagerly, self.backbone)
        chunks = [
            predict(
                {key: value[start : start + batch_size] for key, value in
                 inputs.items()}
            )
            for start in range(0, len(token_ids), batch_size)
        ]  # fmt: skip
        outputs = {
            key: np.concatenate([chunk[key] for chunk in chunks])
            for key in chunks[0]
        }
        return token_ids, outputs

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


def _predict_eagerly(backbone, inputs):
    outputs = backbone(inputs, training=False)
    return {key: ops.convert_to_numpy(value) for key, value in outputs.items()}
