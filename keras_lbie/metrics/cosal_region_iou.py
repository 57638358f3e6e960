"""The CoSaL region IoU of Chen et al. (CVPR 2018), Section 4.1."""

import keras
from keras import ops

from keras_lbie.datasets.cosal import GRID_SIZE
from keras_lbie.datasets.cosal import SHAPE_NAMES
from keras_lbie.metrics._inputs import class_predictions
from keras_lbie.metrics._inputs import pixel_weights
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_spatial_match

_NUM_REGIONS = len(SHAPE_NAMES) + 1


@keras.saving.register_keras_serializable(package="keras_lbie")
class CoSaLRegionIoU(keras.metrics.Metric):
    """Mean IoU over the nine CoSaL shapes and the background.

    The evaluation metric of the CoSaL experiment in Chen et al., "Language-
    Based Image Editing with Recurrent Attentive Models", CVPR 2018,
    Section 4.1 ("Metric"). There are ten regions: the background and the
    nine shape types of `keras_lbie.datasets.cosal.SHAPE_NAMES`. Over every
    image seen since the last `reset_state()` the metric accumulates, per
    region, the intersection `I = |GT ∩ predicted|` and the union
    `U = |GT ∪ predicted|` in pixels; the IoU of a region is `ΣI / ΣU` over
    the whole set (not an average of per-batch IoUs), and the metric is the
    mean of the ten IoUs.

    - Shape `k`: the ground truth is the pixels with `shape_map == k`; the
      prediction is the pixels of the grid tile that holds shape `k` in that
      image whose predicted class equals the shape's true colour (the label
      on its pixels). A right colour in another tile does not count.
    - Background: the ground truth is the pixels labelled 0, the prediction
      is every pixel predicted 0.

    A region whose accumulated union is still 0 (it was neither present nor
    predicted in anything seen so far) has no defined IoU: it reports 0.0
    and is left out of the mean, as in `keras.metrics.MeanIoU`; the mean of
    no regions is 0.0. `result()` is therefore never NaN. On CoSaL every
    image contains all nine shapes and some background, so after the first
    update all ten regions count.

    Counts are accumulated in float64, which is exact for integer pixel
    counts far beyond any CoSaL test set, and allows fractional weights.

    Input format:
        `y_true`: integer tensor `(batch, H, W, 2)` stacking `[label,
        shape_map]` on the last axis, the form yielded by the CoSaL
        `as_dataset(..., with_shape_map=True)`. `label` holds the colour
        class per pixel (0 white background, 1..6 palette colours);
        `shape_map` the shape id per pixel (0 background, `k + 1` for
        `SHAPE_NAMES[k]`). Each of the `grid_size × grid_size` tiles holds
        exactly one shape, painted in a single colour.
        `y_pred`: class scores `(batch, H, W, num_classes)` (logits or
        probabilities; the argmax is taken) or integer class predictions
        `(batch, H, W)`.
        `sample_weight`: optional, a scalar, per-image `(batch,)` or
        per-pixel `(batch, H, W)`; it weights each pixel's contribution to
        `I` and `U`.
        `H` and `W` must be multiples of `grid_size`.

    Args:
        grid_size: number of tiles per side of the image grid.
        name: name of the metric; also the prefix of the per-region keys.
        dtype: dtype of the result.

    `result()` returns a dict: `{name: mean IoU, f"{name}_background": ...,
    f"{name}_{shape}": ...}` with spaces in shape names replaced by
    underscores (e.g. `cosal_region_iou_half_fat_ellipse`). In
    `model.compile(metrics=[...])` Keras adds each entry to the logs.

    Example:
    >>> metric = CoSaLRegionIoU()
    >>> # y_true (B, 48, 48, 2) [label, shape_map], logits (B, 48, 48, 7)
    >>> metric.update_state(y_true, logits)
    >>> metric.result()["cosal_region_iou"]  # the paper's average IoU
    >>> model.compile(optimizer, loss, metrics=[CoSaLRegionIoU()])
    """

    def __init__(
        self, grid_size=GRID_SIZE, name="cosal_region_iou", dtype=None
    ):
        super().__init__(name=name, dtype=dtype)
        check_positive_int(grid_size, "grid_size")
        self.grid_size = grid_size
        # Higher is better; callbacks in mode "auto" read this.
        self._direction = "up"
        self.intersections = self.add_variable(
            shape=(_NUM_REGIONS,),
            initializer="zeros",
            dtype="float64",
            name="intersections",
        )
        self.unions = self.add_variable(
            shape=(_NUM_REGIONS,),
            initializer="zeros",
            dtype="float64",
            name="unions",
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        if len(y_true.shape) != 4 or y_true.shape[-1] != 2:
            raise ValueError(
                "`y_true` must have shape (batch, H, W, 2) stacking [label, "
                f"shape_map]; got shape {tuple(y_true.shape)}."
            )
        check_spatial_match(y_true.shape[:3], y_pred)
        self._check_grid(y_true.shape)
        y_true = ops.cast(y_true, "int32")
        label = y_true[..., 0]
        shape_map = y_true[..., 1]
        pred = class_predictions(y_pred)
        weights = pixel_weights(sample_weight, label, "float64")

        tile = self._tile_index(ops.shape(label)[1], ops.shape(label)[2])
        tile = tile[None, :, :, None]
        # Region index k (1..9) is the shape id, so it lines up with
        # `shape_map` and index 0 is free for the background.
        in_shape = ops.equal(
            shape_map[..., None], ops.arange(1, _NUM_REGIONS, dtype="int32")
        )
        # Per image and shape: its tile and its true colour (-1 if absent,
        # which matches no tile and no class, so it adds nothing).
        shape_tile = ops.max(ops.where(in_shape, tile, -1), axis=(1, 2))
        shape_colour = ops.max(
            ops.where(in_shape, label[..., None], -1), axis=(1, 2)
        )
        predicted = ops.logical_and(
            ops.equal(tile, shape_tile[:, None, None, :]),
            ops.equal(pred[..., None], shape_colour[:, None, None, :]),
        )
        region_true = ops.concatenate(
            [ops.equal(label, 0)[..., None], in_shape], axis=-1
        )
        region_pred = ops.concatenate(
            [ops.equal(pred, 0)[..., None], predicted], axis=-1
        )

        weights = weights[..., None]
        intersection = ops.sum(
            weights
            * ops.cast(ops.logical_and(region_true, region_pred), "float64"),
            axis=(0, 1, 2),
        )
        union = ops.sum(
            weights
            * ops.cast(ops.logical_or(region_true, region_pred), "float64"),
            axis=(0, 1, 2),
        )
        self.intersections.assign_add(intersection)
        self.unions.assign_add(union)

    def result(self):
        seen = ops.greater(self.unions, 0.0)
        iou = ops.where(
            seen, self.intersections / ops.where(seen, self.unions, 1.0), 0.0
        )
        num_seen = ops.sum(ops.cast(seen, "float64"))
        mean = ops.sum(iou) / ops.maximum(num_seen, 1.0)
        results = {self.name: ops.cast(mean, self.dtype)}
        region_names = ("background",) + SHAPE_NAMES
        for index, region in enumerate(region_names):
            key = f"{self.name}_{region.replace(' ', '_')}"
            results[key] = ops.cast(iou[index], self.dtype)
        return results

    def reset_state(self):
        self.intersections.assign(ops.zeros_like(self.intersections))
        self.unions.assign(ops.zeros_like(self.unions))

    def get_config(self):
        return {**super().get_config(), "grid_size": self.grid_size}

    def _check_grid(self, shape):
        for axis, size in (("H", shape[1]), ("W", shape[2])):
            if size is not None and size % self.grid_size:
                raise ValueError(
                    f"`y_true` {axis} = {size} must be a multiple of "
                    f"grid_size = {self.grid_size}; got shape {tuple(shape)}."
                )

    def _tile_index(self, height, width):
        rows = ops.arange(height, dtype="int32") // (height // self.grid_size)
        cols = ops.arange(width, dtype="int32") // (width // self.grid_size)
        return rows[:, None] * self.grid_size + cols[None, :]
