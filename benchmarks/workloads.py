"""What the benchmarks time, per preset: one registry entry each.

`BENCHMARKS[name].build(weights=None, **overrides)` returns a `Workload`:
the Keras model to train (`compile` + Keras's train function) and to call
at inference, a batch maker, and the inference output to return. A new
model family (colorizer, ReferIt) is one builder and one entry per
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
from keras_lbie.models import LBIESegmenter
from keras_lbie.models import available_presets
from keras_lbie.models.presets import PRESETS as SEGMENTER_PRESETS

# CoSaL descriptions have 9 sentences; longer ones repeat them.
_COSAL_SENTENCES = 9


@dataclasses.dataclass(frozen=True)
class Workload:
    """A model to time and how to feed it.

    Attributes:
        model: the `keras.Model` to train (`compile` without a loss: it
            trains its own objective) and to call with `training=False`.
        make_batch: `(batch_size, seed) -> (x, y)` of numpy arrays, `x` the
            model's input dict, `y` its training targets.
        output: the key of the model's output dict timed at inference
            (only it is returned, so unused outputs are pruned).
        trained: True when trained weights were loaded.
        settings: the configuration facts reported with each figure.
    """

    model: keras.Model
    make_batch: Callable[[int, int], tuple]
    output: str
    trained: bool
    settings: dict


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """A registry entry: the builder and how `run_all.py` runs it.

    Attributes:
        build: `(weights=None, **overrides) -> Workload`.
        batch_size: the batch size of `run_all.py`'s table.
        overrides: the preset overrides of `run_all.py`'s table.
        family: the data set the preset is for (`run_all.py`'s targets
            are per family).
    """

    build: Callable[..., Workload]
    family: str
    batch_size: int = 32
    overrides: dict = dataclasses.field(default_factory=dict)


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
    segmenter, trained = _segmenter(preset, **overrides)
    if weights is not None:
        segmenter.backbone.load_weights(weights)
        trained = True
    backbone = segmenter.backbone
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


def _segmenter(preset, **overrides):
    """The segmenter and whether it has trained weights."""
    try:
        segmenter = LBIESegmenter.from_preset(preset, **overrides)
    except ValueError:
        # Architecture overrides (T, image size, ...) do not fit the
        # preset's weights; a randomly initialised model costs the same.
        # Unknown overrides raise again here.
        segmenter = LBIESegmenter.from_preset(
            preset, load_weights=False, **overrides
        )
        return segmenter, False
    return segmenter, SEGMENTER_PRESETS[preset]["weights"] is not None


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


BENCHMARKS = {
    name: Benchmark(functools.partial(segmenter_workload, name), "cosal")
    for name in available_presets()
}
