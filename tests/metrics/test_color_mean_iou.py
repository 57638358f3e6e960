import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lbie.metrics import ColorMeanIoU


def reference_mean_iou(y_true, y_pred, num_classes=7):
    matrix = np.zeros((num_classes, num_classes))
    np.add.at(matrix, (y_true.ravel(), y_pred.ravel()), 1)
    true_positives = np.diag(matrix)
    unions = matrix.sum(0) + matrix.sum(1) - true_positives
    present = unions > 0
    return np.mean(true_positives[present] / unions[present])


def test_hand_built_case():
    # Class 0: 1 / 1. Class 1: TP 1, FN 1 -> 1 / 2. Class 2: TP 1, FP 1
    # -> 1 / 2. Classes 3..6 never occur and are left out: (1 + .5 + .5) / 3.
    metric = ColorMeanIoU()
    metric.update_state(
        np.array([[[0, 1], [1, 2]]]), np.array([[[0, 1], [2, 2]]])
    )
    assert float(metric.result()) == np.float32(2 / 3)


def test_matches_numpy_reference_over_batches():
    rng = np.random.default_rng(0)
    metric = ColorMeanIoU()
    labels, preds = [], []
    for _ in range(3):
        y_true = rng.integers(0, 7, size=(4, 6, 6))
        y_pred = np.where(
            rng.random(y_true.shape) < 0.5,
            y_true,
            rng.integers(0, 7, (4, 6, 6)),
        )
        metric.update_state(y_true, y_pred)
        labels.append(y_true)
        preds.append(y_pred)
    expected = reference_mean_iou(np.stack(labels), np.stack(preds))
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)

    keras_metric = keras.metrics.MeanIoU(num_classes=7)
    keras_metric.update_state(np.stack(labels), np.stack(preds))
    assert float(metric.result()) == pytest.approx(float(keras_metric.result()))


def test_perfect_prediction_is_exactly_one():
    # A single pixel per class is where MeanIoU's epsilon shows.
    y_true = np.array([[[0, 1, 2]]])
    metric = ColorMeanIoU()
    metric.update_state(y_true, y_true)
    assert float(metric.result()) == 1.0
    random_labels = np.random.default_rng(1).integers(0, 7, size=(2, 6, 6))
    metric.update_state(random_labels, random_labels)
    assert float(metric.result()) == 1.0


def test_packed_labels_and_logits_are_equivalent():
    rng = np.random.default_rng(2)
    label = rng.integers(0, 7, size=(2, 6, 6))
    packed = np.stack([label, rng.integers(0, 10, size=label.shape)], -1)
    pred = rng.integers(0, 7, size=label.shape)
    logits = np.eye(7)[pred] * 5 + rng.normal(size=(2, 6, 6, 7))
    plain, other = ColorMeanIoU(), ColorMeanIoU()
    plain.update_state(label, pred)
    other.update_state(packed, logits.astype("float32"))
    np.testing.assert_array_equal(
        plain.total_cm.numpy(), other.total_cm.numpy()
    )


def test_sample_weight_per_image_and_per_pixel():
    rng = np.random.default_rng(3)
    label = rng.integers(0, 7, size=(2, 6, 6))
    pred = rng.integers(0, 7, size=(2, 6, 6))
    first_only = ColorMeanIoU()
    first_only.update_state(label[:1], pred[:1])
    per_image = ColorMeanIoU()
    per_image.update_state(label, pred, sample_weight=np.array([1, 0]))
    per_pixel = ColorMeanIoU()
    weights = np.zeros((2, 6, 6), "int32")
    weights[0] = 1
    per_pixel.update_state(label, pred, sample_weight=weights)
    for metric in (per_image, per_pixel):
        np.testing.assert_array_equal(
            metric.total_cm.numpy(), first_only.total_cm.numpy()
        )


def test_empty_state_and_reset_give_zero():
    metric = ColorMeanIoU()
    assert float(metric.result()) == 0.0
    metric.update_state(np.ones((1, 3, 3)), np.ones((1, 3, 3)))
    metric.reset_state()
    assert not metric.total_cm.numpy().any()
    assert float(metric.result()) == 0.0


def test_config_round_trip():
    metric = ColorMeanIoU(num_classes=5, name="colour", ignore_class=0)
    restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert isinstance(restored, ColorMeanIoU)
    assert restored.get_config() == metric.get_config()
    assert ColorMeanIoU.from_config(metric.get_config()).num_classes == 5


def test_jit_compiled_update_matches_eager():
    rng = np.random.default_rng(4)
    label = rng.integers(0, 7, size=(2, 6, 6, 2)).astype("int32")
    logits = rng.normal(size=(2, 6, 6, 7)).astype("float32")
    eager, compiled = ColorMeanIoU(), ColorMeanIoU()
    eager.update_state(label, logits)
    tf.function(compiled.update_state, jit_compile=True)(
        tf.constant(label), tf.constant(logits)
    )
    np.testing.assert_array_equal(
        compiled.total_cm.numpy(), eager.total_cm.numpy()
    )


@pytest.mark.parametrize(
    "y_true_shape, y_pred_shape, match",
    [
        ((2, 36), (2, 6, 6), "y_true"),
        ((2, 6, 6, 3), (2, 6, 6), "y_true"),
        ((2, 6, 6), (2, 36), "y_pred"),
        ((2, 6, 6), (2, 6, 6, 5), "num_classes"),
        ((2, 6, 6), (2, 6, 6, 1), "y_pred"),
        ((2, 6, 6, 2), (2, 6, 5), "y_pred"),
        ((2, 6, 6), (1, 6, 6, 7), "y_pred"),
    ],
)
def test_bad_shapes_raise(y_true_shape, y_pred_shape, match):
    with pytest.raises(ValueError, match=match):
        ColorMeanIoU().update_state(
            np.zeros(y_true_shape, "int32"), np.zeros(y_pred_shape, "int32")
        )
