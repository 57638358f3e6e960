import math

import keras
import numpy as np
from absl.testing import parameterized

from keras_lbie.layers.relational_text_attention import RelationalTextAttention
from keras_lbie.layers.text_attention import TextAttention
from tests.layers import paper_reference
from tests.test_case import TestCase

BATCH, HEIGHT, WIDTH, QUERY_DIM, LENGTH, VALUE_DIM = 3, 4, 5, 5, 4, 6


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(BATCH, HEIGHT, WIDTH, QUERY_DIM))
    value = rng.normal(size=(BATCH, LENGTH, VALUE_DIM))
    # Right padding, left padding and a sample that is all padding.
    mask = np.array(
        [[True, True, True, False], [False, True, True, True], [False] * 4]
    )
    return query.astype("float32"), value.astype("float32"), mask


def _numpy(variable):
    return keras.ops.convert_to_numpy(variable)


def _numpy_attention(layer, query, value, mask):
    """The docstring's equations, one region and one offset at a time."""
    bilinear = (
        _numpy(layer.query_dense.kernel) @ _numpy(layer.key_dense.kernel).T
    )
    offsets = np.exp(
        value @ _numpy(layer.offset_dense.kernel)
        + _numpy(layer.offset_dense.bias)
    )
    offsets /= offsets.sum(-1, keepdims=True)
    named = np.einsum("bhwd,dk,blk->bhwl", query, bilinear, value)
    radius = layer.kernel_size // 2
    weights = np.zeros((BATCH, HEIGHT, WIDTH, LENGTH))
    for b, i, j in np.ndindex(BATCH, HEIGHT, WIDTH):
        if not mask[b].any():
            continue
        logits = np.zeros(LENGTH)
        for o, (dy, dx) in enumerate(
            np.ndindex(layer.kernel_size, layer.kernel_size)
        ):
            y, x = i + dy - radius, j + dx - radius
            if 0 <= y < HEIGHT and 0 <= x < WIDTH:
                logits += offsets[b, :, o] * named[b, y, x]
        logits = np.where(mask[b], logits, -np.inf)
        exp = np.exp(logits - logits.max())
        weights[b, i, j] = exp / exp.sum()
    return np.einsum("bhwl,blk->bhwk", weights, value), weights


class RelationalTextAttentionTest(TestCase):
    def test_layer_behaviors(self):
        query, value, mask = _inputs()
        self.run_layer_test(
            cls=RelationalTextAttention,
            init_kwargs={"units": 3, "kernel_size": 3},
            input_data={"query": query, "value": value, "mask": mask},
            call_kwargs={"return_attention_scores": True},
            expected_output_shape=[
                (BATCH, HEIGHT, WIDTH, VALUE_DIM),
                (BATCH, HEIGHT, WIDTH, LENGTH),
            ],
            # W_q and W_k of the paper's attention; the offset projection
            # and its bias.
            expected_num_trainable_weights=4,
        )

    @parameterized.named_parameters(("kernel_3", 3), ("kernel_5", 5))
    def test_matches_numpy_equations(self, kernel_size):
        query, value, mask = _inputs(seed=1)
        layer = RelationalTextAttention(units=3, kernel_size=kernel_size)
        layer.build(query.shape, value.shape)
        rng = np.random.default_rng(2)
        layer.offset_dense.kernel.assign(
            rng.normal(size=(VALUE_DIM, kernel_size**2))
        )
        attended, weights = layer(
            query, value, mask=mask, return_attention_scores=True
        )
        expected_attended, expected_weights = _numpy_attention(
            layer, query, value, mask
        )
        self.assertAllClose(weights, expected_weights, atol=1e-5)
        self.assertAllClose(attended, expected_attended, atol=1e-5)

    def test_starts_with_half_of_each_offset_map_on_its_centre(self):
        layer = RelationalTextAttention(units=3, kernel_size=5)
        query, value, _ = _inputs()
        layer.build(query.shape, value.shape)
        bias = _numpy(layer.offset_dense.bias)
        centre = np.exp(bias[12]) / np.exp(bias).sum()
        self.assertAllClose(centre, 0.5)
        self.assertAllClose(bias[12], math.log(24))

    def test_centred_offsets_give_the_paper_attention(self):
        query, value, mask = _inputs(seed=3)
        layer = RelationalTextAttention(units=3, kernel_size=3)
        layer.build(query.shape, value.shape)
        layer.offset_dense.kernel.assign(np.zeros((VALUE_DIM, 9)))
        layer.offset_dense.bias.assign(np.eye(9)[4] * 100.0)
        attended, weights = layer(
            query, value, mask=mask, return_attention_scores=True
        )
        bilinear = (
            _numpy(layer.query_dense.kernel) @ _numpy(layer.key_dense.kernel).T
        )
        expected_attended, expected_weights = paper_reference.attention(
            query, value, bilinear, mask
        )
        self.assertAllClose(weights, expected_weights, atol=1e-5)
        self.assertAllClose(attended, expected_attended, atol=1e-5)

    def test_moves_the_named_region_by_the_predicted_offset(self):
        # Sentence 0 names the region at (1, 3) and puts its target two
        # columns left of it: only region (1, 1) attends to it.
        layer = RelationalTextAttention(units=1, kernel_size=5)
        query = np.zeros((1, 3, 5, 1), "float32")
        query[0, 1, 3] = 1.0
        value = np.eye(2, dtype="float32")[None]
        layer.build(query.shape, value.shape)
        layer.query_dense.kernel.assign([[1.0]])
        layer.key_dense.kernel.assign([[30.0], [0.0]])
        offsets = np.zeros(25, "float32")
        offsets[2 * 5 + 4] = 100.0  # (dy, dx) = (0, +2)
        layer.offset_dense.kernel.assign(np.zeros((2, 25)))
        layer.offset_dense.bias.assign(offsets)
        _, weights = layer(query, value, return_attention_scores=True)
        on_sentence_0 = keras.ops.convert_to_numpy(weights)[0, ..., 0]
        expected = np.full((3, 5), 0.5)
        expected[1, 1] = 1.0
        self.assertAllClose(on_sentence_0, expected, atol=1e-3)

    def test_is_a_text_attention(self):
        layer = RelationalTextAttention(units=4)
        self.assertIsInstance(layer, TextAttention)
        query, value, _ = _inputs()
        self.assertEqual(
            layer(query, value).shape, (BATCH, HEIGHT, WIDTH, VALUE_DIM)
        )

    @parameterized.named_parameters(
        ("even_kernel", {"kernel_size": 4}, ValueError, "odd"),
        ("zero_kernel", {"kernel_size": 0}, ValueError, "kernel_size"),
        ("float_kernel", {"kernel_size": 3.0}, ValueError, "kernel_size"),
        ("units", {"units": 0}, ValueError, "units"),
    )
    def test_rejects_bad_arguments(self, kwargs, error, message):
        with self.assertRaisesRegex(error, message):
            RelationalTextAttention(**kwargs)
