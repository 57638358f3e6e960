from keras import ops


def expected_step_cross_entropy(y_true, step_logits, stop_probabilities):
    """Marginal likelihood loss of the authors' released code, per pixel.

    With `T` fusion steps, step t predicting `p_t(y)` and the termination
    gates stopping at step t with probability `beta_t`, the loss is

        -log sum_t beta_t * p_t(y),

    the negative log-likelihood with the stopping step marginalised out
    (no Gumbel noise). Computed in log space, so it stays finite when some
    `beta_t` are zero.

    Args:
        y_true: int tensor `(batch, height, width)` of class ids.
        step_logits: float tensor `(batch, T, height, width, classes)`.
        stop_probabilities: float tensor `(batch, T, height, width)`, the
            betas at the same resolution as the logits, summing to one over
            `T`.

    Returns:
        Float32 tensor `(batch, height, width)`, the per-pixel loss.
    """
    if len(step_logits.shape) != 5:
        raise ValueError(
            "`step_logits` must have rank 5 (batch, steps, height, width, "
            f"classes). Received shape: {step_logits.shape}"
        )
    if tuple(stop_probabilities.shape) != tuple(step_logits.shape[:4]):
        raise ValueError(
            "`stop_probabilities` must have shape (batch, steps, height, "
            f"width) = {tuple(step_logits.shape[:4])}. Received shape: "
            f"{tuple(stop_probabilities.shape)}"
        )
    step_logits = ops.cast(step_logits, "float32")
    log_p = ops.log_softmax(step_logits, axis=-1)
    labels = ops.expand_dims(ops.cast(y_true, "int32"), axis=1)
    labels = ops.broadcast_to(labels, ops.shape(log_p)[:4])
    log_p_true = ops.take_along_axis(
        log_p, ops.expand_dims(labels, -1), axis=-1
    )[..., 0]
    log_beta = ops.log(ops.cast(stop_probabilities, "float32"))
    return -ops.logsumexp(log_beta + log_p_true, axis=1)
