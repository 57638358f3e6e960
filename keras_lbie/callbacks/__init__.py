"""keras_lbie.callbacks."""

from keras_lbie.callbacks.colorization_samples import ColorizationSamples
from keras_lbie.callbacks.gumbel_temperature_scheduler import (
    GumbelTemperatureScheduler,
)
from keras_lbie.callbacks.gumbel_temperature_scheduler import (
    exponential_temperature_schedule,
)
from keras_lbie.callbacks.training_backup import TrainingBackup

__all__ = [
    "ColorizationSamples",
    "GumbelTemperatureScheduler",
    "TrainingBackup",
    "exponential_temperature_schedule",
]
