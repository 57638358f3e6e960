import keras
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from keras_lbie.layers.text_attention import TextAttention
from keras_lbie.layers.text_encoder import TextEncoder
from tests.layers import paper_reference
from tests.test_case import TestCase

BATCH, HEIGHT, WIDTH, QUERY_DIM, LENGTH, VALUE_DIM = 3, 2, 3, 5, 4, 6


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(BATCH, HEIGHT, WIDTH, QUERY_DIM))
    value = rng.normal(size=(BATCH, LENGTH, VALUE_DIM))
    # Right padding, left padding and a sample that is all padding.
    mask = np.array(
        [[True, True, True, False], [False, True, True, True], [False] * 4]
    )
    return query.astype("float32"), value.astype("float32"), mask


def _bilinear_kernel(layer):
    kernel = keras.ops.convert_to_numpy(layer.query_dense.kernel)
    if layer.units is None:
        return kernel
    return kernel @ keras.ops.convert_to_numpy(layer.key_dense.kernel).T


class TextAttentionTest(TestCase):
    def test_full_bilinear_layer_behaviors(self):
        query, value, mask = _inputs()
        self.run_layer_test(
            cls=TextAttention,
            init_kwargs={"units": None},
            input_data={"query": query, "value": value, "mask": mask},
            call_kwargs={"return_attention_scores": True},
            expected_output_shape=[
                (BATCH, HEIGHT, WIDTH, VALUE_DIM),
                (BATCH, HEIGHT, WIDTH, LENGTH),
            ],
            expected_num_trainable_weights=1,
        )

    def test_low_rank_layer_behaviors(self):
        query, value, _ = _inputs()
        self.run_layer_test(
            cls=TextAttention,
            init_kwargs={"units": 3},
            input_data={"query": query, "value": value},
            expected_output_shape=(BATCH, HEIGHT, WIDTH, VALUE_DIM),
            expected_num_trainable_weights=2,
        )

    @parameterized.named_parameters(("full", None), ("low_rank", 3))
    def test_matches_numpy_equations(self, units):
        query, value, mask = _inputs(seed=1)
        layer = TextAttention(units=units)
        attended, weights = layer(
            query, value, mask=mask, return_attention_scores=True
        )
        expected_attended, expected_weights = paper_reference.attention(
            query, value, _bilinear_kernel(layer), mask
        )
        self.assertAllClose(weights, expected_weights, atol=1e-5)
        self.assertAllClose(attended, expected_attended, atol=1e-5)

    def test_without_mask_every_token_counts(self):
        query, value, _ = _inputs(seed=2)
        layer = TextAttention()
        attended, weights = layer(query, value, return_attention_scores=True)
        expected_attended, expected_weights = paper_reference.attention(
            query, value, _bilinear_kernel(layer)
        )
        self.assertAllClose(weights, expected_weights, atol=1e-5)
        self.assertAllClose(attended, expected_attended, atol=1e-5)

    @parameterized.named_parameters(
        ("float32", "float32"),
        ("mixed_float16", "mixed_float16"),
        ("mixed_bfloat16", "mixed_bfloat16"),
    )
    def test_padding_gets_no_weight(self, policy):
        query, value, mask = _inputs(seed=3)
        # Huge padding features would leak into û if padding got weight.
        value = np.where(mask[..., None], value, 1e3).astype("float32")
        layer = TextAttention(units=3, dtype=policy)
        attended, weights = layer(
            query, value, mask=mask, return_attention_scores=True
        )
        weights = keras.ops.convert_to_numpy(weights).astype("float32")
        attended = keras.ops.convert_to_numpy(attended).astype("float32")
        self.assertTrue(np.all(np.isfinite(attended)))
        padding_weights = np.moveaxis(weights, -1, 1)[~mask]
        self.assertAllEqual(padding_weights, np.zeros_like(padding_weights))
        # Weights leave the float32 softmax rounded to the compute dtype.
        self.assertAllClose(
            weights[:2].sum(-1),
            np.ones((2, HEIGHT, WIDTH)),
            atol=1e-5 if policy == "float32" else 1e-2,
        )
        # The all-padding sample: zero weights and û = 0, never NaN.
        self.assertAllEqual(weights[2], np.zeros_like(weights[2]))
        self.assertAllEqual(attended[2], np.zeros_like(attended[2]))

    def test_all_padding_sample_has_finite_gradients(self):
        query, value, mask = _inputs(seed=4)
        layer = TextAttention()
        query, value = keras.ops.array(query), keras.ops.array(value)
        with tf.GradientTape() as tape:
            tape.watch([query, value])
            loss = keras.ops.sum(layer(query, value, mask=mask) ** 2)
        gradients = tape.gradient(
            loss, [query, value, layer.query_dense.kernel]
        )
        for gradient in gradients:
            self.assertTrue(np.all(np.isfinite(gradient)))
        self.assertAllEqual(gradients[0][2], np.zeros_like(gradients[0][2]))

    def test_uses_keras_mask_of_value(self):
        token_ids = np.array([[0, 0, 4, 5], [3, 2, 0, 0], [1, 2, 3, 4]])
        query = _inputs()[0]
        encoder = TextEncoder(vocabulary_size=8, embedding_dim=3, units=4)
        layer = TextAttention()
        inputs = (
            keras.Input((HEIGHT, WIDTH, QUERY_DIM)),
            keras.Input((LENGTH,), dtype="int32"),
        )
        outputs = layer(
            inputs[0], encoder(inputs[1]), return_attention_scores=True
        )
        model = keras.Model(inputs, outputs)
        _, weights = model([query, token_ids])
        _, explicit = layer(
            query,
            encoder(token_ids),
            mask=token_ids != 0,
            return_attention_scores=True,
        )
        self.assertAllClose(weights, explicit)
        padding_weights = np.moveaxis(
            keras.ops.convert_to_numpy(weights), -1, 1
        )
        padding_weights = padding_weights[token_ids == 0]
        self.assertAllEqual(padding_weights, np.zeros_like(padding_weights))

    def test_invalid_units(self):
        for units in (0, -2, 1.5, True):
            with self.assertRaisesRegex(ValueError, "units"):
                TextAttention(units=units)

    def test_invalid_inputs(self):
        query, value, mask = _inputs()
        cases = [
            ("query", query[:, 0], value, None),
            ("value", query, value[:, 0], None),
            ("batch size", query, value[:2], None),
            ("batch size", query, value, mask[:2]),
            ("mask", query, value, mask[:, :2]),
            ("mask", query, value, mask[:, None]),
        ]
        for pattern, q, v, m in cases:
            with self.assertRaisesRegex(ValueError, pattern):
                TextAttention()(q, v, mask=m)

    def test_channels_must_match_built_layer(self):
        query, value, _ = _inputs()
        layer = TextAttention(units=2)
        layer(query, value)
        with self.assertRaisesRegex(ValueError, "`query` must have 5"):
            layer(query[..., :4], value)
        with self.assertRaisesRegex(ValueError, "`value` must have 6"):
            layer(query, value[..., :4])
