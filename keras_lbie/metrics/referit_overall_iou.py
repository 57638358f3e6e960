"""The overall IoU of ReferIt segmentation (Chen et al., CVPR 2018, 4.2)."""

import keras
from keras import ops

from keras_lbie.metrics._referit import query_counts


@keras.saving.register_keras_serializable(package="keras_lbie")
class ReferItOverallIoU(keras.metrics.Metric):
    """Overall IoU: total intersection over total union of all queries.

    The first metric of the ReferIt experiment in Chen et al., "Language-
    Based Image Editing with Recurrent Attentive Models", CVPR 2018,
    Section 4.2 (after Hu et al., ECCV 2016): over every query (one image
    and one referring expression) seen since the last `reset_state()`, the
    metric accumulates the intersection `I = |GT ∩ predicted|` and the
    union `U = |GT ∪ predicted|` in pixels, and reports `ΣI / ΣU`. It is
    not the mean of per-query IoUs: large objects weigh more (a query with
    a 10,000-pixel union counts 100 times one with 100 pixels).
    `ReferItPrecisionAt` reports the mean IoU beside the precisions.

    For the paper's numbers, score at each image's original resolution:
    map predictions back with `keras_lbie.datasets.referit.
    unpad_and_resize` and compare with the original mask (`load_mask`), one
    query per `update_state` (sizes differ); `keras_lbie.training.
    evaluate_referit` does this. Used in `compile(metrics=...)` the metric
    sees the resized, padded square instead: padding is background in the
    truth, so it only counts where the model predicts the object there,
    but pixel counts are those of the resized image.

    Before any query with a non-empty union, `result()` is 0.0 (never NaN).
    Counts are accumulated in float64.

    Input format:
        `y_true`: `(batch, H, W)`, nonzero (or True) on the referred object
        (the masks of `referit.as_dataset`, or `load_mask`'s).
        `y_pred`: scores `(batch, H, W, 2)` (background, object; logits or
        probabilities: the object wins where its score is larger, ties go
        to the background) or a mask `(batch, H, W)`, nonzero on the object
        (threshold probabilities first).
        `sample_weight`: optional, a scalar or one weight per query
        `(batch,)`, weighting its `I` and `U`.

    Args:
        name: name of the metric.
        dtype: dtype of the result.

    Example:
    >>> metric = ReferItOverallIoU()
    >>> metric.update_state(
    ...     np.array([[[1, 1, 0, 0]]]), np.array([[[1, 0, 0, 0]]])
    ... )  # I = 1, U = 2
    >>> metric.update_state(
    ...     np.array([[[1, 1, 1, 1]]]), np.array([[[1, 1, 1, 1]]])
    ... )  # I = 4, U = 4
    >>> float(metric.result())  # (1 + 4) / (2 + 4); the mean IoU is 0.75
    0.8333333333333334
    """

    def __init__(self, name="referit_overall_iou", dtype=None):
        super().__init__(name=name, dtype=dtype)
        # Higher is better; callbacks in mode "auto" read this.
        self._direction = "up"
        self.intersection = self.add_variable(
            shape=(), initializer="zeros", dtype="float64", name="intersection"
        )
        self.union = self.add_variable(
            shape=(), initializer="zeros", dtype="float64", name="union"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        intersections, unions, weights = query_counts(
            y_true, y_pred, sample_weight
        )
        self.intersection.assign_add(ops.sum(weights * intersections))
        self.union.assign_add(ops.sum(weights * unions))

    def result(self):
        seen = ops.greater(self.union, 0.0)
        iou = ops.where(
            seen, self.intersection / ops.where(seen, self.union, 1.0), 0.0
        )
        return ops.cast(iou, self.dtype)

    def reset_state(self):
        self.intersection.assign(ops.zeros_like(self.intersection))
        self.union.assign(ops.zeros_like(self.union))
