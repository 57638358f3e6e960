"""The marginal-likelihood loss of the authors' released LBIE code."""

import keras
from keras import ops


def expected_step_cross_entropy(y_true, step_logits, log_stop_probabilities):
    """Marginal likelihood loss of the authors' released code, per pixel.

    With `T` fusion steps, step t predicting `p_t(y)` and the termination
    gates stopping at step t with probability `beta_t`, the loss is

        -log sum_t beta_t * p_t(y),

    the negative log-likelihood with the stopping step marginalised out
    (no Gumbel noise). It takes log beta (`TerminationGate` and
    `ConvGRUFusion` return `log_stop_probabilities` in float32) and works in
    log space, so loss and gradients stay finite when some `beta_t`
    underflow to zero.

    Args:
        y_true: int tensor `(batch, height, width)` of class ids.
        step_logits: float tensor `(batch, T, height, width, classes)`.
        log_stop_probabilities: float tensor `(batch, T, height, width)`,
            log beta at the resolution of the logits (upsample the region
            betas, e.g. nearest-neighbour, before taking them here).

    Returns:
        Float32 tensor `(batch, height, width)`, the per-pixel loss.

    Example:
    >>> logits = np.zeros((1, 2, 1, 1, 2), "float32")   # p_t(y) = 1/2
    >>> log_beta = np.log(np.full((1, 2, 1, 1), 0.5, "float32"))
    >>> expected_step_cross_entropy(np.zeros((1, 1, 1)), logits, log_beta)
    # -log(0.5 * 0.5 + 0.5 * 0.5) = log 2
    """
    if len(step_logits.shape) != 5:
        raise ValueError(
            "`step_logits` must have rank 5 (batch, steps, height, width, "
            f"classes). Received shape: {step_logits.shape}"
        )
    if tuple(log_stop_probabilities.shape) != tuple(step_logits.shape[:4]):
        raise ValueError(
            "`log_stop_probabilities` must have shape (batch, steps, height, "
            f"width) = {tuple(step_logits.shape[:4])}. Received shape: "
            f"{tuple(log_stop_probabilities.shape)}"
        )
    step_logits = ops.cast(step_logits, "float32")
    log_p = ops.log_softmax(step_logits, axis=-1)
    labels = ops.expand_dims(ops.cast(y_true, "int32"), axis=1)
    labels = ops.broadcast_to(labels, ops.shape(log_p)[:4])
    log_p_true = ops.take_along_axis(
        log_p, ops.expand_dims(labels, -1), axis=-1
    )[..., 0]
    log_beta = ops.cast(log_stop_probabilities, "float32")
    return -ops.logsumexp(log_beta + log_p_true, axis=1)


@keras.saving.register_keras_serializable(package="keras_lbie")
class ExpectedStepCrossEntropy(keras.losses.Loss):
    """`expected_step_cross_entropy` as a Keras loss, mean over pixels.

    `y_pred` is the pair `(step_logits, log_stop_probabilities)`; reduced
    by `keras.losses.Loss`, so the loss is scaled correctly under
    `tf.distribute` strategies.

    Example:
    >>> loss = ExpectedStepCrossEntropy()
    >>> loss(labels, (outputs["step_logits"],
    ...               outputs["log_stop_probabilities"]))
    """

    def call(self, y_true, y_pred):
        step_logits, log_stop_probabilities = y_pred
        return expected_step_cross_entropy(
            y_true, step_logits, log_stop_probabilities
        )
