import json
import os
import shutil
import tempfile

import keras
import numpy as np

from keras_lbie.datasets import referit
from keras_lbie.models import ReferItSegmenter
from keras_lbie.models import tokenize_dataset
from keras_lbie.tokenizers import ReferItTokenizer
from keras_lbie.training import PAPER_TABLE3
from keras_lbie.training import category_oracle_prediction
from keras_lbie.training import evaluate_referit
from keras_lbie.training import evaluate_referit_predictions
from keras_lbie.training import format_table3
from keras_lbie.training import whole_image_prediction
from tests.test_case import TestCase


class _ConstantSegmenter:
    """A segmenter stand-in whose logits put every pixel in one class."""

    def __init__(self, vocabulary, image_size, object_everywhere):
        self.image_size = image_size
        self.tokenizer = ReferItTokenizer(vocabulary)
        image = keras.Input((image_size, image_size, 3), name="image")
        token_ids = keras.Input((20,), dtype="int32", name="token_ids")
        scores = (0.0, 1.0) if object_everywhere else (1.0, 0.0)
        logits = keras.ops.zeros_like(image[..., :2]) + np.array(
            scores, "float32"
        )
        self.backbone = keras.Model(
            {"image": image, "token_ids": token_ids}, {"logits": logits}
        )

    def tokenize_dataset(self, dataset):
        return tokenize_dataset(dataset, self.tokenizer)


def numpy_scores(root, split):
    """Per-query (intersection, union) of the whole-image prediction."""
    counts = []
    for example in referit.load_index(root, split).examples:
        mask = referit.load_mask(example.mask_path)
        counts.append((mask.sum(), mask.size))
    return np.array(counts, "float64")


class ReferItEvaluationTest(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Non-square images: the evaluation must undo the resize and pad.
        cls.root = referit.write_referit_format(
            os.path.join(tempfile.mkdtemp(), "referit"),
            5,
            seed=2,
            image_size=(48, 72),
        )
        cls.vocabulary = referit.load_index(cls.root, "test").vocabulary

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(os.path.dirname(cls.root), ignore_errors=True)
        super().tearDownClass()

    def test_whole_image_baseline_by_hand(self):
        values = evaluate_referit_predictions(
            self.root, "test", whole_image_prediction
        )
        counts = numpy_scores(self.root, "test")
        ious = counts[:, 0] / counts[:, 1]
        self.assertEqual(values["num_queries"], len(counts))
        self.assertAllClose(
            values["overall_iou"], counts[:, 0].sum() / counts[:, 1].sum()
        )
        self.assertAllClose(values["mean_iou"], ious.mean())
        self.assertAllClose(values["precision@0.5"], (ious >= 0.5).mean())

    def test_model_predicting_everything_is_the_whole_image_baseline(self):
        # The padded square maps back exactly onto the original image.
        segmenter = _ConstantSegmenter(self.vocabulary, 64, True)
        values = evaluate_referit(segmenter, self.root, "test", batch_size=4)
        expected = evaluate_referit_predictions(
            self.root, "test", whole_image_prediction
        )
        self.assertAllClose(
            [values[key] for key in sorted(values)],
            [expected[key] for key in sorted(expected)],
        )
        nothing = evaluate_referit(
            _ConstantSegmenter(self.vocabulary, 64, False), self.root, "test"
        )
        self.assertEqual(nothing["overall_iou"], 0.0)

    def test_perfect_predictions(self):
        values = evaluate_referit_predictions(
            self.root,
            "val",
            lambda example: referit.load_mask(example.mask_path),
            max_queries=7,
        )
        self.assertEqual(values["num_queries"], 7)
        for key in ("overall_iou", "mean_iou", "precision@0.9"):
            self.assertEqual(values[key], 1.0, msg=key)

    def test_a_real_segmenter(self):
        segmenter = ReferItSegmenter.from_preset(
            "referit_small", vocabulary=self.vocabulary, image_size=32
        )
        values = evaluate_referit(
            segmenter, self.root, "test", batch_size=8, max_queries=10
        )
        self.assertEqual(values["num_queries"], 10)
        for key, value in values.items():
            if key != "num_queries":
                self.assertBetween(value, 0.0, 1.0, msg=key)

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "original size"):
            evaluate_referit_predictions(
                self.root, "test", lambda example: np.ones((3, 3))
            )
        with self.assertRaisesRegex(TypeError, "callable"):
            evaluate_referit_predictions(self.root, "test", None)
        with self.assertRaisesRegex(ValueError, "max_queries"):
            evaluate_referit_predictions(
                self.root, "test", whole_image_prediction, max_queries=0
            )

    def test_format_table3(self):
        table = format_table3({**PAPER_TABLE3, "ours": None})
        lines = table.splitlines()
        self.assertEqual(
            lines[0],
            "| Model | Precision@0.5 | Precision@0.6 | Precision@0.7 | "
            "Precision@0.8 | Precision@0.9 | IoU |",
        )
        self.assertEqual(
            lines[2],
            "| Hu et al. [9] (paper's Table 3) | 34.02% | 26.71% | 19.32% | "
            "11.63% | 3.92% | 48.03% |",
        )
        self.assertIn("| 27.90% |", lines[3])
        self.assertTrue(lines[3].endswith("| 50.09% |"))
        self.assertEqual(lines[4], "| ours" + " | not run" * 6 + " |")


