import os

import keras
import numpy as np
from absl.testing import parameterized

from keras_lbie.models import TextConditionedDiscriminator
from keras_lbie.models.lbie_colorizer.lbie_colorizer_presets import FLOWER_WORDS
from keras_lbie.models.lbie_colorizer.lbie_colorizer_presets import (
    PRESETS as COLORIZER_PRESETS,
)
from tests.models.lbie_colorizer.tiny_colorizer import TINY_DISCRIMINATOR
from tests.models.lbie_colorizer.tiny_colorizer import tiny_data
from tests.models.lbie_colorizer.tiny_colorizer import tiny_discriminator
from tests.test_case import TestCase


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def discriminator_inputs(batch=4):
    x, ab = tiny_data(batch)
    return {**x, "ab": ab}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class TextConditionedDiscriminatorTest(TestCase):
    def test_outputs(self):
        discriminator = tiny_discriminator()
        outputs = discriminator(discriminator_inputs())
        self.assertEqual(tuple(outputs["logits"].shape), (4, 2, 2, 1))
        self.assertEqual(tuple(outputs["score"].shape), (4,))
        # The score is the mean of the patch sigmoids (Section 4.3).
        logits = numpy(outputs["logits"]).astype("float64")
        self.assertAllClose(
            outputs["score"], sigmoid(logits).mean(axis=(1, 2, 3)), atol=1e-6
        )
        # Three stride-2 convolutions; the last one gives the logits.
        convs = [
            layer
            for layer in discriminator.layers
            if isinstance(layer, keras.layers.Conv2D)
        ]
        self.assertEqual([layer.strides for layer in convs], [(2, 2)] * 3)
        self.assertEqual(convs[-1].name, "patch_logits")
        self.assertEqual(
            [layer.activation.__name__ for layer in convs],
            ["relu", "relu", "linear"],
        )

    def test_paper_discriminator(self):
        discriminator = TextConditionedDiscriminator(
            vocabulary_size=len(FLOWER_WORDS) + 2,
            **COLORIZER_PRESETS["flowers_paper"]["discriminator"],
        )
        self.assertEqual(discriminator.filters, (256, 128, 64, 32, 1))
        self.assertEqual(discriminator.count_params(), 878_689)
        outputs = discriminator(
            {
                "image_l": np.zeros((1, 256, 256, 1), "float32"),
                "ab": np.zeros((1, 256, 256, 2), "float32"),
                "token_ids": np.ones((1, 32), "int32"),
            }
        )
        self.assertEqual(tuple(outputs["logits"].shape), (1, 8, 8, 1))
        self.assertEqual(tuple(outputs["score"].shape), (1,))

    def test_the_caption_matters(self):
        discriminator = tiny_discriminator()
        inputs = discriminator_inputs()
        score = numpy(discriminator(inputs)["score"])
        other = {**inputs, "token_ids": inputs["token_ids"][::-1]}
        self.assertNotAllClose(score, numpy(discriminator(other)["score"]))
        # Padding is skipped: where it sits does not change the score.
        token_ids = np.array([[2, 3, 4, 0, 0, 0], [0, 2, 0, 3, 4, 0]] * 2)
        same_image = {
            key: np.repeat(value[:1], 4, axis=0)
            for key, value in inputs.items()
        }
        scores = numpy(
            discriminator({**same_image, "token_ids": token_ids})["score"]
        )
        self.assertAllClose(scores[0], scores[1], atol=1e-6)

    def test_config_round_trip(self):
        discriminator = tiny_discriminator()
        config = discriminator.get_config()
        for key, value in TINY_DISCRIMINATOR.items():
            expected = list(value) if isinstance(value, tuple) else value
            self.assertEqual(config[key], expected, msg=key)
        registered = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(discriminator)
        )
        self.assertIsInstance(registered, TextConditionedDiscriminator)
        self.assertEqual(registered.get_config(), config)

    def test_saving_round_trip(self):
        discriminator = tiny_discriminator()
        inputs = discriminator_inputs()
        path = os.path.join(self.get_temp_dir(), "discriminator.keras")
        discriminator.save(path)
        restored = keras.models.load_model(path)
        self.assertAllClose(
            discriminator(inputs)["logits"], restored(inputs)["logits"]
        )

    @parameterized.named_parameters(
        ("vocabulary_size", {"vocabulary_size": 0}, ValueError),
        ("one_layer", {"filters": (1,)}, ValueError),
        ("filters_zero", {"filters": (8, 0)}, ValueError),
        ("kernel_size", {"kernel_size": 0}, ValueError),
        ("text_units", {"text_units": -1}, ValueError),
        ("max_words", {"max_words": 1.5}, ValueError),
    )
    def test_invalid_arguments(self, overrides, error):
        with self.assertRaises(error):
            tiny_discriminator(**overrides)

    def test_bad_inputs(self):
        discriminator = tiny_discriminator()
        inputs = discriminator_inputs()
        bad = {
            "ab channels": ({**inputs, "ab": inputs["ab"][..., :1]}, "`ab`"),
            "size": ({**inputs, "ab": inputs["ab"][:, :8]}, "ab"),
            "L channels": (
                {**inputs, "image_l": np.repeat(inputs["image_l"], 3, -1)},
                "image_l",
            ),
            "keys": ({"image_l": inputs["image_l"]}, "keys"),
        }
        for name, (value, message) in bad.items():
            with self.subTest(name):
                with self.assertRaisesRegex(ValueError, message):
                    discriminator(value)
        with self.assertRaisesRegex(TypeError, "`ab`"):
            discriminator({**inputs, "ab": inputs["ab"].astype("int32")})
