import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lbie.datasets.cosal import NUM_CLASSES
from keras_lbie.datasets.cosal import SHAPE_NAMES
from keras_lbie.metrics import ColorMeanIoU
from keras_lbie.metrics import CoSaLRegionIoU
from tests.test_case import two_replica_strategy

REGION_KEYS = ["cosal_region_iou_background"] + [
    "cosal_region_iou_" + name.replace(" ", "_") for name in SHAPE_NAMES
]

# A 6x6 image, 2-px tiles. Tile t (row-major) holds shape t + 1.
HAND_LABEL = np.array(
    [
        [1, 1, 0, 0, 0, 0],
        [1, 1, 2, 0, 0, 3],
        [0, 0, 0, 0, 0, 0],
        [4, 0, 0, 5, 6, 0],
        [0, 1, 0, 0, 0, 0],
        [0, 0, 2, 2, 3, 0],
    ]
)
HAND_SHAPE_MAP = np.array(
    [
        [1, 1, 0, 0, 0, 0],
        [1, 1, 2, 0, 0, 3],
        [0, 0, 0, 0, 0, 0],
        [4, 0, 0, 5, 6, 0],
        [0, 7, 0, 0, 0, 0],
        [0, 0, 8, 8, 9, 0],
    ]
)
HAND_PRED = np.array(
    [
        [1, 1, 0, 0, 3, 0],
        [1, 0, 2, 2, 0, 0],
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 5, 6, 0],
        [0, 1, 0, 0, 0, 3],
        [3, 0, 2, 0, 3, 1],
    ]
)
# Region: GT pixels; predicted pixels (true colour, own tile) -> I / U.
# background: 23 px labelled 0; 22 px predicted 0; 18 in both -> 18 / 27.
# 1 rectangle (colour 1): 4 px; tile 0 predicts 1 on 3 of them -> 3 / 4.
# 2 half fat ellipse (2): (1,2); tile 1 predicts 2 at (1,2), (1,3) -> 1 / 2.
# 3 fat ellipse (3): (1,5); tile 2 predicts 3 only at (0,4) -> 0 / 2.
# 4 triangle (4): (3,0); no 4 predicted -> 0 / 1.
# 5 reverse triangle (5): (3,3) predicted 5 -> 1 / 1.
# 6 thin ellipse (6): (3,4) predicted 6 -> 1 / 1.
# 7 half thin ellipse (1): (4,1) predicted 1 -> 1 / 1; the 1 at (5,5) lies
#   in tile 8 and does not count.
# 8 diamond (2): (5,2), (5,3); tile 7 predicts 2 at (5,2) -> 1 / 2.
# 9 circle (3): (5,4); tile 8 predicts 3 at (4,5), (5,4) -> 1 / 2; the 3 at
#   (5,0) lies in tile 6 and does not count.
HAND_I = [18, 3, 1, 0, 0, 1, 1, 1, 1, 1]
HAND_U = [27, 4, 2, 2, 1, 1, 1, 1, 2, 2]
HAND_IOU = [2 / 3, 3 / 4, 1 / 2, 0, 0, 1, 1, 1, 1 / 2, 1 / 2]
HAND_MEAN = 71 / 120  # (2/3 + 3/4 + 1/2 + 0 + 0 + 1 + 1 + 1 + 1/2 + 1/2) / 10


def pack(label, shape_map):
    return np.stack([label, shape_map], axis=-1).astype("int32")


