import keras
import numpy as np
import tensorflow as tf

from keras_lbie.tokenizers.referit_tokenizer import ReferItTokenizer
from keras_lbie.tokenizers.sentence_tokenizer import SentenceTokenizer
from keras_lbie.utils.preset_utils import check_preset_name
from keras_lbie.utils.preset_utils import load_preset_weights
from keras_lbie.utils.preset_utils import preset_descriptions
from keras_lbie.utils.preset_utils import resolve_preset
from keras_lbie.utils.validation import check_input_keys
from keras_lbie.utils.validation import check_text_batch
from keras_lbie.utils.validation import check_texts


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
    (neither accepts string inputs).

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

    def tokenize(x, *rest):
        x = dict(x)
        x["token_ids"] = tokenizer(x.pop("text"))
        return (x, *rest) if rest else x

    return dataset.map(tokenize, num_parallel_calls=tf.data.AUTOTUNE)


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
    - `check_image_input(image)`: raises unless the image input fits.

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

    def call(self, inputs, training=None, mask=None):
        check_input_keys(inputs, ("image", "text"))
        self.check_image_input(inputs["image"])
        check_text_batch(inputs["text"], "text")
        return super().call(inputs, training=training, mask=mask)

    def tokenize_dataset(self, dataset):
        """Replaces a dataset's raw `"text"` by `"token_ids"` (in `tf.data`).

        `tokenize_dataset(dataset, self.tokenizer)`: the backbone's
        training inputs, e.g. `({"image", "token_ids"}, y)` from
        `cosal.as_dataset`'s `({"image", "text"}, y)`.
        """
        return tokenize_dataset(dataset, self.tokenizer)

    def predict_with_texts(self, inputs, texts, batch_size):
        """Runs the backbone on numpy `inputs` and tokenized `texts`.

        Args:
            inputs: dict of the backbone's numpy inputs but `"token_ids"`.
            texts: one text per example: a list of str, or a str for one.
            batch_size: positive int, examples per forward pass.

        Returns:
            `(token_ids, outputs)`: the numpy ids and the backbone's outputs.
        """
        num_examples = len(next(iter(inputs.values())))
        if not num_examples:
            raise ValueError("The batch is empty: pass at least one image.")
        texts = check_texts(texts, num_examples)
        token_ids = self.tokenizer(tf.constant(texts, tf.string)).numpy()
        inputs = {**inputs, "token_ids": token_ids}
        # `predict_on_batch` per chunk, not `predict`: the same compiled
        # step without `predict`'s data adapter and callbacks, which cost
        # ~140 ms a call, 10x the model itself on one CoSaL image.
        chunks = [
            self.backbone.predict_on_batch(
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
