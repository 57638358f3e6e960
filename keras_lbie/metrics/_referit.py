"""Per-query counts shared by the ReferIt metrics."""

from keras import ops

from keras_lbie.utils.validation import check_spatial_match


def query_counts(y_true, y_pred, sample_weight):
    """Per-query intersections, unions and weights, float64 `(batch,)` each.

    Args:
        y_true: `(batch, H, W)`, nonzero (or True) on the referred object.
        y_pred: two scores `(batch, H, W, 2)` (background, object; the
            object where its score is the larger, ties to the background)
            or a mask `(batch, H, W)`, nonzero on the object.
        sample_weight: None, a scalar or `(batch,)`: one weight per query.
    """
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.convert_to_tensor(y_pred)
    if len(y_true.shape) != 3:
        raise ValueError(
            "`y_true` must be object masks (batch, H, W); got shape "
            f"{tuple(y_true.shape)}."
        )
    check_spatial_match(y_true.shape, y_pred)
    if len(y_pred.shape) == 4:
        if y_pred.shape[-1] != 2:
            raise ValueError(
                "`y_pred` of rank 4 must hold two scores per pixel "
                f"(background, object); got shape {tuple(y_pred.shape)}."
            )
        predicted = ops.greater(y_pred[..., 1], y_pred[..., 0])
    else:
        predicted = ops.not_equal(y_pred, ops.zeros_like(y_pred))
    truth = ops.not_equal(y_true, ops.zeros_like(y_true))
    intersections = ops.sum(
        ops.cast(ops.logical_and(truth, predicted), "float64"), axis=(1, 2)
    )
    unions = ops.sum(
        ops.cast(ops.logical_or(truth, predicted), "float64"), axis=(1, 2)
    )
    return intersections, unions, _query_weights(sample_weight, unions)


def _query_weights(sample_weight, unions):
    if sample_weight is None:
        return ops.ones_like(unions)
    sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), "float64")
    if len(sample_weight.shape) not in (0, 1):
        raise ValueError(
            "`sample_weight` must be a scalar or one weight per query "
            f"(batch,); got shape {tuple(sample_weight.shape)}."
        )
    return ops.broadcast_to(sample_weight, ops.shape(unions))
