"""Input checks and conversions shared by the segmentation metrics."""

from keras import ops


def check_spatial_match(true_shape, y_pred):
    """Raises `ValueError` unless `y_pred` is a per-pixel prediction.

    `true_shape` is the static `(batch, H, W)` of the ground truth; dims that
    are `None` on either side are not compared.
    """
    pred_shape = tuple(y_pred.shape)
    if len(pred_shape) not in (3, 4):
        raise ValueError(
            "`y_pred` must be class scores (batch, H, W, num_classes) or "
            f"class ids (batch, H, W); got shape {pred_shape}."
        )
    if len(pred_shape) == 4 and pred_shape[-1] == 1:
        # The argmax of one channel is always 0: almost surely class ids
        # with a trailing axis rather than scores.
        raise ValueError(
            "`y_pred` of rank 4 must hold one score per class; got 1 "
            f"channel (shape {pred_shape}). Pass class ids as (batch, H, W)."
        )
    for axis, (expected, got) in enumerate(
        zip(true_shape, pred_shape[:3], strict=True)
    ):
        if expected is not None and got is not None and expected != got:
            raise ValueError(
                f"`y_pred` must match `y_true` in (batch, H, W) = "
                f"{tuple(true_shape)}; axis {axis} differs in shape "
                f"{pred_shape}."
            )


def class_predictions(y_pred):
    """Class ids `(batch, H, W)` from scores (argmax) or from class ids."""
    if len(y_pred.shape) == 4:
        return ops.cast(ops.argmax(y_pred, axis=-1), "int32")
    return ops.cast(y_pred, "int32")


def pixel_weights(sample_weight, label, dtype):
    """Broadcasts a scalar, `(batch,)` or `(batch, H, W)` weight per pixel."""
    if sample_weight is None:
        return ops.ones_like(label, dtype=dtype)
    sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), dtype)
    rank = len(sample_weight.shape)
    if rank == 1:
        sample_weight = sample_weight[:, None, None]
    elif rank not in (0, 3):
        raise ValueError(
            "`sample_weight` must be a scalar, per image (batch,) or per "
            f"pixel (batch, H, W); got shape {tuple(sample_weight.shape)}."
        )
    return ops.broadcast_to(sample_weight, ops.shape(label))