def random_scenes(rng, batch, size=6):
    """CoSaL-like scenes: one single-colour rectangle per tile."""
    tile = size // 3
    label = np.zeros((batch, size, size), "int32")
    shape_map = np.zeros((batch, size, size), "int32")
    for b in range(batch):
        for t, shape_id in enumerate(rng.permutation(9) + 1):
            h, w = rng.integers(1, tile + 1, size=2)
            top = (t // 3) * tile + rng.integers(0, tile - h + 1)
            left = (t % 3) * tile + rng.integers(0, tile - w + 1)
            label[b, top : top + h, left : left + w] = rng.integers(1, 7)
            shape_map[b, top : top + h, left : left + w] = shape_id
    return label, shape_map


def noisy(rng, label, rate=0.3):
    noise = rng.integers(0, NUM_CLASSES, size=label.shape)
    return np.where(rng.random(label.shape) < rate, noise, label)


def reference_counts(label, shape_map, pred):
    """The paper's definition, one image and one shape at a time."""
    tile = label.shape[1] // 3
    inter = np.zeros(10)
    union = np.zeros(10)
    for lab, shapes, prd in zip(label, shape_map, pred, strict=True):
        inter[0] += np.sum((lab == 0) & (prd == 0))
        union[0] += np.sum((lab == 0) | (prd == 0))
        for k in range(1, 10):
            truth = shapes == k
            rows, cols = np.nonzero(truth)
            top, left = rows[0] // tile * tile, cols[0] // tile * tile
            own_tile = np.zeros_like(truth)
            own_tile[top : top + tile, left : left + tile] = True
            predicted = own_tile & (prd == lab[truth][0])
            inter[k] += np.sum(truth & predicted)
            union[k] += np.sum(truth | predicted)
    return inter, union


def region_ious(metric):
    result = metric.result()
    return [float(result[key]) for key in REGION_KEYS]


def test_hand_built_case():
    metric = CoSaLRegionIoU()
    metric.update_state(pack(HAND_LABEL, HAND_SHAPE_MAP)[None], HAND_PRED[None])
    np.testing.assert_array_equal(metric.intersections.numpy(), HAND_I)
    np.testing.assert_array_equal(metric.unions.numpy(), HAND_U)
    np.testing.assert_array_equal(
        region_ious(metric), np.float32(HAND_IOU).tolist()
    )
    assert float(metric.result()["cosal_region_iou"]) == np.float32(HAND_MEAN)


def test_result_keys_and_dtype():
    result = CoSaLRegionIoU(name="iou").result()
    assert list(result) == ["iou"] + [
        k.replace("cosal_region_iou", "iou") for k in REGION_KEYS
    ]
    assert all(v.dtype == "float32" for v in result.values())


def test_accumulates_over_set_not_per_batch():
    # Tile t holds shape t + 1 with colour 1 at its top-left pixel.
    base_label = np.zeros((6, 6), "int32")
    base_shapes = np.zeros((6, 6), "int32")
    for t in range(9):
        base_label[t // 3 * 2, t % 3 * 2] = 1
        base_shapes[t // 3 * 2, t % 3 * 2] = t + 1
    # Batch A: the rectangle fills tile 0 (4 px), perfectly predicted.
    label_a, shapes_a = base_label.copy(), base_shapes.copy()
    label_a[:2, :2], shapes_a[:2, :2] = 1, 1
    batch_a = (pack(label_a, shapes_a)[None], label_a[None])
    # Batch B: the rectangle is 1 px and predicted as background.
    pred_b = base_label.copy()
    pred_b[0, 0] = 0
    batch_b = (pack(base_label, base_shapes)[None], pred_b[None])

    metric = CoSaLRegionIoU()
    metric.update_state(*batch_a)
    mean_a = float(metric.result()["cosal_region_iou"])
    metric.reset_state()
    metric.update_state(*batch_b)
    mean_b = float(metric.result()["cosal_region_iou"])
    metric.reset_state()
    metric.update_state(*batch_a)
    metric.update_state(*batch_b)

    # Rectangle: A 4/4, B 0/1 -> 4/5 overall (per-batch mean: 1/2).
    # Background: A 24/24, B 27/28 -> 51/52 overall.
    np.testing.assert_array_equal(metric.intersections.numpy()[:2], [51, 4])
    np.testing.assert_array_equal(metric.unions.numpy()[:2], [52, 5])
    assert region_ious(metric)[1] == np.float32(4 / 5)
    expected = (51 / 52 + 4 / 5 + 8) / 10
    assert mean_a == 1.0
    assert mean_b == np.float32((27 / 28 + 0 + 8) / 10)
    assert float(metric.result()["cosal_region_iou"]) == np.float32(expected)
    assert abs(expected - (mean_a + mean_b) / 2) > 1e-3


def test_right_colour_in_another_tile_does_not_count():
    label, shape_map = random_scenes(np.random.default_rng(1), 1)
    rectangle = shape_map[0] == 1
    colour = label[0][rectangle][0]
    rows, cols = np.nonzero(rectangle)
    top, left = rows[0] // 2 * 2, cols[0] // 2 * 2
    own_tile = np.zeros((6, 6), bool)
    own_tile[top : top + 2, left : left + 2] = True
    # The rectangle's colour everywhere but in its own tile.
    pred = np.where(own_tile, 0, colour)[None]
    metric = CoSaLRegionIoU()
    metric.update_state(pack(label, shape_map), pred)
    assert metric.intersections.numpy()[1] == 0
    assert metric.unions.numpy()[1] == rectangle.sum()


def test_matches_reference_on_random_scenes():
    rng = np.random.default_rng(2)
    metric = CoSaLRegionIoU()
    inter, union = np.zeros(10), np.zeros(10)
    for size in (6, 9):
        label, shape_map = random_scenes(rng, 4, size)
        pred = noisy(rng, label)
        metric.update_state(pack(label, shape_map), pred)
        batch_inter, batch_union = reference_counts(label, shape_map, pred)
        inter += batch_inter
        union += batch_union
    np.testing.assert_array_equal(metric.intersections.numpy(), inter)
    np.testing.assert_array_equal(metric.unions.numpy(), union)
    np.testing.assert_allclose(region_ious(metric), inter / union, rtol=1e-6)
    np.testing.assert_allclose(
        float(metric.result()["cosal_region_iou"]),
        np.mean(inter / union),
        rtol=1e-6,
    )


def test_perfect_prediction_is_exactly_one():
    label, shape_map = random_scenes(np.random.default_rng(3), 3)
    metric = CoSaLRegionIoU()
    metric.update_state(pack(label, shape_map), label)
    assert all(float(v) == 1.0 for v in metric.result().values())


def test_logits_equal_class_ids():
    rng = np.random.default_rng(4)
    label, shape_map = random_scenes(rng, 3)
    pred = noisy(rng, label)
    logits = np.eye(NUM_CLASSES)[pred] * 5 + rng.normal(size=(3, 6, 6, 7))
    from_ids, from_logits = CoSaLRegionIoU(), CoSaLRegionIoU()
    from_ids.update_state(pack(label, shape_map), pred)
    from_logits.update_state(pack(label, shape_map), logits.astype("float32"))
    assert region_ious(from_ids) == region_ious(from_logits)


def test_sample_weight():
    rng = np.random.default_rng(5)
    label, shape_map = random_scenes(rng, 2)
    y_true, pred = pack(label, shape_map), noisy(rng, label)
    first_only = CoSaLRegionIoU()
    first_only.update_state(y_true[:1], pred[:1])
    per_image = CoSaLRegionIoU()
    per_image.update_state(y_true, pred, sample_weight=np.array([2.0, 0.0]))
    np.testing.assert_array_equal(
        per_image.unions.numpy(), 2 * first_only.unions.numpy()
    )
    per_pixel = CoSaLRegionIoU()
    weights = np.zeros((2, 6, 6))
    weights[0] = 1.0
    per_pixel.update_state(y_true, pred, sample_weight=weights)
    assert region_ious(per_pixel) == region_ious(first_only)


def test_empty_state_and_reset_give_zero_not_nan():
    metric = CoSaLRegionIoU()
    assert all(float(v) == 0.0 for v in metric.result().values())
    label, shape_map = random_scenes(np.random.default_rng(6), 2)
    metric.update_state(pack(label, shape_map), label)
    metric.reset_state()
    assert not metric.intersections.numpy().any()
    assert not metric.unions.numpy().any()
    assert all(float(v) == 0.0 for v in metric.result().values())


def test_unseen_region_is_left_out_of_the_mean():
    # 3x3 image, 1-px tiles: shapes 1..8 in tiles 0..7, tile 8 is background,
    # so the circle (9) is never seen. The rectangle is predicted wrong.
    label = np.array([[1, 2, 3], [4, 5, 6], [1, 2, 0]])
    shape_map = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 0]])
    pred = label.copy()
    pred[0, 0] = 2
    metric = CoSaLRegionIoU()
    metric.update_state(pack(label, shape_map)[None], pred[None])
    result = metric.result()
    assert float(result["cosal_region_iou_circle"]) == 0.0
    assert float(result["cosal_region_iou_rectangle"]) == 0.0
    # Eight regions at 1 (background and shapes 2..8), the rectangle at 0.
    assert float(result["cosal_region_iou"]) == np.float32(8 / 9)


