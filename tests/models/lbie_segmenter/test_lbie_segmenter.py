import os
from unittest import mock

import keras
import numpy as np
import pytest
import tensorflow as tf
from absl.testing import parameterized

from keras_lbie.datasets import cosal
from keras_lbie.models import LBIESegmenter
from keras_lbie.models import LBIESegmenterBackbone
from keras_lbie.models import available_presets
from keras_lbie.models import tokenize_dataset
from keras_lbie.models.lbie_segmenter import lbie_segmenter_presets
from keras_lbie.tokenizers import SentenceTokenizer
from keras_lbie.tokenizers import cosal_vocabulary
from keras_lbie.utils import preset_utils
from keras_lbie.utils.validation import PixelRangeWarning
from tests.test_case import TestCase
from tests.test_case import two_replica_strategy

PALETTE = np.array((cosal.BACKGROUND_RGB, *cosal.PALETTE_RGB), np.uint8)


def cosal_inputs(num_examples=8):
    data = cosal.generate(num_examples, num_direct=4, seed=0)
    return {"image": data["image"], "text": data["text"]}


class PresetTest(TestCase):
    @parameterized.named_parameters(
        ("cosal_paper", "cosal_paper", {}),
        ("cosal", "cosal", {}),
        ("baseline", "cosal_paper", {"max_steps": 1, "use_attention": False}),
        ("one_step", "cosal_paper", {"max_steps": 1}),
        ("expected", "cosal_paper", {"termination_mode": "expected"}),
    )
    def test_forward(self, preset, overrides):
        segmenter = LBIESegmenter.from_preset(preset, **overrides)
        self.assertIsInstance(segmenter.backbone, LBIESegmenterBackbone)
        self.assertIsInstance(segmenter.tokenizer, SentenceTokenizer)
        for key, value in overrides.items():
            self.assertEqual(getattr(segmenter.backbone, key), value)
        logits = segmenter(cosal_inputs())
        self.assertEqual(tuple(logits.shape), (8, 48, 48, 7))
        self.assertTrue(np.all(np.isfinite(keras.ops.convert_to_numpy(logits))))

    def test_cosal_paper_is_the_paper_model(self):
        config = LBIESegmenter.from_preset("cosal_paper").backbone.get_config()
        paper = {
            "image_size": 48,
            "encoder_filters": [4, 4, 8, 8, 16, 16],
            "pool_every": 2,
            "word_units": 16,
            "sentence_units": 16,
            "fusion_units": 16,
            "attention_units": 16,
            "max_steps": 4,
            "use_attention": True,
            "termination_mode": "gumbel",
            "classifier_units": 16,
            "num_classes": 7,
            "max_sentences": 9,
            "max_words": 11,
            "vocabulary_size": len(cosal_vocabulary()) + 2,
        }
        self.assertEqual({key: config[key] for key in paper}, paper)

    def test_available_presets(self):
        names = available_presets()
        self.assertEqual(set(names), {"cosal_paper", "cosal"})
        for name, description in names.items():
            self.assertIsInstance(description, str, msg=name)

    def test_from_preset_errors(self):
        with self.assertRaisesRegex(ValueError, "cosal_paper"):
            LBIESegmenter.from_preset("referit")
        with self.assertRaisesRegex(ValueError, "max_stepz"):
            LBIESegmenter.from_preset("cosal_paper", max_stepz=2)
        with self.assertRaisesRegex(ValueError, "vocabulary_size"):
            LBIESegmenter.from_preset("cosal_paper", vocabulary_size=30)
        with self.assertRaisesRegex(TypeError, "load_weights"):
            LBIESegmenter.from_preset("cosal_paper", load_weights="yes")
        with self.assertRaisesRegex(ValueError, "use_attention"):
            LBIESegmenter.from_preset("cosal_paper", use_attention=False)

    def test_preset_weights(self):
        weights_dir = self.get_temp_dir()
        trained = LBIESegmenter.from_preset("cosal_paper", seed=0)
        trained.backbone.save_weights(
            os.path.join(weights_dir, "cosal_paper.weights.h5")
        )
        entry = {**lbie_segmenter_presets.PRESETS["cosal_paper"]}
        entry["weights"] = "cosal_paper.weights.h5"
        with (
            mock.patch.dict(
                lbie_segmenter_presets.PRESETS, {"cosal_paper": entry}
            ),
            mock.patch.object(preset_utils, "WEIGHTS_DIR", weights_dir),
        ):
            loaded = LBIESegmenter.from_preset("cosal_paper", seed=0)
            for expected, actual in zip(
                trained.get_weights(), loaded.get_weights(), strict=True
            ):
                self.assertAllEqual(expected, actual)
            fresh = LBIESegmenter.from_preset("cosal_paper", load_weights=False)
            self.assertNotAllClose(
                trained.get_weights()[0], fresh.get_weights()[0]
            )
            # Overrides that keep the architecture keep the weights.
            expected = LBIESegmenter.from_preset(
                "cosal_paper", termination_mode="expected"
            )
            self.assertAllEqual(
                trained.get_weights()[-1], expected.get_weights()[-1]
            )
            with self.assertRaisesRegex(ValueError, "load_weights=False"):
                LBIESegmenter.from_preset("cosal_paper", max_steps=1)
            LBIESegmenter.from_preset(
                "cosal_paper", max_steps=1, load_weights=False
            )
            entry["weights"] = "missing.weights.h5"
            with self.assertRaisesRegex(FileNotFoundError, "missing"):
                LBIESegmenter.from_preset("cosal_paper")


