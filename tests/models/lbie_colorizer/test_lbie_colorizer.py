import os
from unittest import mock

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lbie.color import model_outputs_to_rgb
from keras_lbie.color import rgb_to_model_inputs
from keras_lbie.datasets import cosal
from keras_lbie.models import LBIEColorizer
from keras_lbie.models import LBIEColorizerBackbone
from keras_lbie.models import available_colorizer_presets
from keras_lbie.models.lbie_colorizer import colorize_at_input_size
from keras_lbie.models.lbie_colorizer import lbie_colorizer_presets
from keras_lbie.models.lbie_colorizer import scaled_lightness
from keras_lbie.tokenizers import cosal_vocabulary
from keras_lbie.tokenizers.caption_tokenizer import CaptionTokenizer
from keras_lbie.tokenizers.caption_tokenizer import build_vocabulary
from keras_lbie.utils import preset_utils
from keras_lbie.utils.validation import PixelRangeWarning
from tests.models.lbie_colorizer.tiny_colorizer import tiny_backbone
from tests.models.lbie_colorizer.tiny_colorizer import tiny_colorizer
from tests.models.lbie_colorizer.tiny_colorizer import tiny_tokenizer
from tests.test_case import TestCase
from tests.test_case import two_replica_strategy

CAPTIONS = np.array(
    [
        "The petals are red.",
        "The flower is blue! Yellow petals?",
        "",
        "the petals are yellow",
    ]
)


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def gray_images(batch=4, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(batch, size, size, 1)).astype("uint8")


