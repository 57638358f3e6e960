import math

import keras
import numpy as np
from absl.testing import parameterized

from keras_lbie.layers.relational_text_attention import RelationalTextAttention
from keras_lbie.layers.text_attention import TextAttention
from tests.layers import paper_reference
from tests.test_case import TestCase

BATCH, HEIGHT, WIDTH, QUERY_DIM, LENGTH, VALUE_DIM = 3, 4, 5, 5, 4, 6
WORD_DIM = 7


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(BATCH, HEIGHT, WIDTH, QUERY_DIM))
    value = rng.normal(size=(BATCH, LENGTH, VALUE_DIM))
    words = rng.normal(size=(BATCH, LENGTH, WORD_DIM))
    # Right padding, left padding and a sample that is all padding.
    mask = np.array(
        [[True, True, True, False], [False, True, True, True], [False] * 4]
    )
    return (
        query.astype("float32"),
        value.astype("float32"),
        words.astype("float32"),
        mask,
    )


def _numpy(variable):
    return keras.ops.convert_to_numpy(variable)


def _kernel(dense):
    return _numpy(dense.kernel)


def _numpy_attention(layer, query, value, words, mask):
    """The docstring's equations, one region and one offset at a time."""
    logits = np.einsum(
        "bhwd,dk,blk->bhwl",
        query,
        _kernel(layer.query_dense) @ _kernel(layer.key_dense).T,
        value,
    )
    mentions = np.einsum(
        "bhwd,dk,blk->bhwl",
        query,
        _kernel(layer.mention_query_dense) @ _kernel(layer.mention_key_dense).T,
        words,
    )
    offsets = np.exp(
        value @ _kernel(layer.offset_dense) + _numpy(layer.offset_dense.bias)
    )
    offsets /= offsets.sum(-1, keepdims=True)
    radius = layer.kernel_size // 2
    weights = np.zeros((BATCH, HEIGHT, WIDTH, LENGTH))
    for b, i, j in np.ndindex(BATCH, HEIGHT, WIDTH):
        if not mask[b].any():
            continue
        scores = logits[b, i, j].copy()
        for o, (dy, dx) in enumerate(
            np.ndindex(layer.kernel_size, layer.kernel_size)
        ):
            y, x = i + dy - radius, j + dx - radius
            if 0 <= y < HEIGHT and 0 <= x < WIDTH:
                scores += offsets[b, :, o] * mentions[b, y, x]
        scores = np.where(mask[b], scores, -np.inf)
        exp = np.exp(scores - scores.max())
        weights[b, i, j] = exp / exp.sum()
    return np.einsum("bhwl,blk->bhwk", weights, value), weights