class LBIESegmenterTest(TestCase):
    def test_constructor_checks(self):
        backbone = LBIESegmenterBackbone(
            vocabulary_size=len(cosal_vocabulary()) + 2
        )
        with self.assertRaisesRegex(TypeError, "backbone"):
            LBIESegmenter(keras.Sequential(), SentenceTokenizer(["a"]))
        with self.assertRaisesRegex(TypeError, "tokenizer"):
            LBIESegmenter(backbone, cosal_vocabulary())
        with self.assertRaisesRegex(ValueError, "vocabulary_size"):
            LBIESegmenter(backbone, SentenceTokenizer(["a"]))
        with self.assertRaisesRegex(ValueError, "max_words"):
            LBIESegmenter(
                backbone, SentenceTokenizer(cosal_vocabulary(), max_words=8)
            )

    def test_saving_round_trip(self):
        segmenter = LBIESegmenter.from_preset("cosal_paper", seed=0)
        inputs = cosal_inputs(4)
        path = os.path.join(self.get_temp_dir(), "segmenter.keras")
        segmenter.save(path)
        restored = keras.models.load_model(path)
        self.assertIsInstance(restored, LBIESegmenter)
        self.assertIsInstance(restored.backbone, LBIESegmenterBackbone)
        self.assertEqual(restored.get_config(), segmenter.get_config())
        self.assertAllEqual(segmenter(inputs), restored(inputs))

    @pytest.mark.large
    def test_export_takes_raw_strings(self):
        segmenter = LBIESegmenter.from_preset("cosal_paper", seed=0)
        inputs = cosal_inputs(2)
        path = os.path.join(self.get_temp_dir(), "exported")
        segmenter.export(path, verbose=False)
        exported = tf.saved_model.load(path)
        served = exported.serve(
            {
                "image": tf.constant(inputs["image"], tf.float32),
                "text": tf.constant(list(inputs["text"])),
            }
        )
        self.assertAllClose(segmenter(inputs), served, atol=1e-5)

    def test_bad_inputs(self):
        segmenter = LBIESegmenter.from_preset("cosal_paper")
        inputs = cosal_inputs(2)
        image, text = inputs["image"], inputs["text"]
        for name, bad in {
            "size": {"image": image[:, :36, :36], "text": text},
            "channels": {"image": image[..., :1], "text": text},
            "rank": {"image": image[0], "text": text},
            "text rank": {"image": image, "text": text[:, None, None]},
            "keys": {"image": image, "texts": text},
        }.items():
            with self.subTest(name):
                with self.assertRaises(ValueError):
                    segmenter(bad)
        with self.assertRaisesRegex(TypeError, "image"):
            segmenter({"image": image.astype(str), "text": text})
        with self.assertRaisesRegex(TypeError, "text"):
            segmenter({"image": image, "text": np.array([1, 2])})

    def test_text_edge_cases(self):
        segmenter = LBIESegmenter.from_preset("cosal_paper", seed=0)
        image = np.repeat(cosal_inputs(1)["image"], 3, axis=0)
        sentences = [f"The circle is {c}." for c in ("red", "blue", "grey")]

        def run(texts):
            token_ids = segmenter.tokenizer(texts).numpy()
            outputs = segmenter.backbone(
                {"image": image, "token_ids": token_ids}
            )
            logits = segmenter({"image": image, "text": np.array(texts)})
            self.assertAllClose(outputs["logits"], logits)
            return keras.ops.convert_to_numpy(logits), outputs

        # Empty text is all padding: no attention, the image alone decides.
        logits, outputs = run(["", "?!", "The circle is red."])
        self.assertAllEqual(outputs["attention"][:2], np.zeros((2, 4, 6, 6, 9)))
        self.assertAllClose(logits[0], logits[1])
        self.assertNotAllClose(logits[0], logits[2])
        # Unknown words share the out-of-vocabulary id.
        logits, _ = run(["The zebra is red.", "The qwerty is red.", ""])
        self.assertAllClose(logits[0], logits[1])
        # Text beyond 9 sentences is truncated.
        long_text = " ".join(sentences * 4)
        logits, _ = run([long_text, " ".join((sentences * 3)[:9]), ""])
        self.assertAllClose(logits[0], logits[1])

    def test_tokenize_dataset(self):
        segmenter = LBIESegmenter.from_preset("cosal_paper")
        data = cosal.generate(4, num_direct=4, seed=0)
        dataset = cosal.as_dataset(data, batch_size=2)
        x, y = next(iter(segmenter.tokenize_dataset(dataset)))
        self.assertEqual(set(x), {"image", "token_ids"})
        self.assertAllEqual(
            x["token_ids"], segmenter.tokenizer(list(data["text"][:2]))
        )
        self.assertAllEqual(y, data["label"][:2])
        x_only = dataset.map(lambda x, y: x)
        x = next(iter(tokenize_dataset(x_only, segmenter.tokenizer)))
        self.assertEqual(tuple(x["token_ids"].shape), (2, 9, 11))
        with self.assertRaisesRegex(ValueError, "text"):
            segmenter.tokenize_dataset(dataset.map(lambda x, y: (y, y)))
        with self.assertRaisesRegex(TypeError, "dataset"):
            segmenter.tokenize_dataset(data)

    def test_edit(self):
        segmenter = LBIESegmenter.from_preset("cosal_paper", seed=0)
        inputs = cosal_inputs(5)
        texts = list(inputs["text"])
        texts[4] = "The zebra is red!  "
        colours, details = segmenter.edit(
            inputs["image"], texts, return_details=True, batch_size=2
        )
        self.assertEqual(colours.dtype, np.uint8)
        self.assertEqual(colours.shape, (5, 48, 48, 3))
        self.assertAllEqual(colours, PALETTE[details["labels"]])
        self.assertEqual(details["attention"].shape, (5, 4, 6, 6, 9))
        self.assertEqual(details["stop_step"].shape, (5, 6, 6))
        self.assertTrue(np.all(details["stop_step"] >= 0))
        self.assertTrue(np.all(details["stop_step"] < 4))
        self.assertLen(details["sentences"], 5)
        self.assertLen(details["sentences"][0], 9)
        self.assertEqual(details["sentences"][4], ["the [UNK] is red"])
        self.assertEqual(
            details["sentences"][0][0],
            texts[0].split(".")[0].lower(),
        )
        # The same classes as the model's logits.
        logits = keras.ops.convert_to_numpy(
            segmenter({"image": inputs["image"], "text": np.array(texts)})
        )
        agreement = np.mean(np.argmax(logits, -1) == details["labels"])
        self.assertGreater(agreement, 0.99)
        # One image and one str; float images in [0, 255] work too.
        single = segmenter.edit(inputs["image"][0].astype("float32"), texts[0])
        self.assertEqual(single.shape, (1, 48, 48, 3))
        self.assertAllEqual(single[0], colours[0])

    def test_edit_bad_inputs(self):
        segmenter = LBIESegmenter.from_preset("cosal_paper")
        image = cosal_inputs(2)["image"]
        texts = ["The circle is red.", "The diamond is blue."]
        with self.assertRaisesRegex(
            ValueError, r"`images`.*48, 48, 3.*Received shape: \(2, 36, 36, 3"
        ):
            segmenter.edit(image[:, :36, :36], texts)
        with self.assertRaisesRegex(ValueError, r"`images`.*\(2, 48, 48, 2\)"):
            segmenter.edit(image[..., :2], texts)
        with self.assertRaisesRegex(ValueError, r"`images`.*\(48,\)"):
            segmenter.edit(image[0, 0, :, 0], texts[0])
        with self.assertRaisesRegex(TypeError, "`images`"):
            segmenter.edit(image > 0, texts)
        with self.assertRaisesRegex(ValueError, r"Received -1 at"):
            segmenter.edit(image.astype("int64") - 1, texts)
        with self.assertRaisesRegex(ValueError, "one description per image"):
            segmenter.edit(image, texts[:1])
        with self.assertRaisesRegex(ValueError, "one description per image"):
            segmenter.edit(image, texts[0])
        with self.assertRaisesRegex(TypeError, "`texts`"):
            segmenter.edit(image, [texts[0], None])
        with self.assertRaisesRegex(TypeError, "`texts`"):
            segmenter.edit(image, 3)
        with self.assertRaisesRegex(ValueError, "batch_size"):
            segmenter.edit(image, texts, batch_size=0)
        with self.assertRaisesRegex(TypeError, "return_details"):
            segmenter.edit(image, texts, return_details="yes")


