import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_lbie")
class PixelCrossEntropy(keras.losses.Loss):
    """Per-pixel sparse softmax cross-entropy on the final logits.

    The segmentation objective of Chen et al., "Language-Based Image Editing
    with Recurrent Attentive Models", CVPR 2018, Section 4.1 ("pixel-wise
    softmax cross-entropy"). `y_true` is the class map `(batch, H, W)`,
    `y_pred` the logits `(batch, H, W, classes)`. Reduced by
    `keras.losses.Loss`: the mean over pixels, divided by the number of
    replicas under `tf.distribute` so summed replica gradients are those of
    the global mean.

    Example:
    >>> loss = PixelCrossEntropy()
    >>> loss(np.zeros((1, 2, 2)), np.zeros((1, 2, 2, 7)))  # log(7)
    """

    def call(self, y_true, y_pred):
        return keras.losses.sparse_categorical_crossentropy(
            ops.cast(y_true, "int32"), y_pred, from_logits=True
        )


def image_sample_weight(sample_weight):
    """A `(batch,)` weight as `(batch, 1, 1)`, so it weights every pixel.

    Scalars and per-pixel `(batch, H, W)` weights pass unchanged; None
    stays None.
    """
    if sample_weight is None:
        return None
    sample_weight = ops.convert_to_tensor(sample_weight)
    if len(sample_weight.shape) == 1:
        sample_weight = sample_weight[:, None, None]
    return sample_weight