class PresetTest(TestCase):
    def test_cosal_colorizer(self):
        colorizer = LBIEColorizer.from_preset("cosal_colorizer", seed=0)
        self.assertEqual(colorizer.tokenizer.vocabulary, cosal_vocabulary())
        data = cosal.generate(2, num_direct=4, seed=0)
        gray = data["image"][..., :1]
        ab = colorizer({"image": gray, "text": data["text"]})
        self.assertEqual(tuple(ab.shape), (2, 48, 48, 2))
        self.assertTrue(np.all(np.abs(numpy(ab)) <= 1.0))
        # The longest CoSaL paragraph (72 words) fits without truncation.
        self.assertEqual(colorizer.backbone.max_words, 80)
        self.assertEqual(colorizer.count_params(), 256_978)

    def test_flowers_paper_is_the_paper_model(self):
        colorizer = LBIEColorizer.from_preset("flowers_paper")
        backbone = colorizer.backbone
        encoder = [
            layer
            for layer in backbone.layers
            if layer.name.startswith("image_conv_")
        ]
        self.assertLen(encoder, 15)
        self.assertEqual(backbone.encoder_stride, 16)
        text_encoder = backbone.get_layer("text_encoder")
        self.assertEqual(text_encoder.units, 512)
        self.assertTrue(text_encoder.bidirectional)
        fusion = backbone.get_layer("fusion")
        self.assertEqual(fusion.units, 128)
        self.assertEqual(fusion.attention_units, 128)
        self.assertEqual(fusion.max_steps, 1)
        deconvs = [
            layer
            for layer in backbone.layers
            if isinstance(layer, keras.layers.Conv2DTranspose)
        ]
        self.assertEqual([layer.strides for layer in deconvs], [(4, 4)] * 2)
        # 2 deconvolutions, each followed by 2 convolutions.
        decoder = [layer.name for layer in backbone.layers[-6:]]
        self.assertEqual(
            decoder,
            [
                "decoder_deconv_0",
                "decoder_conv_0_0",
                "decoder_conv_0_1",
                "decoder_deconv_1",
                "decoder_conv_1_0",
                "ab_output",
            ],
        )
        self.assertEqual(backbone.count_params(), 29_066_078)
        outputs = backbone(
            {
                "image_l": np.zeros((1, 256, 256, 1), "float32"),
                "token_ids": numpy(colorizer.tokenizer(["The flower is red."])),
            }
        )
        self.assertEqual(tuple(outputs["ab"].shape), (1, 256, 256, 2))
        self.assertEqual(tuple(outputs["attention"].shape), (1, 1, 16, 16, 32))

    def test_available_presets(self):
        names = available_colorizer_presets()
        self.assertEqual(set(names), {"flowers_paper", "cosal_colorizer"})
        for name, description in names.items():
            self.assertIsInstance(description, str, msg=name)

    def test_custom_vocabulary(self):
        captions = ["The petals are red.", "Red petals and a yellow centre."]
        vocabulary = build_vocabulary(captions)
        colorizer = LBIEColorizer.from_preset(
            "cosal_colorizer",
            vocabulary=vocabulary,
            max_words=12,
            load_weights=False,
        )
        self.assertEqual(colorizer.tokenizer.vocabulary, vocabulary)
        self.assertEqual(
            colorizer.backbone.vocabulary_size, len(vocabulary) + 2
        )
        self.assertEqual(colorizer.tokenizer.max_words, 12)

    def test_from_preset_errors(self):
        with self.assertRaisesRegex(ValueError, "flowers_paper"):
            LBIEColorizer.from_preset("flowers")
        with self.assertRaisesRegex(ValueError, "max_stepz"):
            LBIEColorizer.from_preset("cosal_colorizer", max_stepz=2)
        with self.assertRaisesRegex(ValueError, "vocabulary_size"):
            LBIEColorizer.from_preset("cosal_colorizer", vocabulary_size=30)
        with self.assertRaisesRegex(TypeError, "load_weights"):
            LBIEColorizer.from_preset("cosal_colorizer", load_weights=1)
        with self.assertRaisesRegex(TypeError, "vocabulary"):
            LBIEColorizer.from_preset(
                "cosal_colorizer", vocabulary="red", load_weights=False
            )

    def test_preset_weights(self):
        weights_dir = self.get_temp_dir()
        trained = LBIEColorizer.from_preset("cosal_colorizer", seed=0)
        trained.backbone.save_weights(
            os.path.join(weights_dir, "cosal_colorizer.weights.h5")
        )
        entry = dict(lbie_colorizer_presets.PRESETS["cosal_colorizer"])
        entry["weights"] = "cosal_colorizer.weights.h5"
        with (
            mock.patch.dict(
                lbie_colorizer_presets.PRESETS, {"cosal_colorizer": entry}
            ),
            mock.patch.object(preset_utils, "WEIGHTS_DIR", weights_dir),
        ):
            loaded = LBIEColorizer.from_preset("cosal_colorizer", seed=1)
            for expected, actual in zip(
                trained.get_weights(), loaded.get_weights(), strict=True
            ):
                self.assertAllEqual(expected, actual)
            with self.assertRaisesRegex(ValueError, "load_weights=False"):
                LBIEColorizer.from_preset("cosal_colorizer", max_steps=2)
            with self.assertRaisesRegex(ValueError, "vocabulary"):
                LBIEColorizer.from_preset("cosal_colorizer", vocabulary=["red"])
            LBIEColorizer.from_preset(
                "cosal_colorizer", vocabulary=["red"], load_weights=False
            )


