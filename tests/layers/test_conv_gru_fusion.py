import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lbie.layers.conv_gru_fusion import ConvGRUFusion
from keras_lbie.layers.conv_gru_fusion import _last_valid_vector
from keras_lbie.layers.relational_text_attention import RelationalTextAttention
from tests.layers import paper_reference
from tests.test_case import TestCase

BATCH, HEIGHT, WIDTH, UNITS, LENGTH, TEXT_DIM = 2, 4, 4, 6, 5, 3


def random_inputs(seed=0, channels=UNITS):
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(BATCH, HEIGHT, WIDTH, channels))
    text = rng.normal(size=(BATCH, LENGTH, TEXT_DIM))
    # Second row: two real tokens, left-padded.
    mask = np.ones((BATCH, LENGTH), bool)
    mask[1, :3] = False
    return image.astype("float32"), text.astype("float32"), mask


def conv_gru_weights(cell):
    w1, w3 = np.split(np.asarray(cell.state_gate_conv.kernel), 2, axis=-1)
    w2, w4, w6 = np.split(np.asarray(cell.input_conv.kernel), 3, axis=-1)
    b1, b2, b = np.split(np.asarray(cell.input_conv.bias), 3)
    return {
        "W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5":
        np.asarray(cell.candidate_conv.kernel), "W6": w6,
        "W7": np.asarray(cell.next_state_conv.kernel),
        "b1": b1, "b2": b2, "b": b,
    }  # fmt: skip


def attention_matrix(attention):
    w = np.asarray(attention.query_dense.kernel)
    if attention.units is None:
        return w
    return w @ np.asarray(attention.key_dense.kernel).T


def algorithm_1(fusion, image, text, mask):
    """Algorithm 1 in numpy, with each region taking its argmax step."""
    w_attention = attention_matrix(fusion.attention)
    w_cell = conv_gru_weights(fusion.conv_gru)
    state, outputs, states, attentions = image, [], [], []
    for _ in range(fusion.max_steps):
        context, beta = paper_reference.attention(
            state, text, w_attention, mask
        )
        output, state = paper_reference.conv_gru(state, context, w_cell)
        outputs.append(output)
        states.append(state)
        attentions.append(beta)
    gate = fusion.termination_gate.gate_dense
    kernel, bias = (np.asarray(w) for w in gate.get_weights())
    gate_logits = np.stack(states, axis=1) @ kernel[:, 0] + bias[0]
    betas = paper_reference.stop_probabilities(gate_logits)
    stop_step = betas.argmax(axis=1)
    fused = np.zeros_like(outputs[0])
    for b, i, j in np.ndindex(*stop_step.shape):
        fused[b, i, j] = outputs[stop_step[b, i, j]][b, i, j]
    return fused, betas, stop_step, np.stack(attentions, axis=1)


