"""What the benchmarks time, per preset: one registry entry each.

`BENCHMARKS[name].build(weights=None, **overrides)` returns a `Workload`:
the Keras model to train (`compile` + Keras's train function) and the one
to call at inference, a batch maker, and the inference output to return.
Three model families are registered: the `LBIESegmenter` presets (CoSaL),
the `LBIEColorizer` presets (trained as an `LBIEColorizerGAN`) and the
`ReferItSegmenter` presets. A new family is one builder and one entry per
preset in `BENCHMARKS`; the scripts find presets only here.
"""

import dataclasses
import functools
import math
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from keras_lbie.datasets import cosal
from keras_lbie.datasets import cosal_colorization
from keras_lbie.models import LBIEColorizer
from keras_lbie.models import LBIEColorizerGAN
from keras_lbie.models import LBIESegmenter
from keras_lbie.models import ReferItSegmenter
from keras_lbie.models import available_presets
from keras_lbie.tokenizers.referit_tokenizer import SPECIAL_TOKENS

# CoSaL descriptions have 9 sentences; longer ones repeat them.
_COSAL_SENTENCES = 9
# text_objseg's ReferIt vocabulary has 8803 words; the ReferIt presets are
# timed with a placeholder vocabulary of that size (the data set's own is
# not on the machine), and one expression of ReferIt's typical length.
REFERIT_VOCABULARY_SIZE = 8803
_REFERIT_EXPRESSION = "the man on the left"


@dataclasses.dataclass(frozen=True)
class Workload:
    """A model to time and how to feed it.

    Attributes:
        model: the `keras.Model` to train; it trains its own objective.
        make_batch: `(batch_size, seed) -> (x, y)` of numpy arrays, `x` the
            model's input dict, `y` its training targets.
        output: the key of the inference model's output dict timed at
            inference (only it is returned, so unused outputs are pruned).
        trained: True when trained weights were loaded.
        settings: the configuration facts reported with each figure.
        infer_model: the model called with `training=False` at inference;
            None for `model` (a GAN trains both its parts but infers with
            its generator only).
        compile: `(model, jit_compile) -> None`, compiles `model` for
            training with default optimizers and no loss.
        loss: the key of the train function's logs that the timed step
            waits for.
    """

    model: keras.Model
    make_batch: Callable[[int, int], tuple]
    output: str
    trained: bool
    settings: dict
    infer_model: keras.Model | None = None
    compile: Callable[[keras.Model, bool], None] = None
    loss: str = "loss"

    def compile_for_training(self, jit_compile):
        if self.compile is not None:
            self.compile(self.model, jit_compile)
        else:
            self.model.compile(
                optimizer=keras.optimizers.Adam(), jit_compile=jit_compile
            )

    @property
    def inference_model(self):
        return self.model if self.infer_model is None else self.infer_model


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """A registry entry: the builder and how `run_all.py` runs it.

    Attributes:
        build: `(weights=None, **overrides) -> Workload`.
        batch_size: the batch size of `run_all.py`'s table.
        overrides: the preset overrides of `run_all.py`'s table.
        family: the data set the preset is for (`run_all.py`'s targets
            are per family).
        timing: `throughput.py` options replacing `run_all.py`'s
            defaults for this preset, e.g. fewer steps for a model whose
            step takes seconds.
    """

    build: Callable[..., Workload]
    family: str
    batch_size: int = 32
    overrides: dict = dataclasses.field(default_factory=dict)
    timing: dict = dataclasses.field(default_factory=dict)


def segmenter_workload(preset, weights=None, **overrides):
    """The `Workload` of an `LBIESegmenter` preset's backbone.

    Args:
        preset: a name from `keras_lbie.models.available_presets()`.
        weights: optional path of backbone weights to load (e.g. a
            training checkpoint); otherwise the preset's own trained
            weights when the overrides keep its architecture.
        **overrides: `LBIESegmenter.from_preset` overrides (`max_steps`,
            `image_size`, `max_sentences`, `early_exit`, ...).
    """
    segmenter, trained = _from_preset(
        LBIESegmenter.from_preset, LBIESegmenter.presets, preset, **overrides
    )
    backbone = segmenter.backbone
    trained = _load_weights(backbone, weights) or trained
    return Workload(
        model=backbone,
        make_batch=functools.partial(_cosal_batch, segmenter),
        output="logits",
        trained=trained,
        settings={
            "image_size": backbone.image_size,
            "max_steps": backbone.max_steps,
            "max_sentences": backbone.max_sentences,
            "early_exit": backbone.early_exit,
        },
    )


def _load_weights(backbone, weights):
    """Loads the weights file `weights` if given; whether it did."""
    if weights is None:
        return False
    backbone.load_weights(weights)
    return True


def _from_preset(from_preset, preset_table, preset, **overrides):
    """`from_preset(preset, **overrides)` and whether it has trained weights.

    Args:
        from_preset: a model class's `from_preset`.
        preset_table: its presets, `{name: {"weights": file or None, ...}}`.
        preset, **overrides: the arguments of `from_preset`.
    """
    try:
        model = from_preset(preset, **overrides)
    except ValueError:
        # Architecture overrides (T, image size, ...) do not fit the
        # preset's weights; a randomly initialised model costs the same.
        # Unknown overrides raise again here.
        return from_preset(preset, load_weights=False, **overrides), False
    return model, preset_table[preset]["weights"] is not None


