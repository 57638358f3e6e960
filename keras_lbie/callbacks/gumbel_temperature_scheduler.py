import math

import keras

from keras_lbie.layers.termination_gate import TerminationGate
from keras_lbie.utils.validation import check_temperature


def exponential_temperature_schedule(
    initial=1.0, rate=1e-4, minimum=0.5, every=1
):
    """The annealing schedule of Jang et al. (2017), used by default.

    Returns a function `step -> max(minimum, initial * exp(-rate * N))`
    where `N = every * floor(step / every)`, so the temperature changes once
    every `every` training steps.
    """
    check_temperature(initial, "initial")
    check_temperature(minimum, "minimum")
    if rate < 0:
        raise ValueError(f"`rate` must be >= 0. Received: {rate}")
    if not isinstance(every, int) or every < 1:
        raise ValueError(f"`every` must be an int >= 1. Received: {every!r}")

    def schedule(step):
        annealed_steps = every * (step // every)
        return max(minimum, initial * math.exp(-rate * annealed_steps))

    return schedule


class GumbelTemperatureScheduler(keras.callbacks.Callback):
    """Anneals the temperature of every `TerminationGate` in the model.

    The paper (Chen et al., CVPR 2018, Section 3) anneals the Gumbel-softmax
    temperature lambda "via a fixed schedule". Before each training batch
    this callback sets every `TerminationGate.temperature_variable` of the
    model
    (nested layers included) to `schedule(step)`, `step` counting training
    batches from `initial_step` (pass the step you resume from).

    Args:
        schedule: function `step -> temperature` (a positive float).
            Defaults to `exponential_temperature_schedule()`.
        initial_step: int, the step number of the first batch.
        verbose: int, 1 prints the temperature at the end of each epoch.

    Example:
    >>> states = keras.Input((3, 2, 2, 4))
    >>> weights = TerminationGate(seed=0)(states)["weights"]
    >>> model = keras.Model(states, weights)
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> scheduler = GumbelTemperatureScheduler(
    ...     exponential_temperature_schedule(initial=1.0, rate=3e-5))
    >>> model.fit(np.ones((4, 3, 2, 2, 4)), np.zeros((4, 3, 2, 2)),
    ...           callbacks=[scheduler], verbose=0)
    """

    def __init__(self, schedule=None, initial_step=0, verbose=0):
        super().__init__()
        self.schedule = schedule or exponential_temperature_schedule()
        self.initial_step = initial_step
        self.verbose = verbose
        self.step = initial_step

    def _gates(self):
        return [
            layer
            for layer in self.model._flatten_layers(include_self=False)
            if isinstance(layer, TerminationGate) and layer.built
        ]

    def on_train_begin(self, logs=None):
        # Found once: no walk over the model's layers at every batch.
        self.gates = self._gates()
        if not self.gates:
            raise ValueError(
                "GumbelTemperatureScheduler found no built TerminationGate in "
                "the model: there is no temperature to anneal."
            )

    def on_train_batch_begin(self, batch, logs=None):
        temperature = self.schedule(self.step)
        check_temperature(temperature, "schedule(step)")
        for gate in self.gates:
            gate.temperature_variable.assign(temperature)
        self.step += 1

    def on_epoch_end(self, epoch, logs=None):
        temperature = float(self.gates[0].temperature_variable.numpy())
        if logs is not None:
            logs["gumbel_temperature"] = temperature
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: Gumbel temperature {temperature:.4f}")