class CategoryOracleTest(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = os.path.join(tempfile.mkdtemp(), "scenes")
        referit.write_referring_scenes(cls.root, 12, seed=1)
        with open(os.path.join(cls.root, referit.OBJECTS_FILE)) as file:
            cls.objects = json.load(file)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(os.path.dirname(cls.root), ignore_errors=True)
        super().tearDownClass()

    def test_predicts_every_object_of_the_category(self):
        predict = category_oracle_prediction(self.root)
        ious, unique = [], []
        for example in referit.load_index(self.root, "test").examples:
            items = self.objects[example.image_id]
            category = next(
                item["category"]
                for item in items
                if item["query_id"] == example.query_id
            )
            same = [item for item in items if item["category"] == category]
            prediction = predict(example)
            self.assertEqual(
                prediction.sum(), sum(item["area"] for item in same)
            )
            truth = referit.load_mask(example.mask_path)
            self.assertTrue(np.all(prediction[truth]))
            ious.append(truth.sum() / prediction.sum())
            unique.append(len(same) == 1)
        self.assertIn(True, unique)
        self.assertIn(False, unique)
        values = evaluate_referit_predictions(self.root, "test", predict)
        self.assertAllClose(values["mean_iou"], np.mean(ious))
        self.assertAllClose(
            values["precision@0.5"], np.mean(np.array(ious) >= 0.5)
        )

    def test_errors_name_the_objects_file(self):
        other = os.path.join(self.get_temp_dir(), "no_objects")
        shutil.copytree(self.root, other)
        path = os.path.join(other, referit.OBJECTS_FILE)
        with open(path, "w") as file:
            json.dump({}, file)
        example = referit.load_index(other, "test").examples[0]
        with self.assertRaisesRegex(ValueError, "referit_objects.json"):
            category_oracle_prediction(other)(example)
        os.remove(path)
        with self.assertRaisesRegex(FileNotFoundError, "referit_objects"):
            category_oracle_prediction(other)

    def test_blank_text_scores_a_segmenter(self):
        vocabulary = referit.load_index(self.root, "test").vocabulary
        segmenter = ReferItSegmenter.from_preset(
            "referit_small", vocabulary=vocabulary, image_size=32
        )
        values = evaluate_referit(
            segmenter, self.root, "test", max_queries=6, blank_text=True
        )
        self.assertEqual(values["num_queries"], 6)