def _cosal_batch(segmenter, batch_size, seed=0):
    data = cosal.generate(
        batch_size, num_direct=4, image_size=segmenter.image_size, seed=seed
    )
    repeats = math.ceil(segmenter.backbone.max_sentences / _COSAL_SENTENCES)
    texts = [" ".join([text] * repeats) for text in data["text"]]
    x = {
        "image": data["image"].astype(np.float32),
        "token_ids": segmenter.tokenizer(tf.constant(texts)).numpy(),
    }
    return x, data["label"].astype(np.int32)


def colorizer_workload(preset, weights=None, **overrides):
    """The `Workload` of an `LBIEColorizer` preset, trained as its GAN.

    Training times `LBIEColorizerGAN.train_step` (a discriminator and a
    generator update, default optimizers); inference times the
    generator's backbone alone.

    Args:
        preset: a name from `keras_lbie.models.available_colorizer_presets()`.
        weights: optional path of generator backbone weights to load.
        **overrides: `LBIEColorizer.from_preset` overrides.
    """
    gan, trained = _from_preset(
        LBIEColorizerGAN.from_preset, LBIEColorizer.presets, preset, **overrides
    )
    generator = gan.generator
    backbone = generator.backbone
    trained = _load_weights(backbone, weights) or trained
    return Workload(
        model=gan,
        make_batch=functools.partial(_colorization_batch, generator),
        output="ab",
        trained=trained,
        settings={
            "image_size": backbone.image_size,
            "max_steps": backbone.max_steps,
            "max_words": backbone.max_words,
        },
        infer_model=backbone,
        compile=lambda model, jit_compile: model.compile(
            jit_compile=jit_compile
        ),
        loss="g_loss",
    )


def _colorization_batch(generator, batch_size, seed=0):
    # CoSaL colorization images have sizes divisible by 3; other sizes
    # (the flowers preset's 256) get the nearest smaller one, resized.
    size = generator.image_size
    data = cosal_colorization.generate(
        batch_size, image_size=size - size % 3, seed=seed
    )
    x = {
        "image_l": _resize(data["image_l"], size),
        "token_ids": generator.tokenizer(tf.constant(data["text"])).numpy(),
    }
    return x, _resize(data["ab"], size)


def _resize(images, size):
    if images.shape[1] == size:
        return images
    return tf.image.resize(images, (size, size)).numpy()


def referit_workload(preset, weights=None, **overrides):
    """The `Workload` of a `ReferItSegmenter` preset's backbone.

    Random images, one expression repeated over the batch, random masks
    (the cost depends on the shapes, not the values); a placeholder
    vocabulary of ReferIt's size. No ReferIt preset ships weights.

    Args:
        preset: a name from `keras_lbie.models.available_referit_presets()`.
        weights: optional path of backbone weights to load.
        **overrides: `ReferItSegmenter.from_preset` overrides.
    """
    vocabulary = [*SPECIAL_TOKENS] + [
        f"word{i}" for i in range(REFERIT_VOCABULARY_SIZE - len(SPECIAL_TOKENS))
    ]
    segmenter = ReferItSegmenter.from_preset(preset, vocabulary, **overrides)
    backbone = segmenter.backbone
    trained = _load_weights(backbone, weights)
    return Workload(
        model=backbone,
        make_batch=functools.partial(_referit_batch, segmenter),
        output="logits",
        trained=trained,
        settings={
            "image_size": backbone.image_size,
            "max_steps": backbone.max_steps,
            "early_exit": backbone.early_exit,
        },
    )


def _referit_batch(segmenter, batch_size, seed=0):
    rng = np.random.default_rng(seed)
    size = segmenter.backbone.image_size
    images = rng.uniform(0, 255, (batch_size, size, size, 3))
    texts = tf.constant([_REFERIT_EXPRESSION] * batch_size)
    x = {
        "image": images.astype(np.float32),
        "token_ids": segmenter.tokenizer(texts).numpy(),
    }
    masks = rng.uniform(size=(batch_size, size, size)) < 0.2
    return x, masks.astype(np.int32)


# Steps of several seconds: a few are enough for a stable median.
_SLOW_TIMING = {"steps": 2, "repeats": 3, "warmup": 1}

BENCHMARKS = {
    **{
        name: Benchmark(functools.partial(segmenter_workload, name), "cosal")
        for name in available_presets()
    },
    "cosal_colorizer": Benchmark(
        functools.partial(colorizer_workload, "cosal_colorizer"), "cosal"
    ),
    "flowers_paper": Benchmark(
        functools.partial(colorizer_workload, "flowers_paper"),
        "flowers",
        batch_size=1,
        timing=_SLOW_TIMING,
    ),
    "referit_small": Benchmark(
        functools.partial(referit_workload, "referit_small"),
        "referit",
        timing={"steps": 5, "repeats": 3},
    ),
    "referit_paper": Benchmark(
        functools.partial(referit_workload, "referit_paper"),
        "referit",
        batch_size=1,
        timing=_SLOW_TIMING,
    ),
}
