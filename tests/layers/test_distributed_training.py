import keras
import numpy as np

from keras_lbie import layers
from tests.test_case import TestCase


def tiny_segmenter():
    """An LBIE segmenter in miniature: every trainable layer of the package.

    The expected termination mode keeps training deterministic, which the
    replica comparison needs (Gumbel noise differs between replicas); the
    loss on its beta-weighted output is a stand-in objective here, the
    released code's marginal likelihood needs per-step decoding.
    """
    image = keras.Input((6, 6, 3), name="image")
    tokens = keras.Input((5,), dtype="int32", name="text")
    words = layers.TextEncoder(10, embedding_dim=4, units=4)(tokens)
    features = keras.layers.Conv2D(4, 3, padding="same")(image)
    fused = layers.ConvGRUFusion(4, max_steps=2, termination_mode="expected")(
        features, words, text_mask=keras.ops.not_equal(tokens, 0)
    )
    logits = layers.BilinearUpsampling(2)(keras.layers.Conv2D(3, 1)(fused))
    return keras.Model({"image": image, "text": tokens}, logits)


class DistributedTrainingTest(TestCase):
    def test_two_replicas_match_one_device(self):
        rng = np.random.default_rng(0)
        x = {
            "image": rng.normal(size=(16, 6, 6, 3)).astype("float32"),
            "text": rng.integers(0, 10, size=(16, 5)).astype("int32"),
        }
        y = rng.integers(0, 3, size=(16, 12, 12)).astype("int32")
        self.run_distributed_equivalence_check(
            tiny_segmenter,
            x,
            y,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            steps=3,
            global_batch_size=4,
        )