class RelationalTextAttentionTest(TestCase):
    def test_layer_behaviors_with_word_features(self):
        query, value, words, mask = _inputs()
        self.run_layer_test(
            cls=RelationalTextAttention,
            init_kwargs={"units": 3, "kernel_size": 3},
            input_data={
                "query": query,
                "value": value,
                "mask": mask,
                "word_features": words,
            },
            call_kwargs={"return_attention_scores": True},
            expected_output_shape=[
                (BATCH, HEIGHT, WIDTH, VALUE_DIM),
                (BATCH, HEIGHT, WIDTH, LENGTH),
            ],
            # W (two factors), W_m (two factors), and W_k with its bias.
            expected_num_trainable_weights=6,
        )

    def test_layer_behaviors_without_word_features(self):
        query, value, _, _ = _inputs()
        self.run_layer_test(
            cls=RelationalTextAttention,
            init_kwargs={"units": None, "kernel_size": 5},
            input_data={"query": query, "value": value},
            expected_output_shape=(BATCH, HEIGHT, WIDTH, VALUE_DIM),
            # The full W, W_m (two factors), and W_k with its bias.
            expected_num_trainable_weights=5,
        )

    @parameterized.named_parameters(("kernel_3", 3), ("kernel_5", 5))
    def test_matches_numpy_equations(self, kernel_size):
        query, value, words, mask = _inputs(seed=1)
        layer = RelationalTextAttention(units=3, kernel_size=kernel_size)
        layer.build(query.shape, value.shape, words.shape)
        layer.offset_dense.kernel.assign(
            np.random.default_rng(2).normal(size=(VALUE_DIM, kernel_size**2))
        )
        attended, weights = layer(
            query,
            value,
            mask=mask,
            word_features=words,
            return_attention_scores=True,
        )
        expected_attended, expected_weights = _numpy_attention(
            layer, query, value, words, mask
        )
        self.assertAllClose(weights, expected_weights, atol=1e-5)
        self.assertAllClose(attended, expected_attended, atol=1e-5)

    def test_without_word_features_the_sentences_are_mentions(self):
        query, value, _, mask = _inputs(seed=4)
        layer = RelationalTextAttention(units=3, kernel_size=3)
        _, weights = layer(
            query, value, mask=mask, return_attention_scores=True
        )
        _, expected = _numpy_attention(layer, query, value, value, mask)
        self.assertAllClose(weights, expected, atol=1e-5)

    def test_starts_with_half_of_each_offset_map_on_its_centre(self):
        query, value, words, _ = _inputs()
        layer = RelationalTextAttention(units=3, kernel_size=5)
        layer.build(query.shape, value.shape, words.shape)
        bias = _numpy(layer.offset_dense.bias)
        self.assertAllClose(np.exp(bias[12]) / np.exp(bias).sum(), 0.5)
        self.assertAllClose(bias[12], math.log(24))

    def test_no_mentions_give_the_paper_attention(self):
        query, value, words, mask = _inputs(seed=3)
        layer = RelationalTextAttention(units=3, kernel_size=3)
        layer.build(query.shape, value.shape, words.shape)
        layer.mention_query_dense.kernel.assign(np.zeros((QUERY_DIM, 3)))
        attended, weights = layer(
            query,
            value,
            mask=mask,
            word_features=words,
            return_attention_scores=True,
        )
        expected_attended, expected_weights = paper_reference.attention(
            query,
            value,
            _kernel(layer.query_dense) @ _kernel(layer.key_dense).T,
            mask,
        )
        self.assertAllClose(weights, expected_weights, atol=1e-5)
        self.assertAllClose(attended, expected_attended, atol=1e-5)

    def test_moves_what_a_sentence_mentions_by_its_offset(self):
        # Sentence 0 mentions what region (1, 3) holds and puts its target
        # two columns left of it: only region (1, 1) attends to it.
        layer = RelationalTextAttention(units=1, kernel_size=5)
        query = np.zeros((1, 3, 5, 1), "float32")
        query[0, 1, 3] = 1.0
        value = np.eye(2, dtype="float32")[None]
        layer.build(query.shape, value.shape, value.shape)
        layer.query_dense.kernel.assign([[0.0]])
        layer.mention_query_dense.kernel.assign([[1.0]])
        layer.mention_key_dense.kernel.assign([[30.0], [0.0]])
        offsets = np.zeros(25, "float32")
        offsets[2 * 5 + 4] = 100.0  # (dy, dx) = (0, +2)
        layer.offset_dense.kernel.assign(np.zeros((2, 25)))
        layer.offset_dense.bias.assign(offsets)
        _, weights = layer(
            query, value, word_features=value, return_attention_scores=True
        )
        on_sentence_0 = keras.ops.convert_to_numpy(weights)[0, ..., 0]
        expected = np.full((3, 5), 0.5)
        expected[1, 1] = 1.0
        self.assertAllClose(on_sentence_0, expected, atol=1e-3)

    def test_is_a_text_attention(self):
        self.assertIsInstance(RelationalTextAttention(units=4), TextAttention)

    def test_rejects_word_features_unlike_the_sentences(self):
        query, value, words, _ = _inputs()
        layer = RelationalTextAttention(units=3)
        layer(query, value, word_features=words)
        with self.assertRaisesRegex(ValueError, "one entry per entry"):
            layer(query, value, word_features=words[:, :2])
        with self.assertRaisesRegex(ValueError, "7 channels"):
            layer(query, value, word_features=words[..., :3])
        with self.assertRaisesRegex(ValueError, "word_features"):
            layer(query, value, word_features=words[0])

    @parameterized.named_parameters(
        ("even_kernel", {"kernel_size": 4}, ValueError, "odd"),
        ("zero_kernel", {"kernel_size": 0}, ValueError, "kernel_size"),
        ("float_kernel", {"kernel_size": 3.0}, ValueError, "kernel_size"),
        ("units", {"units": 0}, ValueError, "units"),
    )
    def test_rejects_bad_arguments(self, kwargs, error, message):
        with self.assertRaisesRegex(error, message):
            RelationalTextAttention(**kwargs)
