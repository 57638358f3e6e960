"""What the CoSaL and ReferIt training runs share: strategy, callbacks."""

import os

import keras
import tensorflow as tf

from keras_lbie.callbacks import GumbelTemperatureScheduler
from keras_lbie.callbacks import exponential_temperature_schedule

# The Gumbel-softmax temperature never anneals below this.
MINIMUM_TEMPERATURE = 0.5


def distribution_strategy(name):
    """The `tf.distribute` strategy of a run: "mirrored" or one CPU."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.OneDeviceStrategy("/cpu:0")


def checkpoint_callback(output_dir):
    """Saves the weights after every epoch, under `output_dir/checkpoints`."""
    return keras.callbacks.ModelCheckpoint(
        os.path.join(output_dir, "checkpoints", "epoch_{epoch}.weights.h5"),
        save_weights_only=True,
    )


def temperature_callbacks(backbone_config, rate):
    """`[GumbelTemperatureScheduler]` when the backbone samples gates.

    Args:
        backbone_config: the backbone's config (`max_steps`,
            `termination_mode`, `temperature`).
        rate: float, the per-step rate of the exponential schedule.

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
            )
        )
    ]