def test_config_round_trip():
    metric = CoSaLRegionIoU(grid_size=2, name="iou")
    restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert isinstance(restored, CoSaLRegionIoU)
    assert restored.get_config() == metric.get_config()
    assert restored.grid_size == 2
    assert CoSaLRegionIoU.from_config(metric.get_config()).name == "iou"


def test_jit_compiled_update_matches_eager():
    rng = np.random.default_rng(7)
    label, shape_map = random_scenes(rng, 2)
    y_true, pred = pack(label, shape_map), noisy(rng, label)
    eager, compiled = CoSaLRegionIoU(), CoSaLRegionIoU()
    eager.update_state(y_true, pred)
    tf.function(compiled.update_state, jit_compile=True)(
        tf.constant(y_true), tf.constant(pred, "int32")
    )
    np.testing.assert_array_equal(compiled.unions.numpy(), eager.unions.numpy())
    np.testing.assert_array_equal(
        compiled.intersections.numpy(), eager.intersections.numpy()
    )


def packed_label_loss(y_true, y_pred):
    return keras.losses.sparse_categorical_crossentropy(
        y_true[..., 0], y_pred, from_logits=True
    )


def tiny_model_data():
    rng = np.random.default_rng(8)
    label, shape_map = random_scenes(rng, 8)
    x = rng.normal(size=(8, 6, 6, 3)).astype("float32")
    return x, pack(label, shape_map)


