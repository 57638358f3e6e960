import keras
import numpy as np
from absl.testing import parameterized

from keras_lbie.layers.text_encoder import TextEncoder
from tests.test_case import TestCase

VOCABULARY, EMBEDDING, UNITS = 12, 4, 3
# Right padding, left padding and a full sentence.
TOKEN_IDS = np.array(
    [[3, 5, 7, 0, 0, 0], [0, 0, 2, 4, 6, 8], [1, 2, 3, 4, 5, 6]], "int32"
)


def _encoder(bidirectional):
    return TextEncoder(
        VOCABULARY, EMBEDDING, UNITS, bidirectional=bidirectional
    )


class TextEncoderTest(TestCase):
    @parameterized.named_parameters(
        # Embedding + LSTM (kernel, recurrent kernel, bias) per direction.
        ("unidirectional", False, UNITS, 4),
        ("bidirectional", True, 2 * UNITS, 7),
    )
    def test_layer_behaviors(self, bidirectional, channels, num_weights):
        self.run_layer_test(
            cls=TextEncoder,
            init_kwargs={
                "vocabulary_size": VOCABULARY,
                "embedding_dim": EMBEDDING,
                "units": UNITS,
                "bidirectional": bidirectional,
            },
            input_data={"token_ids": TOKEN_IDS},
            expected_output_shape=(3, 6, channels),
            expected_num_trainable_weights=num_weights,
        )

    def test_mask_marks_real_tokens(self):
        encoder = _encoder(bidirectional=True)
        features = encoder(TOKEN_IDS)
        self.assertAllEqual(features._keras_mask, TOKEN_IDS != 0)
        self.assertAllEqual(encoder.compute_mask(TOKEN_IDS), TOKEN_IDS != 0)
        symbolic = encoder(keras.Input((6,), dtype="int32"))
        self.assertEqual(tuple(symbolic._keras_mask.shape), (None, 6))

    @parameterized.product(bidirectional=(False, True), side=("right", "left"))
    def test_padding_does_not_change_real_tokens(self, bidirectional, side):
        encoder = _encoder(bidirectional)
        sentence = np.array([[4, 9, 2, 7], [1, 3, 5, 11]], "int32")
        padding = np.zeros((2, 3), "int32")
        if side == "right":
            padded = np.concatenate([sentence, padding], axis=1)
            real = slice(0, 4)
        else:
            padded = np.concatenate([padding, sentence], axis=1)
            real = slice(3, 7)
        unpadded_features = keras.ops.convert_to_numpy(encoder(sentence))
        padded_features = keras.ops.convert_to_numpy(encoder(padded))
        self.assertAllClose(
            padded_features[:, real], unpadded_features, atol=1e-6
        )
        padding_features = np.delete(padded_features, real, axis=1)
        self.assertAllEqual(padding_features, np.zeros_like(padding_features))

    def test_invalid_arguments(self):
        valid = {
            "vocabulary_size": VOCABULARY,
            "embedding_dim": EMBEDDING,
            "units": UNITS,
        }
        for name in valid:
            for value in (0, -1, 2.5):
                with self.assertRaisesRegex(ValueError, name):
                    TextEncoder(**{**valid, name: value})
        with self.assertRaisesRegex(ValueError, "bidirectional"):
            TextEncoder(**valid, bidirectional="yes")

    def test_invalid_inputs(self):
        with self.assertRaisesRegex(ValueError, "`token_ids` must have rank 2"):
            _encoder(False)(TOKEN_IDS[:, :, None])
        with self.assertRaisesRegex(TypeError, "token_ids"):
            _encoder(False)(TOKEN_IDS.astype("float32"))