class LBIEColorizerTest(TestCase):
    def test_constructor_checks(self):
        backbone = tiny_backbone()
        with self.assertRaisesRegex(TypeError, "backbone"):
            LBIEColorizer(keras.Sequential(), tiny_tokenizer())
        with self.assertRaisesRegex(TypeError, "CaptionTokenizer"):
            LBIEColorizer(backbone, ["red"])
        with self.assertRaisesRegex(ValueError, "vocabulary_size"):
            LBIEColorizer(backbone, CaptionTokenizer(["red"], max_words=6))
        with self.assertRaisesRegex(ValueError, "max_words"):
            LBIEColorizer(
                backbone,
                CaptionTokenizer(tiny_tokenizer().vocabulary, max_words=5),
            )

    def test_matches_backbone_on_lightness_and_ids(self):
        colorizer = tiny_colorizer()
        gray = gray_images()
        ab = colorizer({"image": gray, "text": CAPTIONS})
        # A gray value g is the sRGB colour (g, g, g).
        image_l, _ = rgb_to_model_inputs(np.repeat(gray, 3, axis=-1))
        expected = colorizer.backbone(
            {
                "image_l": image_l,
                "token_ids": colorizer.tokenizer(CAPTIONS),
            }
        )["ab"]
        self.assertAllClose(ab, expected, atol=1e-6)
        self.assertAllClose(scaled_lightness(gray), image_l)

    def test_saving_round_trip(self):
        colorizer = tiny_colorizer()
        inputs = {"image": gray_images(), "text": CAPTIONS}
        path = os.path.join(self.get_temp_dir(), "colorizer.keras")
        colorizer.save(path)
        restored = keras.models.load_model(path)
        self.assertIsInstance(restored, LBIEColorizer)
        self.assertIsInstance(restored.backbone, LBIEColorizerBackbone)
        self.assertIsInstance(restored.tokenizer, CaptionTokenizer)
        self.assertEqual(restored.get_config(), colorizer.get_config())
        self.assertAllEqual(colorizer(inputs), restored(inputs))

    @pytest.mark.large
    def test_export_takes_raw_images_and_strings(self):
        colorizer = tiny_colorizer()
        gray = gray_images(2)
        path = os.path.join(self.get_temp_dir(), "exported")
        colorizer.export(path, verbose=False)
        exported = tf.saved_model.load(path)
        served = exported.serve(
            {
                "image": tf.constant(gray, tf.float32),
                "text": tf.constant(list(CAPTIONS[:2])),
            }
        )
        self.assertAllClose(
            colorizer({"image": gray, "text": CAPTIONS[:2]}), served, atol=1e-5
        )

    def test_bad_inputs(self):
        colorizer = tiny_colorizer()
        gray = gray_images()
        for name, bad in {
            "colour": {"image": np.repeat(gray, 3, -1), "text": CAPTIONS},
            "size": {"image": gray[:, :8, :8], "text": CAPTIONS},
            "rank": {"image": gray[0], "text": CAPTIONS},
            "text rank": {"image": gray, "text": CAPTIONS[:, None]},
            "keys": {"image": gray, "caption": CAPTIONS},
        }.items():
            with self.subTest(name):
                with self.assertRaises(ValueError):
                    colorizer(bad)
        with self.assertRaisesRegex(ValueError, r"\(batch, 16, 16, 1\)"):
            colorizer({"image": np.repeat(gray, 3, -1), "text": CAPTIONS})
        with self.assertRaisesRegex(TypeError, "image"):
            colorizer({"image": gray > 0, "text": CAPTIONS})
        with self.assertRaisesRegex(TypeError, "text"):
            colorizer({"image": gray, "text": np.arange(4)})

    def test_caption_edge_cases(self):
        colorizer = tiny_colorizer()
        gray = np.repeat(gray_images(1), 4, axis=0)
        texts = np.array(
            ["", "?!", "The petals are red.", "THE PETALS ARE RED"]
        )
        ab = numpy(colorizer({"image": gray, "text": texts}))
        # An empty caption is all padding: no attention, the image decides.
        self.assertAllClose(ab[0], ab[1])
        self.assertNotAllClose(ab[0], ab[2])
        attention = colorizer.backbone(
            {
                "image_l": scaled_lightness(gray),
                "token_ids": colorizer.tokenizer(texts),
            }
        )["attention"]
        self.assertAllEqual(attention[:2], np.zeros((2, 1, 4, 4, 6)))
        # Case and punctuation do not matter.
        self.assertAllClose(ab[2], ab[3])
        # Words beyond max_words (6) are truncated.
        long = np.array(["the petals are red the flower", "the petals are red"])
        ab = numpy(colorizer({"image": gray[:2], "text": long}))
        truncated = numpy(
            colorizer(
                {
                    "image": gray[:2],
                    "text": np.array([long[0] + " is blue", long[1]]),
                }
            )
        )
        self.assertAllClose(ab[0], truncated[0])

    def test_predict_ab_of_a_model_made_under_two_replicas(self):
        # Keras's `predict_on_batch` would run the whole batch on each
        # replica and return both copies: one ab per image, as on one device.
        one_device = tiny_colorizer()
        with two_replica_strategy().scope():
            mirrored = tiny_colorizer()
        mirrored.set_weights(one_device.get_weights())
        image_l = numpy(scaled_lightness(gray_images(3)))
        texts = list(CAPTIONS[:3])
        self.assertAllClose(
            mirrored.predict_ab(image_l, texts, batch_size=2),
            one_device.predict_ab(image_l, texts, batch_size=2),
            atol=1e-6,
        )

    def test_colorize(self):
        colorizer = tiny_colorizer()
        rng = np.random.default_rng(1)
        rgb = rng.integers(0, 256, size=(2, 16, 16, 3)).astype("uint8")
        gray = gray_images(1)
        # Colour images keep their own lightness; a gray one is (g, g, g).
        images = np.concatenate([rgb, np.repeat(gray, 3, -1)])
        texts = list(CAPTIONS[:3])
        colours = colorizer.colorize(images, texts, batch_size=2)
        self.assertEqual(colours.dtype, np.uint8)
        self.assertEqual(colours.shape, (3, 16, 16, 3))
        image_l, _ = rgb_to_model_inputs(images)
        ab = colorizer.predict_ab(numpy(image_l), texts)
        expected = np.round(numpy(model_outputs_to_rgb(image_l, ab)) * 255)
        self.assertAllClose(colours, expected, atol=1)
        # One gray image, (S, S, 1) or (S, S), with one str.
        one = colorizer.colorize(gray[0], texts[2])
        self.assertEqual(one.shape, (1, 16, 16, 3))
        self.assertAllClose(one[0], colours[2], atol=1)
        self.assertAllEqual(
            colorizer.colorize(gray[0, ..., 0].astype("float32"), texts[2]),
            one,
        )

    def test_colorize_bad_inputs(self):
        colorizer = tiny_colorizer()
        gray = gray_images(2)
        texts = list(CAPTIONS[:2])
        with self.assertRaisesRegex(ValueError, r"`images`.*16, 16"):
            colorizer.colorize(gray[:, :8, :8], texts)
        with self.assertRaisesRegex(ValueError, "`images`"):
            colorizer.colorize(np.repeat(gray, 2, axis=-1), texts)
        with self.assertRaisesRegex(TypeError, "`images`"):
            colorizer.colorize(gray > 0, texts)
        with self.assertRaisesRegex(
            ValueError, r"\[0, 255\]. Received 5\d\d at"
        ):
            colorizer.colorize(gray.astype("int64") + 300, texts)
        with self.assertRaisesRegex(ValueError, "one description per image"):
            colorizer.colorize(gray, texts[:1])
        with self.assertRaisesRegex(TypeError, "`texts`"):
            colorizer.colorize(gray, [texts[0], None])
        with self.assertRaisesRegex(ValueError, "batch_size"):
            colorizer.colorize(gray, texts, batch_size=0)
        with self.assertRaisesRegex(TypeError, "image_l"):
            colorizer.predict_ab(gray, texts)

    def test_colorize_takes_what_users_have(self):
        colorizer = tiny_colorizer()
        gray = gray_images(2)
        texts = list(CAPTIONS[:2])
        expected = colorizer.colorize(gray, texts)
        for name, images, captions in (
            # A 3-D batch of gray images, not one image of 2 rows.
            ("gray batch", gray[..., 0], texts),
            ("nested list", gray.astype(int).tolist(), texts),
            ("bytes", gray, [t.encode() for t in texts]),
            ("tensor", tf.constant(gray), tf.constant(texts)),
        ):
            with self.subTest(name):
                self.assertAllEqual(
                    colorizer.colorize(images, captions), expected
                )
        # Errors show the shape passed, not a reshaped one.
        with self.assertRaisesRegex(
            ValueError, r"Received shape: \(2, 16, 15\)"
        ):
            colorizer.colorize(gray[:, :, :15, 0], texts)

    def test_colorize_an_empty_batch(self):
        colorizer = tiny_colorizer()
        colours = colorizer.colorize(gray_images(2)[:0], [])
        self.assertEqual(colours.shape, (0, 16, 16, 3))
        self.assertEqual(colours.dtype, np.uint8)
        ab = colorizer.predict_ab(np.zeros((0, 16, 16, 1), "float32"), [])
        self.assertEqual(ab.shape, (0, 16, 16, 2))

    def test_colorize_refuses_non_finite_images(self):
        colorizer = tiny_colorizer()
        images = gray_images(2).astype("float32")
        images[0, 3, 4, 0] = -np.inf
        texts = list(CAPTIONS[:2])
        with self.assertRaisesRegex(ValueError, r"`images` holds 1 NaN"):
            colorizer.colorize(images, texts)
        image_l = np.zeros((2, 16, 16, 1), "float32")
        image_l[1, 0, 0, 0] = np.nan
        with self.assertRaisesRegex(ValueError, r"`image_l` holds 1 NaN"):
            colorizer.predict_ab(image_l, texts)

    def test_colorize_warns_on_float_images_in_0_1(self):
        colorizer = tiny_colorizer()
        with self.assertWarnsRegex(PixelRangeWarning, r"\[0, 1\]"):
            colorizer.colorize(gray_images(2) / 255.0, list(CAPTIONS[:2]))

    def test_tokenize_dataset(self):
        colorizer = tiny_colorizer()
        # The element structure of `flowers.as_dataset`.
        x = {
            "image_l": np.zeros((4, 16, 16, 1), "float32"),
            "text": CAPTIONS,
        }
        ab = np.zeros((4, 16, 16, 2), "float32")
        dataset = tf.data.Dataset.from_tensor_slices((x, ab)).batch(2)
        x, y = next(iter(colorizer.tokenize_dataset(dataset)))
        self.assertEqual(set(x), {"image_l", "token_ids"})
        self.assertAllEqual(x["token_ids"], colorizer.tokenizer(CAPTIONS[:2]))
        self.assertEqual(tuple(y.shape), (2, 16, 16, 2))


