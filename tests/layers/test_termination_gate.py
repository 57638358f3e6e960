import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_probability.python.internal import samplers

from keras_lbie.layers.termination_gate import TerminationGate
from tests.layers import paper_reference
from tests.test_case import TestCase
from tests.test_case import two_replica_strategy

BATCH, STEPS, HEIGHT, WIDTH, CHANNELS = 2, 3, 4, 4, 5


def random_states(seed=0):
    rng = np.random.default_rng(seed)
    shape = (BATCH, STEPS, HEIGHT, WIDTH, CHANNELS)
    return rng.normal(size=shape).astype("float32")


def gate_weights(gate):
    return [np.asarray(w) for w in gate.gate_dense.get_weights()]


class TerminationGateTest(TestCase):
    def test_layer_behaviour(self):
        weights_shape = (BATCH, STEPS, HEIGHT, WIDTH)
        self.run_layer_test(
            cls=TerminationGate,
            init_kwargs={"mode": "gumbel", "temperature": 0.5, "seed": 1},
            input_data={"states": random_states()},
            expected_output_shape={
                "weights": weights_shape,
                "stop_probabilities": weights_shape,
                "log_stop_probabilities": weights_shape,
                "stop_step": (BATCH, HEIGHT, WIDTH),
            },
            expected_num_trainable_weights=2,
            # The temperature (the seed state is a variable, not a weight).
            expected_num_non_trainable_weights=1,
        )

    def test_stop_probabilities_match_paper_equation(self):
        gate = TerminationGate()
        states = random_states()
        outputs = gate(states)
        kernel, bias = gate_weights(gate)
        expected = paper_reference.stop_probabilities(
            states @ kernel[:, 0] + bias[0]
        )
        self.assertAllClose(outputs["stop_probabilities"], expected, atol=1e-6)
        self.assertAllClose(
            np.exp(outputs["log_stop_probabilities"]), expected, atol=1e-6
        )
        self.assertAllClose(
            np.sum(outputs["stop_probabilities"], axis=1),
            np.ones((BATCH, HEIGHT, WIDTH)),
            atol=1e-6,
        )

    def test_inference_picks_the_argmax_step(self):
        gate = TerminationGate(seed=3)
        outputs = gate(random_states(), training=False)
        argmax = np.argmax(outputs["stop_probabilities"], axis=1)
        self.assertAllEqual(outputs["stop_step"], argmax)
        one_hot = np.moveaxis(np.eye(STEPS)[argmax], -1, 1)
        self.assertAllEqual(outputs["weights"], one_hot)

    def test_expected_mode_trains_on_the_probabilities(self):
        gate = TerminationGate(mode="expected")
        outputs = gate(random_states(), training=True)
        self.assertAllClose(outputs["weights"], outputs["stop_probabilities"])

    def test_gumbel_sample_is_on_the_simplex_and_not_one_hot(self):
        gate = TerminationGate(temperature=1.0, seed=0)
        weights = np.asarray(gate(random_states(), training=True)["weights"])
        self.assertTrue(np.all(weights >= 0))
        self.assertAllClose(weights.sum(axis=1), np.ones_like(weights[:, 0]))
        self.assertLess(weights.max(axis=1).min(), 1.0 - 1e-3)

    def test_gumbel_sample_matches_keras_ops_reference(self):
        seed = 7
        gate = TerminationGate(temperature=0.7, seed=seed)
        states = random_states()
        sample = gate(states, training=True)["weights"]
        # The same noise: tfp draws uniform variates from the seed the
        # layer's generator yields first (replica 0 adds nothing to it).
        layer_seed = keras.random.SeedGenerator(seed).next()
        logits = np.log(np.asarray(gate(states)["stop_probabilities"]))
        uniform = samplers.uniform(
            shape=(1, BATCH, HEIGHT, WIDTH, STEPS),
            minval=np.finfo(np.float32).tiny,
            maxval=1.0,
            seed=tf.cast(layer_seed, tf.int32),
        )[0]
        gumbel = -keras.ops.log(-keras.ops.log(uniform))
        expected = keras.ops.softmax(
            (np.moveaxis(logits, 1, -1) + gumbel) / 0.7, axis=-1
        )
        self.assertAllClose(
            sample, np.moveaxis(np.asarray(expected), -1, 1), atol=1e-5
        )

    def test_seeded_samples_are_reproducible(self):
        states = random_states()
        samples = []
        for seed in (5, 5, 6):
            gate = TerminationGate(seed=seed)
            gate.build(states.shape)
            gate.gate_dense.set_weights(
                [np.full((CHANNELS, 1), 0.1, "float32"), np.zeros(1, "float32")]
            )
            samples.append(np.asarray(gate(states, training=True)["weights"]))
        self.assertAllEqual(samples[0], samples[1])
        self.assertNotAllClose(samples[0], samples[2])

    def test_replicas_draw_different_noise(self):
        strategy = two_replica_strategy()
        states = random_states()
        with strategy.scope():
            gate = TerminationGate(seed=0)
            gate.build(states.shape)

        @tf.function
        def sample():
            return strategy.run(lambda: gate(states, training=True)["weights"])

        per_replica = strategy.experimental_local_results(sample())
        self.assertNotAllClose(per_replica[0], per_replica[1])

    def test_temperature_is_a_non_trainable_variable(self):
        gate = TerminationGate(temperature=2.5)
        gate.build((None, STEPS, HEIGHT, WIDTH, CHANNELS))
        self.assertFalse(gate.temperature_variable.trainable)
        self.assertAllClose(gate.temperature_variable, 2.5)

    def test_gate_gets_gradients_through_the_gumbel_sample(self):
        gate = TerminationGate(seed=0)
        states = random_states()
        gate.build(states.shape)
        with tf.GradientTape() as tape:
            weights = gate(states, training=True)["weights"]
            loss = tf.reduce_sum(weights * np.arange(STEPS)[:, None, None])
        gradients = tape.gradient(loss, gate.trainable_variables)
        for gradient in gradients:
            self.assertGreater(np.abs(np.asarray(gradient)).max(), 0.0)


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("inf")])
def test_non_positive_temperature_is_rejected(temperature):
    with pytest.raises(ValueError, match="temperature"):
        TerminationGate(temperature=temperature)


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="mode"):
        TerminationGate(mode="reinforce")


def test_states_of_wrong_rank_are_rejected():
    with pytest.raises(ValueError, match="states"):
        TerminationGate()(np.zeros((2, 3, 4, 5), "float32"))