class ReplicaFitTest(TestCase):
    @pytest.mark.large
    def test_raw_text_trains_under_two_replicas_as_on_one_device(self):
        # The text is tokenized in the pipeline; the weights are those of
        # `fit` with the strings in the graph, on one device.
        dataset = cosal.as_dataset(cosal.generate(8, seed=0), batch_size=4)
        runs = []
        for strategy in (
            tf.distribute.OneDeviceStrategy("/cpu:0"),
            two_replica_strategy(),
        ):
            with strategy.scope():
                segmenter = LBIESegmenter.from_preset(
                    "cosal_paper",
                    load_weights=False,
                    max_steps=2,
                    termination_mode="expected",
                )
                segmenter.compile(
                    optimizer=keras.optimizers.SGD(0.1),
                    loss=keras.losses.SparseCategoricalCrossentropy(
                        from_logits=True
                    ),
                )
            if runs:
                segmenter.set_weights(runs[0][0])
            initial = segmenter.get_weights()
            history = segmenter.fit(dataset, epochs=1, verbose=0)
            runs.append((initial, segmenter.get_weights(), history.history))
        (initial, one, one_logs), (_, two, two_logs) = runs
        self.assertNotAllClose(initial[0], one[0])
        for expected, actual in zip(one, two, strict=True):
            self.assertAllClose(actual, expected, atol=1e-5, rtol=1e-5)
        self.assertAllClose(two_logs["loss"], one_logs["loss"], rtol=1e-5)

    def test_numpy_inputs_under_two_replicas_ask_for_a_dataset(self):
        with two_replica_strategy().scope():
            segmenter = LBIESegmenter.from_preset(
                "cosal_paper", load_weights=False
            )
        segmenter.compile(optimizer="sgd")
        with self.assertRaisesRegex(ValueError, "batched `tf.data.Dataset`"):
            segmenter.fit(cosal_inputs(2), np.zeros((2, 48, 48), "int32"))