def compiled_tiny_model(**compile_kwargs):
    model = keras.Sequential(
        [keras.Input((6, 6, 3)), keras.layers.Conv2D(7, 1)]
    )
    model.compile(
        "sgd",
        packed_label_loss,
        metrics=[CoSaLRegionIoU(), ColorMeanIoU()],
        **compile_kwargs,
    )
    return model


def assert_logs_match_plain_loop(model, x, y):
    logs = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    assert {"cosal_region_iou", "color_mean_iou", *REGION_KEYS} <= set(logs)
    logits = model.predict(x, batch_size=4, verbose=0)
    region, colour = CoSaLRegionIoU(), ColorMeanIoU()
    for start in (0, 4):
        batch = slice(start, start + 4)
        region.update_state(y[batch], logits[batch])
        colour.update_state(y[batch], logits[batch])
    for key, value in region.result().items():
        assert logs[key] == pytest.approx(float(value), abs=1e-6)
    assert logs["color_mean_iou"] == pytest.approx(float(colour.result()))


def test_compile_fit_and_evaluate():
    x, y = tiny_model_data()
    model = compiled_tiny_model(jit_compile=True)
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert set(REGION_KEYS) <= set(history.history)
    assert_logs_match_plain_loop(model, x, y)


def test_evaluate_under_mirrored_strategy():
    x, y = tiny_model_data()
    strategy = two_replica_strategy()
    with strategy.scope():
        model = compiled_tiny_model()
    # Each replica sees half of every batch: the sums must still add up.
    assert_logs_match_plain_loop(model, x, y)


@pytest.mark.parametrize(
    "y_true_shape, y_pred_shape, match",
    [
        ((2, 6, 6), (2, 6, 6), "y_true"),
        ((2, 6, 6, 3), (2, 6, 6), "y_true"),
        ((2, 6, 6, 2), (2, 36), "y_pred"),
        ((2, 6, 6, 2), (2, 6, 6, 1), "y_pred"),
        ((2, 6, 6, 2), (3, 6, 6, 7), "y_pred"),
        ((2, 6, 6, 2), (2, 6, 3), "y_pred"),
        ((2, 4, 6, 2), (2, 4, 6), "grid_size"),
        ((2, 6, 8, 2), (2, 6, 8, 7), "grid_size"),
    ],
)
def test_bad_shapes_raise(y_true_shape, y_pred_shape, match):
    with pytest.raises(ValueError, match=match):
        CoSaLRegionIoU().update_state(
            np.zeros(y_true_shape, "int32"), np.zeros(y_pred_shape, "int32")
        )


def test_bad_sample_weight_raises():
    with pytest.raises(ValueError, match="sample_weight"):
        CoSaLRegionIoU().update_state(
            np.zeros((2, 6, 6, 2), "int32"),
            np.zeros((2, 6, 6), "int32"),
            sample_weight=np.ones((2, 6)),
        )


@pytest.mark.parametrize("grid_size", [0, -3, 2.5])
def test_bad_grid_size_is_rejected(grid_size):
    with pytest.raises(ValueError, match="grid_size"):
        CoSaLRegionIoU(grid_size=grid_size)
