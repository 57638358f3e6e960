"""`TrainingBackup`: the state a resumed run needs, saved and restored."""

import os

import keras
import numpy as np

from keras_lbie.callbacks import TrainingBackup


def _model():
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dropout(0.5)]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


def test_restore_brings_back_weights_steps_and_seed_states(tmp_path):
    keras.utils.set_random_seed(0)
    model = _model()
    backup = TrainingBackup(str(tmp_path / "backup"), save_freq=3)
    x, y = np.ones((20, 3)), np.zeros((20, 4))
    model.fit(x, y, batch_size=4, callbacks=[backup], verbose=0)
    # Saved after step 3 and at the epoch's end (step 5), then kept.
    assert backup.exists
    restored = _model()
    assert backup.restore(restored) == 5
    for a, b in zip(model.variables, restored.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    dropout = restored.layers[-1]
    np.testing.assert_array_equal(
        dropout.seed_generator.state.numpy(),
        model.layers[-1].seed_generator.state.numpy(),
    )
    backup.delete()
    assert not os.path.exists(tmp_path / "backup")