class ColorizeAtInputSizeTest(TestCase):
    def test_matches_colorize_at_the_model_size(self):
        colorizer = tiny_colorizer()
        rgb = np.random.default_rng(2).integers(0, 256, (2, 16, 16, 3))
        rgb = rgb.astype("uint8")
        texts = list(CAPTIONS[:2])
        ab = colorizer.predict_ab(numpy(scaled_lightness(rgb)), texts)
        colours = colorize_at_input_size(rgb, ab)
        self.assertEqual(colours.dtype, tf.uint8)
        self.assertAllClose(colours, colorizer.colorize(rgb, texts), atol=1)

    def test_keeps_the_inputs_own_lightness(self):
        rng = np.random.default_rng(3)
        rgb = rng.integers(60, 200, (2, 37, 23, 3)).astype("uint8")
        # One ab everywhere stays the same when upsampled: every pixel is
        # then its own L with that ab, whatever the ab's size.
        ab = np.broadcast_to(np.float32([0.1, -0.05]), (2, 4, 4, 2))
        expected = model_outputs_to_rgb(
            scaled_lightness(rgb),
            np.broadcast_to(ab[:, :1, :1], (2, 37, 23, 2)),
        )
        self.assertAllClose(
            colorize_at_input_size(rgb, ab),
            np.round(numpy(expected) * 255.0),
            atol=1,
        )
        # No colour gives the gray image back, from (..., 1) too.
        gray = rng.integers(0, 256, (1, 30, 20, 1)).astype("uint8")
        self.assertAllClose(
            colorize_at_input_size(gray, np.zeros((1, 8, 8, 2), "float32")),
            np.repeat(gray, 3, axis=-1),
            atol=1,
        )

    def test_upsamples_the_ab_bilinearly(self):
        ab = np.float32(
            [[[[0.3, 0.0], [0.0, -0.3]], [[-0.2, 0.1], [0.1, 0.2]]]]
        )
        gray = np.full((1, 8, 6, 3), 128, "uint8")
        upsampled = tf.image.resize(ab, (8, 6), method="bilinear")
        expected = model_outputs_to_rgb(scaled_lightness(gray), upsampled)
        self.assertAllClose(
            colorize_at_input_size(gray, ab),
            np.round(numpy(expected) * 255.0),
            atol=1,
        )


class TaskBasicsTest(TestCase):
    def test_task_basics(self):
        inputs = {
            "image": gray_images(batch=2, size=48),
            "text": np.array(["The circle is red.", ""], dtype=object),
        }
        colorizer = self.run_preset_test(
            LBIEColorizer, "cosal_colorizer", inputs, (2, 48, 48, 2)
        )
        self.run_task_test(colorizer, inputs, (2, 48, 48, 2))
