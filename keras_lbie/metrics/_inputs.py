"""Input conversions shared by the segmentation metrics."""

from keras import ops


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
