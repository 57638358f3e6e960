"""Precision@threshold of ReferIt segmentation (Chen et al., CVPR 2018)."""

import numbers

import keras
from keras import ops

from keras_lbie.metrics._referit import query_counts

# The thresholds of the paper's Table 3 (and Hu et al., ECCV 2016).
PAPER_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def _check_thresholds(thresholds):
    if isinstance(thresholds, (str, bytes)) or not hasattr(
        thresholds, "__iter__"
    ):
        raise TypeError(
            "`thresholds` must be a sequence of floats in [0, 1]. Received: "
            f"{thresholds!r}"
        )
    thresholds = tuple(thresholds)
    if not thresholds:
        raise ValueError("`thresholds` must not be empty.")
    for threshold in thresholds:
        if isinstance(threshold, bool) or not isinstance(
            threshold, numbers.Real
        ):
            raise TypeError(
                f"`thresholds` entries must be floats. Received: {threshold!r}"
            )
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(
                f"`thresholds` entries must be in [0, 1]. Received: {threshold}"
            )
    if len(set(thresholds)) != len(thresholds):
        raise ValueError(
            f"`thresholds` must not repeat a value. Received: {thresholds}"
        )
    return tuple(float(threshold) for threshold in thresholds)


@keras.saving.register_keras_serializable(package="keras_lbie")
class ReferItPrecisionAt(keras.metrics.Metric):
    """Share of queries whose IoU reaches each threshold; and the mean IoU.

    The precision@threshold of the ReferIt experiment in Chen et al.,
    "Language-Based Image Editing with Recurrent Attentive Models", CVPR
    2018, Section 4.2 and Table 3 (after Hu et al., ECCV 2016): "the
    percentage of test data whose (per image) IoU between prediction and
    ground truth is above the threshold", thresholds 0.5 ... 0.9. A query
    (one image and one referring expression) counts as correct at `t` when
    its IoU `|GT ∩ predicted| / |GT ∪ predicted|` is >= `t` (as Hu et
    al.'s evaluation code compares). A query whose truth and prediction are
    both empty has IoU 1 (it cannot occur in ReferIt, whose objects are
    never empty). The metric also reports the mean per-query IoU, which
    the paper does not; the paper's IoU column is `ReferItOverallIoU`.

    Score at the original image resolution for the paper's numbers; see
    `ReferItOverallIoU` for what `compile(metrics=...)` measures instead.
    Before any query, every entry is 0.0 (never NaN).

    Input format: as `ReferItOverallIoU`: `y_true` `(batch, H, W)` object
    masks, `y_pred` scores `(batch, H, W, 2)` or masks `(batch, H, W)`,
    `sample_weight` a scalar or one weight per query `(batch,)` (a weight
    of 0 leaves the query out).

    Args:
        thresholds: non-empty sequence of distinct floats in [0, 1].
        name: name of the metric; the prefix of the result keys.
        dtype: dtype of the result.

    `result()` returns a dict: `{f"{name}@{t:g}": share of queries with
    IoU >= t, ..., f"{name}_mean_iou": mean IoU}`, e.g.
    `referit_precision@0.5`. In `model.compile(metrics=[...])` Keras adds
    each entry to the logs.

    Example:
    >>> metric = ReferItPrecisionAt()
    >>> metric.update_state(
    ...     np.array([[[1, 1, 0, 0]], [[1, 1, 1, 1]]]),
    ...     np.array([[[1, 0, 0, 0]], [[1, 1, 1, 0]]]),
    ... )  # IoUs 0.5 and 0.75
    >>> metric.result()
    {'referit_precision@0.5': 1.0, 'referit_precision@0.6': 0.5,
     'referit_precision@0.7': 0.5, 'referit_precision@0.8': 0.0,
     'referit_precision@0.9': 0.0, 'referit_precision_mean_iou': 0.625}
    """

    def __init__(
        self, thresholds=PAPER_THRESHOLDS, name="referit_precision", dtype=None
    ):
        super().__init__(name=name, dtype=dtype)
        self.thresholds = _check_thresholds(thresholds)
        self._direction = "up"
        self.hits = self.add_variable(
            shape=(len(self.thresholds),),
            initializer="zeros",
            dtype="float64",
            name="hits",
        )
        self.queries = self.add_variable(
            shape=(), initializer="zeros", dtype="float64", name="queries"
        )
        self.iou_sum = self.add_variable(
            shape=(), initializer="zeros", dtype="float64", name="iou_sum"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        intersections, unions, weights = query_counts(
            y_true, y_pred, sample_weight
        )
        nonempty = ops.greater(unions, 0.0)
        iou = ops.where(
            nonempty, intersections / ops.where(nonempty, unions, 1.0), 1.0
        )
        thresholds = ops.convert_to_tensor(self.thresholds, dtype="float64")
        reached = ops.cast(
            ops.greater_equal(iou[:, None], thresholds[None, :]), "float64"
        )
        self.hits.assign_add(ops.sum(weights[:, None] * reached, axis=0))
        self.queries.assign_add(ops.sum(weights))
        self.iou_sum.assign_add(ops.sum(weights * iou))

    def result(self):
        seen = ops.greater(self.queries, 0.0)
        count = ops.where(seen, self.queries, 1.0)
        precision = ops.where(seen, self.hits / count, 0.0)
        results = {
            f"{self.name}@{threshold:g}": ops.cast(precision[i], self.dtype)
            for i, threshold in enumerate(self.thresholds)
        }
        results[f"{self.name}_mean_iou"] = ops.cast(
            ops.where(seen, self.iou_sum / count, 0.0), self.dtype
        )
        return results

    def reset_state(self):
        for variable in (self.hits, self.queries, self.iou_sum):
            variable.assign(ops.zeros_like(variable))

    def get_config(self):
        return {**super().get_config(), "thresholds": list(self.thresholds)}
