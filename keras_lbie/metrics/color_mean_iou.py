"""Per-pixel colour-class mean IoU for CoSaL-style colourisation."""

import keras
from keras import ops

from keras_lbie.datasets.cosal import NUM_CLASSES
from keras_lbie.metrics._inputs import class_predictions
from keras_lbie.metrics._inputs import pixel_weights
from keras_lbie.utils.validation import check_spatial_match


@keras.saving.register_keras_serializable(package="keras_lbie")
class ColorMeanIoU(keras.metrics.MeanIoU):
    """Mean IoU of the colour classes, over all pixels of the evaluated set.

    The second number reported for the CoSaL experiment of Chen et al.,
    "Language-Based Image Editing with Recurrent Attentive Models",
    CVPR 2018, Section 4.1, next to the paper's `CoSaLRegionIoU`: a
    `num_classes × num_classes` confusion matrix is accumulated over every
    pixel seen since the last `reset_state()`; per class
    `IoU = TP / (TP + FP + FN)`, and the result is the mean over the classes
    present in the ground truth or the prediction, as in
    `keras.metrics.MeanIoU` (which this extends with CoSaL's input formats).
    Unlike `MeanIoU` the division is exact (no epsilon), so a perfect
    prediction scores exactly 1.0; with nothing seen the result is 0.0.

    Input format:
        `y_true`: integer colour labels `(batch, H, W)` (0 white background,
        1..6 palette colours), or the packed CoSaL `(batch, H, W, 2)`
        `[label, shape_map]` from `as_dataset(..., with_shape_map=True)`, of
        which only the label channel is used.
        `y_pred`: class scores `(batch, H, W, num_classes)` (logits or
        probabilities; the argmax is taken) or class ids `(batch, H, W)`.
        `sample_weight`: optional, a scalar, per-image `(batch,)` or
        per-pixel `(batch, H, W)`. The confusion matrix is an integer one by
        default: pass `dtype="float32"` for fractional weights.

    Args:
        num_classes: number of colour classes, background included.
        name: name of the metric.
        dtype: dtype of the confusion matrix (`keras.metrics.MeanIoU`'s
            default is an integer type).
        ignore_class: optional class id of `y_true` left out of the matrix.

    Example:
    >>> metric = ColorMeanIoU()
    >>> # y_true (B, 48, 48) or (B, 48, 48, 2), logits (B, 48, 48, 7)
    >>> metric.update_state(y_true, logits)
    >>> metric.result()
    >>> model.compile(optimizer, loss, metrics=[ColorMeanIoU()])
    """

    def __init__(
        self,
        num_classes=NUM_CLASSES,
        name="color_mean_iou",
        dtype=None,
        ignore_class=None,
    ):
        super().__init__(
            num_classes=num_classes,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        true_shape = tuple(y_true.shape)
        if len(true_shape) == 4 and true_shape[-1] == 2:
            y_true = y_true[..., 0]
        elif len(true_shape) != 3:
            raise ValueError(
                "`y_true` must be labels (batch, H, W) or the packed "
                f"(batch, H, W, 2) [label, shape_map]; got shape {true_shape}."
            )
        check_spatial_match(y_true.shape, y_pred)
        if len(y_pred.shape) == 4 and y_pred.shape[-1] not in (
            None,
            self.num_classes,
        ):
            raise ValueError(
                f"`y_pred` scores must have num_classes = {self.num_classes} "
                f"channels; got shape {tuple(y_pred.shape)}."
            )
        if sample_weight is not None:
            sample_weight = ops.convert_to_tensor(sample_weight)
            sample_weight = pixel_weights(
                sample_weight, y_true, sample_weight.dtype
            )
        return super().update_state(
            y_true, class_predictions(y_pred), sample_weight=sample_weight
        )

    def result(self):
        matrix = ops.cast(self.total_cm, "float64")
        true_positives = ops.diagonal(matrix)
        unions = ops.sum(matrix, axis=0) + ops.sum(matrix, axis=1)
        unions = unions - true_positives
        present = ops.greater(unions, 0.0)
        iou = ops.where(
            present, true_positives / ops.where(present, unions, 1.0), 0.0
        )
        num_present = ops.maximum(ops.sum(ops.cast(present, "float64")), 1.0)
        return ops.cast(ops.sum(iou) / num_present, "float32")

    def get_config(self):
        config = super().get_config()
        # The input encoding is inferred from the ranks, so these
        # `MeanIoU` options are fixed and not constructor arguments.
        for key in ("sparse_y_true", "sparse_y_pred", "axis"):
            del config[key]
        return config
