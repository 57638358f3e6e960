"""Which sentence the fusion network attends to at each step (Figure 5)."""

import numpy as np


def attended_sentences(attention, stop_step, sentence_mask=None):
    """Returns the sentence attended to at each fusion step.

    Chen et al., "Language-Based Image Editing with Recurrent Attentive
    Models", CVPR 2018, Section 4.1 (Results) and Figure 5: "In each step, we
    take the sentence with the largest attention score as the one being
    attended to." The attention of one example is per region, so at step `t`
    the scores are averaged over the regions that have not stopped before
    `t` (regions with `stop_step >= t`): a region that stopped earlier no
    longer contributes to the edit, even though the fusion layer keeps
    computing its attention. Steps after every region has stopped have no
    attended sentence and are left out. Ties go to the lowest sentence index.

    Args:
        attention: float numpy array (T, M, N, S), the attention weights of
            every region over the S sentences at each of the T steps (one
            example of the `"attention"` output of
            `keras_lbie.layers.ConvGRUFusion(return_details=True)`).
        stop_step: integer numpy array (M, N), the 0-based step at which each
            region stops (the fusion layer's `"stop_step"`), each in
            `0..T-1`.
        sentence_mask: optional bool array-like (S,), False for padding
            sentences, which are never chosen. Default: all sentences.

    Returns:
        A list of `(step, sentence_index)` pairs of Python ints, one per step
        at which some region is still running, in increasing 0-based `step`
        order. A sentence may appear at several steps.

    Raises:
        ValueError: an argument has the wrong type, dtype, shape or values;
            the message names it.

    Example:
    >>> attention = np.zeros((2, 1, 2, 3))
    >>> attention[0, :, :, 1] = 1.0  # step 0: both regions read sentence 1
    >>> attention[1, 0, 0, 2] = 1.0  # step 1: the stopped region reads 2,
    >>> attention[1, 0, 1, 0] = 1.0  # the running one reads 0
    >>> attended_sentences(attention, np.array([[0, 1]]))
    [(0, 1), (1, 0)]
    """
    attention, stop_step = _check_attention_and_stop_step(attention, stop_step)
    num_sentences = attention.shape[-1]
    mask = _check_sentence_mask(sentence_mask, num_sentences)
    pairs = []
    for step in range(attention.shape[0]):
        running = stop_step >= step
        if not running.any():
            continue
        scores = attention[step][running].mean(axis=0)
        scores = np.where(mask, scores, -np.inf)
        pairs.append((step, int(np.argmax(scores))))
    return pairs


def attended_by_region(attention, stop_step):
    """Returns the sentence each region attends to most at each step.

    The per-region view of `attended_sentences` (the paper's Figure 5
    averages over the regions): at step `t`, region `(m, n)` attends to
    `argmax_j attention[t, m, n, j]` (ties go to the lowest index) while it
    runs, i.e. while `stop_step[m, n] >= t`; a region that stopped earlier
    no longer contributes to the edit and gets -1.

    Args:
        attention: float numpy array (T, M, N, S), as `attended_sentences`.
        stop_step: integer numpy array (M, N), as `attended_sentences`.

    Returns:
        int32 numpy array (T, M, N): a sentence index in `0..S-1`, or -1.

    Raises:
        ValueError: as `attended_sentences`.

    Example:
    >>> attention = np.zeros((2, 1, 2, 3))
    >>> attention[0, 0, 0, 2] = attention[0, 0, 1, 1] = 1.0
    >>> attention[1, 0, 1, 0] = 1.0
    >>> attended_by_region(attention, np.array([[0, 1]])).tolist()
    [[[2, 1]], [[-1, 0]]]
    """
    attention, stop_step = _check_attention_and_stop_step(attention, stop_step)
    steps = np.arange(attention.shape[0])[:, None, None]
    attended = np.argmax(attention, axis=-1)
    return np.where(stop_step[None] >= steps, attended, -1).astype(np.int32)


def _check_attention_and_stop_step(attention, stop_step):
    """Validates one example's attention and stopping steps.

    Returns them as numpy arrays: attention float64 (T, M, N, S) and
    stop_step int64 (M, N).
    """
    attention = _as_array(attention, "attention")
    if attention.dtype.kind != "f":
        raise ValueError(
            "`attention` must be a float array. Received dtype: "
            f"{attention.dtype}"
        )
    if attention.ndim != 4 or 0 in attention.shape:
        raise ValueError(
            "`attention` must be a non-empty array of shape (steps, rows, "
            "columns, sentences) for one example (index the batch: "
            f"`attention[i]`). Received shape: {attention.shape}"
        )
    if not np.isfinite(attention).all():
        raise ValueError("`attention` must be finite. Received NaN or inf.")
    stop_step = _as_array(stop_step, "stop_step")
    if stop_step.dtype.kind not in "iu":
        raise ValueError(
            "`stop_step` must be an integer array. Received dtype: "
            f"{stop_step.dtype}"
        )
    if stop_step.shape != attention.shape[1:3]:
        raise ValueError(
            "`stop_step` must have shape (rows, columns) = "
            f"{attention.shape[1:3]}, the regions of `attention`. Received "
            f"shape: {stop_step.shape}"
        )
    num_steps = attention.shape[0]
    if stop_step.min() < 0 or stop_step.max() >= num_steps:
        raise ValueError(
            f"`stop_step` values must be 0-based steps in 0..{num_steps - 1} "
            f"(`attention` has {num_steps} steps). Received values in "
            f"{stop_step.min()}..{stop_step.max()}"
        )
    return attention.astype(np.float64), stop_step.astype(np.int64)


def _check_sentence_mask(sentence_mask, num_sentences):
    if sentence_mask is None:
        return np.ones(num_sentences, dtype=bool)
    mask = _as_array(sentence_mask, "sentence_mask")
    if mask.dtype != bool or mask.shape != (num_sentences,):
        raise ValueError(
            f"`sentence_mask` must be a bool array of shape ({num_sentences},)"
            f", one entry per sentence of `attention`. Received dtype "
            f"{mask.dtype} and shape {mask.shape}"
        )
    if not mask.any():
        raise ValueError("`sentence_mask` must keep at least one sentence.")
    return mask


def _as_array(value, name):
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"`{name}` must be a numpy array. Received: {type(value)}"
        ) from error
