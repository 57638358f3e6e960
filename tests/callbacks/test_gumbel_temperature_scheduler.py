import keras
import numpy as np
import pytest

from keras_lbie.callbacks.gumbel_temperature_scheduler import (
    GumbelTemperatureScheduler,
)
from keras_lbie.callbacks.gumbel_temperature_scheduler import (
    exponential_temperature_schedule,
)
from keras_lbie.layers.termination_gate import TerminationGate


def gated_model():
    states = keras.Input((3, 2, 2, 4))
    gate = TerminationGate(temperature=5.0, seed=0)
    weights = gate(states)["weights"]
    return keras.Model(states, keras.layers.Flatten()(weights)), gate


def test_exponential_schedule_values():
    schedule = exponential_temperature_schedule(
        initial=1.0, rate=0.1, minimum=0.5, every=2
    )
    assert schedule(0) == 1.0
    assert schedule(1) == 1.0
    assert schedule(2) == pytest.approx(np.exp(-0.2))
    assert schedule(1000) == 0.5


def test_callback_anneals_every_gate_during_fit():
    model, gate = gated_model()
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.rand(8, 3, 2, 2, 4).astype("float32")
    y = np.zeros((8, 12), "float32")
    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(float(gate.temperature_variable.numpy()))

    scheduler = GumbelTemperatureScheduler(lambda step: 1.0 / (step + 1))
    history = model.fit(
        x,
        y,
        batch_size=2,
        epochs=2,
        verbose=0,
        callbacks=[scheduler, Recorder()],
    )
    np.testing.assert_allclose(seen, [1.0 / (s + 1) for s in range(8)])
    assert history.history["gumbel_temperature"][-1] == pytest.approx(1 / 8)


def test_invalid_schedule_value_is_rejected():
    model, _ = gated_model()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="schedule"):
        model.fit(
            np.zeros((2, 3, 2, 2, 4), "float32"),
            np.zeros((2, 12), "float32"),
            verbose=0,
            callbacks=[GumbelTemperatureScheduler(lambda step: 0.0)],
        )


def test_model_without_gate_is_rejected():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="TerminationGate"):
        model.fit(
            np.zeros((2, 2)),
            np.zeros((2, 1)),
            verbose=0,
            callbacks=[GumbelTemperatureScheduler()],
        )
