import keras
import numpy as np
from absl.testing import parameterized

from keras_lbie.metrics import ReferItPrecisionAt
from tests.test_case import TestCase


def masks(*rows):
    """Masks (batch, 1, W) from strings of 0/1, one per query."""
    return np.array([[[int(c) for c in row]] for row in rows], "int32")


class ReferItPrecisionAtTest(TestCase):
    def test_hand_computed(self):
        metric = ReferItPrecisionAt()
        # Per-query IoUs: 1/2, 6/10, 7/10, 0 and 9/10.
        metric.update_state(
            masks("1100000000", "1111111100", "1111111000"),
            masks("1000000000", "1111110011", "1111111111"),
        )
        metric.update_state(
            masks("0000000001", "1111111110"),
            masks("0000000010", "1111111111"),
        )
        result = {key: float(value) for key, value in metric.result().items()}
        self.assertEqual(
            list(result),
            [
                "referit_precision@0.5",
                "referit_precision@0.6",
                "referit_precision@0.7",
                "referit_precision@0.8",
                "referit_precision@0.9",
                "referit_precision_mean_iou",
            ],
        )
        # IoU >= threshold counts: exactly 0.5, 0.6, 0.7 and 0.9 reach theirs.
        expected = [4 / 5, 3 / 5, 2 / 5, 1 / 5, 1 / 5, 2.7 / 5]
        self.assertAllClose(list(result.values()), expected)

    def test_weights_empty_queries_and_reset(self):
        metric = ReferItPrecisionAt(thresholds=(0.5,), name="p")
        self.assertEqual(
            {k: float(v) for k, v in metric.result().items()},
            {"p@0.5": 0.0, "p_mean_iou": 0.0},
        )
        # An empty truth predicted empty is a match (IoU 1); the weight-0
        # miss is left out.
        metric.update_state(
            masks("00", "10"), masks("00", "01"), sample_weight=[1.0, 0.0]
        )
        self.assertAllClose(metric.result()["p@0.5"], 1.0)
        metric.reset_state()
        self.assertEqual(float(metric.result()["p_mean_iou"]), 0.0)

    def test_config_round_trip(self):
        metric = ReferItPrecisionAt(thresholds=(0.25, 0.75))
        config = metric.get_config()
        self.assertEqual(config["thresholds"], [0.25, 0.75])
        revived = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(metric)
        )
        self.assertIsInstance(revived, ReferItPrecisionAt)
        self.assertEqual(revived.get_config(), config)

    @parameterized.named_parameters(
        ("empty", (), ValueError),
        ("above_one", (0.5, 1.5), ValueError),
        ("repeated", (0.5, 0.5), ValueError),
        ("str", "0.5", TypeError),
        ("bool", (True,), TypeError),
    )
    def test_bad_thresholds(self, thresholds, error):
        with self.assertRaisesRegex(error, "thresholds"):
            ReferItPrecisionAt(thresholds=thresholds)

    def test_bad_inputs(self):
        with self.assertRaisesRegex(ValueError, "y_pred"):
            ReferItPrecisionAt().update_state(masks("10"), masks("100"))