class EditInputsTest(TestCase):
    """`edit` takes what users have, and refuses what would be wrong."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.segmenter = LBIESegmenter.from_preset("cosal_paper", seed=0)
        data = cosal.generate(2, num_direct=4, seed=0)
        cls.images, cls.texts = data["image"], list(data["text"])
        cls.expected = cls.segmenter.edit(cls.images, cls.texts)

    def test_forms_of_images_and_texts(self):
        gray = np.repeat(self.images[..., :1], 3, axis=-1)
        expected_gray = self.segmenter.edit(gray, self.texts)
        for name, images, texts, expected in (
            ("nested list", self.images.tolist(), self.texts, None),
            ("int64", self.images.astype("int64"), self.texts, None),
            ("bytes", self.images, [t.encode() for t in self.texts], None),
            ("unicode array", self.images, np.array(self.texts), None),
            ("tensor", tf.constant(self.images), tf.constant(self.texts), None),
            ("gray batch", self.images[..., 0], self.texts, expected_gray),
            ("gray (.., 1)", self.images[..., :1], self.texts, expected_gray),
        ):
            with self.subTest(name):
                expected = self.expected if expected is None else expected
                self.assertAllEqual(
                    self.segmenter.edit(images, texts), expected
                )

    def test_an_empty_batch_gives_empty_outputs(self):
        colours, details = self.segmenter.edit(
            self.images[:0], [], return_details=True
        )
        self.assertEqual(colours.shape, (0, 48, 48, 3))
        self.assertEqual(colours.dtype, np.uint8)
        self.assertEqual(details["labels"].shape, (0, 48, 48))
        self.assertEqual(details["attention"].shape, (0, 4, 6, 6, 9))
        self.assertEqual(details["stop_step"].shape, (0, 6, 6))
        self.assertEqual(details["sentences"], [])

    def test_non_finite_images_are_refused(self):
        images = self.images.astype("float32")
        images[1, 5, 6, 2] = np.nan
        with self.assertRaisesRegex(
            ValueError, r"`images` holds 1 NaN.*\(1, 5, 6, 2\)"
        ):
            self.segmenter.edit(images, self.texts)

    def test_float_images_in_0_1_draw_a_warning(self):
        with self.assertWarnsRegex(PixelRangeWarning, r"\[0, 1\]"):
            self.segmenter.edit(self.images / 255.0, self.texts)


class TaskBasicsTest(TestCase):
    def test_shipped_preset_builds_offline(self):
        self.run_preset_test(
            LBIESegmenter, "cosal", cosal_inputs(2), (2, 48, 48, 7)
        )

    def test_task_basics(self):
        self.run_task_test(
            LBIESegmenter.from_preset("cosal_paper"),
            cosal_inputs(2),
            (2, 48, 48, 7),
        )
