"""What the CoSaL and ReferIt training runs share: precision, XLA,
callbacks (the strategy: `distribution.py`)."""

import contextlib
import os

import keras
import tensorflow as tf

from keras_lbie.callbacks import GumbelTemperatureScheduler
from keras_lbie.callbacks import exponential_temperature_schedule
from keras_lbie.utils.hardware import bf16_native

# The Gumbel-softmax temperature never anneals below this.
MINIMUM_TEMPERATURE = 0.5
# The Keras dtype policy of each training precision.
PRECISION_POLICIES = {
    "float32": "float32",
    "bfloat16": "mixed_bfloat16",
    "float16": "mixed_float16",
}
# What `jit_compile="fusion"` compiles: the fusion loop's many small ops,
# where XLA beats TensorFlow's CPU kernels, unlike the convolutions
# (benchmarks/README.md, "Where XLA helps").
XLA_LAYERS = ("fusion",)


def checkpoint_callback(output_dir):
    """Saves the weights after every epoch, under `output_dir/checkpoints`."""
    return keras.callbacks.ModelCheckpoint(
        os.path.join(output_dir, "checkpoints", "epoch_{epoch}.weights.h5"),
        save_weights_only=True,
    )


def temperature_callbacks(backbone_config, rate, initial_step=0):
    """`[GumbelTemperatureScheduler]` when the backbone samples gates.

    Args:
        backbone_config: the backbone's config (`max_steps`,
            `termination_mode`, `temperature`).
        rate: float, the per-step rate of the exponential schedule.
        initial_step: int, the training steps already done (a resumed
            run continues the schedule).

    Returns:
        A list of at most one callback: none for a one-step model or the
        expected loss, which draw no Gumbel samples.
    """
    uses_gumbel = (
        backbone_config["max_steps"] > 1
        and backbone_config["termination_mode"] == "gumbel"
    )
    if not uses_gumbel:
        return []
    return [
        GumbelTemperatureScheduler(
            exponential_temperature_schedule(
                initial=backbone_config["temperature"],
                rate=rate,
                minimum=MINIMUM_TEMPERATURE,
            ),
            initial_step=initial_step,
        )
    ]


def resolve_precision(precision):
    """The compute dtype of a run: `precision`, or what `"auto"` picks.

    `"auto"` picks float16 (with loss scaling) where TensorFlow sees a
    GPU, bfloat16 on a CPU with native bf16 arithmetic (AVX512-BF16 or
    AMX-BF16), else float32.
    """
    if precision != "auto":
        return precision
    if tf.config.list_physical_devices("GPU"):
        return "float16"
    return "bfloat16" if bf16_native() else "float32"


@contextlib.contextmanager
def precision_policy(precision):
    """Builds models in `precision` ("float32", "bfloat16" or "float16").

    Sets Keras's global dtype policy (mixed: float32 weights, the compute
    in `precision`) and restores the previous one on exit; `compile` then
    scales the loss of a float16 model.
    """
    previous = keras.config.dtype_policy().name
    keras.config.set_dtype_policy(PRECISION_POLICIES[precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def compile_for_training(backbone, optimizer, jit_compile):
    """Compiles a segmentation backbone to train its own objective.

    Args:
        backbone: an `ImageSegmenterBackbone`.
        optimizer: a Keras optimizer.
        jit_compile: True XLA-compiles the whole training step, False
            nothing, `"fusion"` the layers of `XLA_LAYERS` alone, each as
            its own XLA function inside a step run by TensorFlow's kernels.
    """
    backbone.compile(optimizer=optimizer, jit_compile=jit_compile is True)
    if jit_compile == "fusion":
        for name in XLA_LAYERS:
            jit_compile_layer(backbone.get_layer(name))


def jit_compile_layer(layer):
    """Runs `layer`'s `call` as an XLA-compiled `tf.function` from now on.

    Training and inference alike; gradients flow through it. The layer's
    config and weights are unchanged, so it saves and loads as before.
    """
    layer.call = tf.function(layer.call, jit_compile=True)


def learning_rate(rate, cosine_decay, steps):
    """Adam's learning rate: `rate`, or cosine-decayed to 0 over `steps`."""
    if not cosine_decay:
        return rate
    return keras.optimizers.schedules.CosineDecay(rate, steps)


def object_weighting(object_weight):
    """`(x, y)` → `(x, y, w)`: object pixels weigh `object_weight`, else 1.

    Objects cover a few percent of an image; weighting them keeps a model
    from settling on "background everywhere".
    """

    def weigh(x, y):
        weights = tf.where(y > 0, float(object_weight), 1.0)
        return x, y, weights

    return weigh