class ConvGRUFusionTest(TestCase):
    def test_layer_behaviour(self):
        image, text, mask = random_inputs()
        steps = 3
        self.run_layer_test(
            cls=ConvGRUFusion,
            init_kwargs={
                "units": UNITS,
                "max_steps": steps,
                "attention_units": 4,
                "seed": 0,
            },  # fmt: skip
            input_data={
                "image_features": image,
                "text_features": text,
                "text_mask": mask,
            },  # fmt: skip
            call_kwargs={"return_details": True},
            expected_output_shape={
                "fusion": (BATCH, HEIGHT, WIDTH, UNITS),
                "step_outputs": (BATCH, steps, HEIGHT, WIDTH, UNITS),
                "attention": (BATCH, steps, HEIGHT, WIDTH, LENGTH),
                "stop_probabilities": (BATCH, steps, HEIGHT, WIDTH),
                "log_stop_probabilities": (BATCH, steps, HEIGHT, WIDTH),
                "stop_step": (BATCH, HEIGHT, WIDTH),
            },
            # Attention 2, C-GRU 5, gate 2.
            expected_num_trainable_weights=9,
            expected_num_non_trainable_weights=1,
        )

    def test_projection_and_single_step(self):
        image, text, mask = random_inputs(channels=UNITS + 2)
        self.run_layer_test(
            cls=ConvGRUFusion,
            init_kwargs={"units": UNITS, "max_steps": 1},
            input_data={"image_features": image, "text_features": text},
            expected_output_shape=(BATCH, HEIGHT, WIDTH, UNITS),
            # Projection 2, attention 1, C-GRU 4 and W7 frozen: nothing
            # reads S_1 at T = 1. No gate.
            expected_num_trainable_weights=7,
            expected_num_non_trainable_weights=1,
        )

    def test_concatenation_baseline(self):
        image, text, mask = random_inputs()
        self.run_layer_test(
            cls=ConvGRUFusion,
            init_kwargs={"units": UNITS, "use_attention": False},
            input_data={
                "image_features": image,
                "text_features": text,
                "text_mask": mask,
            },  # fmt: skip
            expected_output_shape=(BATCH, HEIGHT, WIDTH, UNITS + TEXT_DIM),
            expected_num_trainable_weights=0,
            run_training_check=False,  # No weights to train.
        )
        right_padded = mask.copy()
        right_padded[1] = [True, True, False, False, False]
        fused = np.asarray(
            ConvGRUFusion(UNITS, use_attention=False)(
                image, text, text_mask=right_padded
            )
        )
        self.assertAllClose(fused[..., :UNITS], image)
        self.assertAllClose(fused[0, 1, 2, UNITS:], text[0, -1], atol=1e-6)
        self.assertAllClose(fused[1, 1, 2, UNITS:], text[1, 1], atol=1e-6)

    def test_matches_numpy_algorithm_1(self):
        for attention_units in (None, 4):
            image, text, mask = random_inputs(seed=1)
            fusion = ConvGRUFusion(
                UNITS, max_steps=4, attention_units=attention_units
            )
            fusion.build(image.shape, text.shape)
            # A sharp gate makes regions stop at every step, the last
            # (remaining-mass) step included.
            gate = fusion.termination_gate.gate_dense
            gate.kernel.assign(np.asarray(gate.kernel) * 40.0)
            details = fusion(image, text, text_mask=mask, return_details=True)
            self.assertAllEqual(np.unique(details["stop_step"]), np.arange(4))
            fused, betas, stop_step, attention = algorithm_1(
                fusion, image, text, mask
            )
            self.assertAllClose(details["attention"], attention, atol=1e-5)
            self.assertAllClose(details["stop_probabilities"], betas, atol=1e-5)
            self.assertAllEqual(details["stop_step"], stop_step)
            self.assertAllClose(details["fusion"], fused, atol=1e-5)

    def test_early_exit_layer_behaviour(self):
        image, text, mask = random_inputs()
        self.run_layer_test(
            cls=ConvGRUFusion,
            init_kwargs={"units": UNITS, "max_steps": 3, "early_exit": True},
            input_data={
                "image_features": image,
                "text_features": text,
                "text_mask": mask,
            },  # fmt: skip
            expected_output_shape=(BATCH, HEIGHT, WIDTH, UNITS),
            expected_num_trainable_weights=8,
            expected_num_non_trainable_weights=1,
        )

    def sharp_fusion_pair(self, gate_bias, seed=1):
        """The same weights with and without early exit, regions' stops
        spread by a sharp gate shifted by `gate_bias`."""
        image, text, mask = random_inputs(seed=seed)
        fusions = []
        for early_exit in (False, True):
            fusion = ConvGRUFusion(UNITS, max_steps=4, early_exit=early_exit)
            fusion.build(image.shape, text.shape)
            fusions.append(fusion)
        full, early = fusions
        gate = full.termination_gate.gate_dense
        gate.kernel.assign(np.asarray(gate.kernel) * 40.0)
        gate.bias.assign(np.asarray(gate.bias) + gate_bias)
        early.set_weights(full.get_weights())
        return full, early, (image, text), {"text_mask": mask}

    def test_early_exit_matches_all_steps(self):
        for gate_bias in (0.0, 6.0, 60.0):
            full, early, args, kwargs = self.sharp_fusion_pair(gate_bias)
            expected = full(*args, **kwargs, return_details=True)
            for jit_compile in (False, True):
                call = tf.function(
                    lambda a, k, f=early: f(*a, **k, return_details=True),
                    jit_compile=jit_compile,
                )
                details = call(args, kwargs)
                self.assertAllEqual(details["stop_step"], expected["stop_step"])
                self.assertAllClose(
                    details["fusion"], expected["fusion"], atol=1e-6
                )
        # Bias 0 spreads the stops over every step: all four run.
        full, early, args, kwargs = self.sharp_fusion_pair(0.0)
        details = early(*args, **kwargs, return_details=True)
        self.assertAllEqual(np.unique(details["stop_step"]), np.arange(4))
        self.assertFalse(np.isneginf(details["log_stop_probabilities"]).any())
        self.assertAllClose(
            details["log_stop_probabilities"],
            full(*args, **kwargs, return_details=True)[
                "log_stop_probabilities"
            ],
        )

    def test_early_exit_skips_decided_steps(self):
        # A large bias makes f_1 ~ 1 everywhere: the first step wins and
        # the remaining mass is ~0 after it, so one step runs.
        full, early, args, kwargs = self.sharp_fusion_pair(60.0)
        details = early(*args, **kwargs, return_details=True)
        self.assertAllEqual(details["stop_step"], np.zeros((BATCH, 4, 4)))
        log_beta = np.asarray(details["log_stop_probabilities"])
        self.assertTrue(np.isfinite(log_beta[:, 0]).all())
        self.assertTrue(np.isneginf(log_beta[:, 1:]).all())
        for key in ("step_outputs", "attention", "stop_probabilities"):
            self.assertFalse(np.any(details[key][:, 1:]), key)
            self.assertTrue(np.any(details[key][:, 0]), key)

    def test_early_exit_does_not_change_training(self):
        full, early, args, kwargs = self.sharp_fusion_pair(0.0)
        for fusion in (full, early):
            fusion.termination_gate.mode = "expected"
        self.assertAllClose(
            early(*args, **kwargs, training=True),
            full(*args, **kwargs, training=True),
        )

    def test_padding_gets_no_attention_and_does_not_change_output(self):
        image, text, mask = random_inputs()
        fusion = ConvGRUFusion(UNITS, max_steps=2)
        details = fusion(image, text, text_mask=mask, return_details=True)
        padding_weights = np.asarray(details["attention"])[1][..., :3]
        self.assertAllEqual(padding_weights, np.zeros_like(padding_weights))
        changed = text.copy()
        changed[1, :3] = 100.0
        again = fusion(image, changed, text_mask=mask)
        self.assertAllClose(details["fusion"], again)

    def test_all_padding_row_is_finite(self):
        image, text, mask = random_inputs()
        mask[0] = False
        out = ConvGRUFusion(UNITS, max_steps=2)(image, text, text_mask=mask)
        self.assertTrue(np.all(np.isfinite(out)))

    def test_uses_the_keras_mask_of_the_text(self):
        image, text, mask = random_inputs()
        fusion = ConvGRUFusion(UNITS, max_steps=2)
        explicit = fusion(image, text, text_mask=mask)
        masked_text = keras.layers.Masking(mask_value=0.0)(
            np.where(mask[..., None], text, 0.0)
        )
        self.assertAllClose(explicit, fusion(image, masked_text), atol=1e-6)

    def test_every_weight_learns_through_the_gumbel_sample(self):
        image, text, mask = random_inputs()
        fusion = ConvGRUFusion(UNITS, max_steps=3, attention_units=4, seed=0)
        fusion.build(image.shape, text.shape)
        with tf.GradientTape() as tape:
            # The loss sees only O = sum_t z_t O^t: the gate learns through
            # the relaxed sample z alone.
            out = fusion(image, text, text_mask=mask, training=True)
            loss = tf.reduce_mean(tf.square(out - 1.0))
        gradients = tape.gradient(loss, fusion.trainable_variables)
        for variable, gradient in zip(
            fusion.trainable_variables, gradients, strict=True
        ):
            self.assertIsNotNone(gradient, msg=variable.path)
            self.assertGreater(
                np.abs(np.asarray(gradient)).max(), 0.0, msg=variable.path
            )

    def test_gumbel_training_output_mixes_steps(self):
        image, text, mask = random_inputs()
        fusion = ConvGRUFusion(UNITS, max_steps=3, seed=2)
        details = fusion(
            image, text, text_mask=mask, training=True, return_details=True
        )
        self.assertTrue(np.all(np.isfinite(details["fusion"])))
        inference = fusion(image, text, text_mask=mask, training=False)
        self.assertNotAllClose(details["fusion"], inference)


