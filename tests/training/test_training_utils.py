"""Tests for what the training runs share: precision and XLA helpers."""

from unittest import mock

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lbie.models import LBIESegmenter
from keras_lbie.training import training_utils
from keras_lbie.training.training_utils import compile_for_training
from keras_lbie.training.training_utils import jit_compile_layer
from keras_lbie.training.training_utils import learning_rate
from keras_lbie.training.training_utils import object_weighting
from keras_lbie.training.training_utils import precision_policy
from keras_lbie.training.training_utils import resolve_precision


@pytest.mark.parametrize(
    "gpus, bf16, expected",
    [
        (["GPU:0"], True, "float16"),
        ([], True, "bfloat16"),
        ([], False, "float32"),
    ],
)
def test_auto_precision_follows_the_hardware(gpus, bf16, expected):
    with (
        mock.patch.object(
            tf.config, "list_physical_devices", return_value=gpus
        ),
        mock.patch.object(training_utils, "bf16_native", return_value=bf16),
    ):
        assert resolve_precision("auto") == expected
        assert resolve_precision("float32") == "float32"


def test_precision_policy_builds_mixed_models_and_restores():
    with precision_policy("bfloat16"):
        layer = keras.layers.Dense(2)
    assert layer.compute_dtype == "bfloat16"
    assert layer.variable_dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"


def _backbone():
    return LBIESegmenter.from_preset(
        "cosal_paper", load_weights=False, seed=0, max_steps=2
    ).backbone


def _batch(backbone, batch_size=2):
    rng = np.random.default_rng(0)
    return {
        "image": rng.uniform(0, 255, (batch_size, 48, 48, 3)).astype("float32"),
        "token_ids": rng.integers(1, 20, (batch_size, 9, 11)).astype("int32"),
    }


def test_xla_compiled_layer_gives_the_same_outputs_and_gradients():
    plain = _backbone()
    compiled = _backbone()
    compiled.set_weights(plain.get_weights())
    jit_compile_layer(compiled.get_layer("fusion"))
    x = _batch(plain)

    def gradients(model):
        with tf.GradientTape() as tape:
            # training=False: the Gumbel noise would differ between models.
            logits = model(x, training=False)["logits"]
            loss = tf.reduce_sum(logits**2)
        return logits, tape.gradient(loss, model.trainable_variables)

    plain_logits, plain_grads = gradients(plain)
    compiled_logits, compiled_grads = gradients(compiled)
    np.testing.assert_allclose(compiled_logits, plain_logits, atol=1e-4)
    for compiled_grad, plain_grad in zip(
        compiled_grads, plain_grads, strict=True
    ):
        np.testing.assert_allclose(
            _dense(compiled_grad, plain_grad),
            _dense(plain_grad, compiled_grad),
            rtol=1e-3,
            atol=1e-3,
        )


def _dense(gradient, other):
    # A weight the pass does not use: no gradient eagerly, zeros from XLA.
    if gradient is None:
        return np.zeros(tf.convert_to_tensor(other).shape)
    return tf.convert_to_tensor(gradient)


@pytest.mark.parametrize(
    "jit_compile, step_xla, fusion_xla",
    [
        # XLA compiles the whole training step: ~25 s on 2 cores.
        pytest.param(True, True, False, marks=pytest.mark.large),
        (False, False, False),
        ("fusion", False, True),
    ],
)
def test_compile_for_training_compiles_the_asked_parts(
    jit_compile, step_xla, fusion_xla
):
    backbone = _backbone()
    compile_for_training(backbone, keras.optimizers.Adam(), jit_compile)
    assert bool(backbone.jit_compile) is step_xla
    fusion_call = backbone.get_layer("fusion").call
    assert isinstance(
        fusion_call, tf.types.experimental.PolymorphicFunction
    ) is (fusion_xla)
    if step_xla or fusion_xla:
        # A plain step is fitted by every other training test.
        x = _batch(backbone, 4)
        y = np.zeros((4, 48, 48), "int32")
        history = backbone.fit(x, y, batch_size=2, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])


def test_object_weighting_weighs_object_pixels():
    weigh = object_weighting(4.0)
    labels = np.array([[[0, 3], [1, 0]]], "uint8")
    _, _, weights = weigh({}, tf.constant(labels))
    np.testing.assert_array_equal(weights, [[[1.0, 4.0], [4.0, 1.0]]])


def test_learning_rate_is_constant_or_cosine_decayed():
    assert learning_rate(1e-3, False, 100) == 1e-3
    schedule = learning_rate(1e-3, True, 100)
    np.testing.assert_allclose(float(schedule(0)), 1e-3)
    np.testing.assert_allclose(float(schedule(50)), 5e-4, rtol=1e-5)
    np.testing.assert_allclose(float(schedule(100)), 0.0, atol=1e-9)
