import keras
import numpy as np
from absl.testing import parameterized

from keras_lbie.metrics import ReferItOverallIoU
from tests.test_case import TestCase


def masks(*rows):
    """Masks (batch, 1, W) from strings of 0/1, one per query."""
    return np.array([[[int(c) for c in row]] for row in rows], "int32")


class ReferItOverallIoUTest(TestCase):
    def test_overall_iou_is_not_the_mean_iou(self):
        metric = ReferItOverallIoU()
        # Query 1: truth 2 px, prediction 1 of them: I = 1, U = 2 (IoU 0.5).
        # Query 2: truth 8 px, prediction 6 of them and 2 more: I = 6,
        # U = 10 (IoU 0.6). Query 3: a miss, I = 0, U = 2 (IoU 0).
        metric.update_state(
            masks("1100000000", "1111111100"), masks("1000000000", "1111110011")
        )
        metric.update_state(masks("0000000001"), masks("0000000010"))
        # Overall: (1 + 6 + 0) / (2 + 10 + 2) = 0.5; mean IoU 1.1 / 3.
        self.assertAllClose(metric.result(), 0.5)
        self.assertNotAlmostEqual(float(metric.result()), 1.1 / 3, places=3)

    def test_two_class_scores(self):
        metric = ReferItOverallIoU()
        truth = masks("1100")
        # Object where score 1 > score 0; the tie at pixel 2 is background.
        scores = np.array([[[[0.0, 2.0], [1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]]])
        metric.update_state(truth, scores)
        # Predicted {0, 3}: I = 1, U = 3.
        self.assertAllClose(metric.result(), 1 / 3)

    def test_boolean_masks_and_query_weights(self):
        metric = ReferItOverallIoU()
        metric.update_state(
            masks("11", "10").astype(bool),
            masks("10", "10").astype(bool),
            sample_weight=np.array([2.0, 1.0]),
        )
        # (2 * 1 + 1 * 1) / (2 * 2 + 1 * 1).
        self.assertAllClose(metric.result(), 3 / 5)

    def test_empty_and_reset(self):
        metric = ReferItOverallIoU()
        self.assertEqual(float(metric.result()), 0.0)
        metric.update_state(masks("00"), masks("00"))
        self.assertEqual(float(metric.result()), 0.0)
        metric.update_state(masks("01"), masks("01"))
        self.assertAllClose(metric.result(), 1.0)
        metric.reset_state()
        self.assertEqual(float(metric.result()), 0.0)

    def test_config_round_trip(self):
        metric = ReferItOverallIoU(name="iou")
        revived = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(metric)
        )
        self.assertIsInstance(revived, ReferItOverallIoU)
        self.assertEqual(revived.get_config(), metric.get_config())

    def test_compiled_metric(self):
        inputs = keras.Input((1, 4, 1))
        model = keras.Model(inputs, keras.layers.Dense(2)(inputs)[:, :, :, 0])
        model.compile(loss="mse", metrics=[ReferItOverallIoU()])
        x = np.zeros((3, 1, 4, 1), "float32")
        logs = model.evaluate(x, masks("1100", "0011", "1111"), verbose=0)
        self.assertLen(logs, 2)

    @parameterized.named_parameters(
        ("truth_rank", np.zeros((2, 4)), np.zeros((2, 4)), "y_true"),
        ("size", np.zeros((2, 1, 4)), np.zeros((2, 1, 5)), "y_pred"),
        ("one_score", np.zeros((2, 1, 4)), np.zeros((2, 1, 4, 1)), "y_pred"),
        ("three_scores", np.zeros((2, 1, 4)), np.zeros((2, 1, 4, 3)), "two"),
    )
    def test_bad_inputs(self, y_true, y_pred, message):
        with self.assertRaisesRegex(ValueError, message):
            ReferItOverallIoU().update_state(y_true, y_pred)

    def test_bad_weights(self):
        with self.assertRaisesRegex(ValueError, "sample_weight"):
            ReferItOverallIoU().update_state(
                masks("10"), masks("10"), sample_weight=np.ones((1, 1, 2))
            )