def test_last_valid_vector_handles_left_and_right_padding():
    sequence = np.arange(12, dtype="float32").reshape(3, 4, 1)
    mask = np.array(
        [[True, True, False, False], [False, True, True, True], [False] * 4]
    )
    picked = np.asarray(_last_valid_vector(sequence, mask))
    np.testing.assert_array_equal(picked[:, 0], [1.0, 7.0, 0.0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"units": 0}, "units"),
        ({"units": 4, "max_steps": 0}, "max_steps"),
        ({"units": 4, "max_steps": 2, "use_attention": False}, "max_steps"),
        ({"units": 4, "max_steps": 2, "temperature": -1.0}, "temperature"),
        ({"units": 4, "max_steps": 2, "termination_mode": "x"}, "mode"),
        ({"units": 4, "termination_mode": "x"}, "termination_mode"),
        ({"units": 4, "temperature": 0.0}, "temperature"),
        ({"units": 4, "attention_units": 0}, "attention_units"),
        ({"units": 4, "kernel_size": 0}, "kernel_size"),
        ({"units": 4, "relation_kernel_size": 4}, "relation_kernel_size"),
        ({"units": 4, "relation_kernel_size": 0}, "relation_kernel_size"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConvGRUFusion(**kwargs)


def test_non_bool_flags_are_rejected():
    with pytest.raises(TypeError, match="use_attention"):
        ConvGRUFusion(4, use_attention="no")
    with pytest.raises(TypeError, match="early_exit"):
        ConvGRUFusion(4, early_exit=1)


def test_numpy_integers_are_accepted():
    fusion = ConvGRUFusion(np.int64(4), max_steps=np.int32(2))
    assert fusion.get_config()["max_steps"] == 2


def test_bad_inputs_are_rejected():
    image, text, _ = random_inputs()
    fusion = ConvGRUFusion(UNITS, max_steps=2)
    with pytest.raises(ValueError, match="image_features"):
        fusion(image[0], text)
    with pytest.raises(ValueError, match="batch"):
        ConvGRUFusion(UNITS, max_steps=2)(image, text[:1])
    baseline = ConvGRUFusion(UNITS, use_attention=False)
    with pytest.raises(ValueError, match="text_mask"):
        baseline(image, text, text_mask=np.ones((BATCH, LENGTH + 1), bool))


def test_relation_kernel_size_attends_with_relational_attention():
    image, text, mask = random_inputs()
    fusion = ConvGRUFusion(
        UNITS, max_steps=2, attention_units=3, relation_kernel_size=3
    )
    details = fusion(image, text, text_mask=mask, return_details=True)
    assert isinstance(fusion.attention, RelationalTextAttention)
    assert fusion.attention.kernel_size == 3
    weights = keras.ops.convert_to_numpy(details["attention"])
    np.testing.assert_allclose(weights.sum(-1)[mask.any(-1)], 1.0, atol=1e-5)
    restored = ConvGRUFusion.from_config(fusion.get_config())
    assert restored.relation_kernel_size == 3


def test_word_features_reach_the_relational_attention():
    image, text, mask = random_inputs()
    words = np.random.default_rng(5).normal(size=(*text.shape[:2], 7))
    words = words.astype("float32")
    fusion = ConvGRUFusion(UNITS, max_steps=2, relation_kernel_size=3)
    with_words = fusion(image, text, text_mask=mask, word_features=words)
    assert fusion.attention.mention_key_dense.kernel.shape[0] == 7
    other = fusion(image, text, text_mask=mask, word_features=words * 2.0)
    assert not np.allclose(with_words, other)


def test_word_features_need_the_relational_attention():
    image, text, mask = random_inputs()
    with pytest.raises(ValueError, match="relation_kernel_size"):
        ConvGRUFusion(UNITS)(image, text, text_mask=mask, word_features=text)
