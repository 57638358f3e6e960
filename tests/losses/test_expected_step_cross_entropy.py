import numpy as np
import pytest
import tensorflow as tf

from keras_lbie.losses.expected_step_cross_entropy import (
    expected_step_cross_entropy,
)


def test_hand_computed_marginal_likelihood():
    # One pixel, label 0, two steps: p_1(0) = 1/2 (logits 0, 0) and
    # p_2(0) = 3/4 (logits log 3, 0). With beta = (0.4, 0.6):
    # -log(0.4 * 0.5 + 0.6 * 0.75) = -log(0.65).
    step_logits = np.array([[0.0, 0.0], [np.log(3.0), 0.0]], "float32")
    step_logits = step_logits.reshape(1, 2, 1, 1, 2)
    betas = np.array([0.4, 0.6], "float32").reshape(1, 2, 1, 1)
    labels = np.zeros((1, 1, 1), "int32")
    loss = expected_step_cross_entropy(labels, step_logits, np.log(betas))
    np.testing.assert_allclose(np.asarray(loss), [[[-np.log(0.65)]]], 1e-6)


def test_zero_stop_probability_stays_finite():
    step_logits = np.random.default_rng(0).normal(size=(2, 3, 4, 4, 7))
    log_betas = np.full((2, 3, 4, 4), -np.inf, "float32")
    log_betas[:, 1] = 0.0
    labels = np.random.default_rng(1).integers(0, 7, size=(2, 4, 4))
    loss = np.asarray(
        expected_step_cross_entropy(labels, step_logits, log_betas)
    )
    log_p = step_logits[:, 1] - np.log(
        np.exp(step_logits[:, 1]).sum(-1, keepdims=True)
    )
    expected = -np.take_along_axis(log_p, labels[..., None], -1)[..., 0]
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_gradients_stay_finite_when_a_beta_underflows():
    step_logits = tf.Variable(np.zeros((1, 2, 1, 1, 3), "float32"))
    log_betas = tf.Variable(
        np.array([-200.0, 0.0], "float32").reshape(1, 2, 1, 1)
    )
    with tf.GradientTape() as tape:
        loss = expected_step_cross_entropy(
            np.zeros((1, 1, 1)), step_logits, log_betas
        )
    for gradient in tape.gradient(loss, [step_logits, log_betas]):
        assert np.all(np.isfinite(np.asarray(gradient)))


def test_mismatched_stop_probabilities_are_rejected():
    with pytest.raises(ValueError, match="log_stop_probabilities"):
        expected_step_cross_entropy(
            np.zeros((1, 2, 2)),
            np.zeros((1, 3, 2, 2, 7), "float32"),
            np.zeros((1, 2, 2, 2), "float32"),
        )
