import keras
import numpy as np

from keras_lbie.layers.hierarchical_text_encoder import HierarchicalTextEncoder
from tests.test_case import TestCase

VOCABULARY, EMBEDDING, WORD_UNITS, SENTENCE_UNITS = 15, 4, 3, 5
SENTENCES = np.array(
    [
        [[3, 5, 7, 0, 0], [2, 4, 6, 8, 10], [0, 0, 0, 0, 0]],
        [[0, 0, 1, 2, 3], [9, 8, 0, 0, 0], [11, 12, 13, 14, 1]],
    ],
    "int32",
)


def _encoder():
    return HierarchicalTextEncoder(
        VOCABULARY, EMBEDDING, WORD_UNITS, SENTENCE_UNITS
    )


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


class HierarchicalTextEncoderTest(TestCase):
    def test_layer_behaviors(self):
        self.run_layer_test(
            cls=HierarchicalTextEncoder,
            init_kwargs={
                "vocabulary_size": VOCABULARY,
                "embedding_dim": EMBEDDING,
                "word_units": WORD_UNITS,
                "sentence_units": SENTENCE_UNITS,
            },
            input_data={"token_ids": SENTENCES},
            expected_output_shape=(2, 3, SENTENCE_UNITS),
            # Embedding, BiLSTM (2 x 3), sentence LSTM (3).
            expected_num_trainable_weights=10,
        )

    def test_mask_marks_real_sentences(self):
        encoder = _encoder()
        expected = np.array([[True, True, False], [True, True, True]])
        self.assertAllEqual(encoder(SENTENCES)._keras_mask, expected)
        self.assertAllEqual(encoder.compute_mask(SENTENCES), expected)

    def test_sentence_vector_is_final_forward_and_backward_state(self):
        encoder = _encoder()
        padded = np.array([[[0, 4, 9, 2, 0]]], "int32")
        encoder(padded)
        # The shared BiLSTM's halves, run on the sentence without padding.
        embedded = encoder.embedding(np.array([[4, 9, 2]], "int32"))
        bilstm = encoder.word_encoder
        forward = bilstm.forward_layer(embedded)
        backward = bilstm.backward_layer(embedded)
        self.assertTrue(bilstm.backward_layer.go_backwards)
        sentence_vector = keras.ops.concatenate([forward, backward], -1)
        expected = encoder.sentence_encoder(sentence_vector[:, None])
        self.assertAllClose(encoder(padded), expected, atol=1e-6)

    def test_padding_sentences_do_not_change_real_ones(self):
        encoder = _encoder()
        real = SENTENCES[1:]
        padding = np.zeros((1, 1, 5), "int32")
        reference = _numpy(encoder(real))
        # A padding sentence at the end and one between real sentences.
        padded = np.concatenate(
            [real[:, :1], padding, real[:, 1:], padding], axis=1
        )
        features = _numpy(encoder(padded))
        self.assertAllClose(features[:, [0, 2, 3]], reference, atol=1e-6)
        self.assertAllEqual(features[:, [1, 4]], np.zeros((1, 2, 5)))

    def test_word_padding_does_not_change_sentences(self):
        encoder = _encoder()
        words = np.array([[[4, 9, 2], [7, 1, 3]]], "int32")
        reference = _numpy(encoder(words))
        zeros = np.zeros((1, 2, 2), "int32")
        right = np.concatenate([words, zeros], axis=-1)
        left = np.concatenate([zeros, words], axis=-1)
        mixed = np.stack([right[:, 0], left[:, 1]], axis=1)
        for padded in (right, left, mixed):
            self.assertAllClose(_numpy(encoder(padded)), reference, atol=1e-6)

    def test_unknown_batch_and_sentence_count(self):
        encoder = _encoder()
        inputs = keras.Input((None, 5), dtype="int32")
        model = keras.Model(inputs, encoder(inputs))
        self.assertEqual(tuple(model.output.shape), (None, None, 5))
        self.assertAllClose(
            model(SENTENCES[:, :2]), encoder(SENTENCES[:, :2]), atol=1e-6
        )

    def test_invalid_arguments(self):
        valid = {
            "vocabulary_size": VOCABULARY,
            "embedding_dim": EMBEDDING,
            "word_units": WORD_UNITS,
            "sentence_units": SENTENCE_UNITS,
        }
        for name in valid:
            for value in (0, -1, 2.5):
                with self.assertRaisesRegex(ValueError, name):
                    HierarchicalTextEncoder(**{**valid, name: value})

    def test_invalid_inputs(self):
        with self.assertRaisesRegex(ValueError, "`token_ids` must have rank 3"):
            _encoder()(SENTENCES[0])
        with self.assertRaisesRegex(TypeError, "token_ids"):
            _encoder()(SENTENCES.astype("float32"))
