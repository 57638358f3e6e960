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
