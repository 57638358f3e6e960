"""Lab to and from the `[-1, 1]` scale of the colorizer's inputs and outputs.

The colorizer (SPEC "Experiment 3") reads L and predicts ab, both scaled to
`[-1, 1]` so its tanh output can cover the target range:

- L: `L / 50 - 1`, mapping `[0, 100]` onto `[-1, 1]` exactly.
- a, b: divided by `AB_SCALE = 110`. sRGB colours under D65 reach
  a in `[-86.2, 98.2]` and b in `[-107.9, 94.5]`, so 110 puts every sRGB
  colour inside `[-0.99, 0.9]` with a little margin, while 128 (the nominal
  8-bit Lab range) would leave a sixth of a tanh output's range on colours
  no image can show. 110 is also the ab bound of Zhang et al.'s
  colorization ("Colorful Image Colorization", ECCV 2016). Lab colours
  outside the sRGB gamut can still give values beyond `[-1, 1]`; nothing
  here clips them.
"""

from keras import ops

from keras_lbie.color import _common
from keras_lbie.color.lab_to_rgb import lab_to_rgb
from keras_lbie.color.rgb_to_lab import rgb_to_lab
from keras_lbie.utils.validation import check_channels
from keras_lbie.utils.validation import check_real
from keras_lbie.utils.validation import is_float_dtype

# L = (L_scaled + 1) * L_SCALE; ab = ab_scaled * AB_SCALE. Change them here
# only: every function of this module reads them.
L_SCALE = 50.0
AB_SCALE = 110.0


def lab_to_model(lab):
    """Splits Lab into the colorizer's scaled L and ab.

    Args:
        lab: tensor or array-like `(..., 3)` of L, a, b (as `rgb_to_lab`
            returns), any number of leading axes; any real dtype.

    Returns:
        Tuple `(l_scaled, ab_scaled)` of shapes `(..., 1)` and `(..., 2)`:
        `L / 50 - 1` and `ab / 110` (`AB_SCALE`), not clipped. The input's
        dtype for float inputs (computed in float32, float64 stays float64),
        float32 for integer inputs.

    Raises:
        TypeError: if `lab` is not a real numeric dtype.
        ValueError: if `lab` has rank 0, an unknown rank, or a last axis
            that is not statically 3.

    Example:
    >>> l_scaled, ab_scaled = lab_to_model([[100.0, 55.0, -110.0]])
    >>> l_scaled, ab_scaled  # [[1.0]], [[0.5, -1.0]]
    """
    lab = _common.to_tensor(lab, "lab")
    dtype = check_real(lab, "lab")
    check_channels(lab, 3, "lab", "(L, a, b)")
    x = ops.cast(lab, _common.compute_dtype(dtype))
    out = _common.output_dtype(dtype)
    l_scaled = x[..., :1] / L_SCALE - 1.0
    ab_scaled = x[..., 1:] / AB_SCALE
    return ops.cast(l_scaled, out), ops.cast(ab_scaled, out)


def model_to_lab(l_scaled, ab_scaled):
    """Joins the colorizer's scaled L and ab back into Lab.

    The inverse of `lab_to_model`: `L = (l_scaled + 1) * 50` and
    `ab = ab_scaled * 110`, not clipped (`lab_to_rgb` clips the colours).

    Args:
        l_scaled: tensor or array-like `(..., 1)`, L scaled to `[-1, 1]`.
        ab_scaled: tensor or array-like `(..., 2)`, a and b scaled to
            `[-1, 1]`, with the same leading axes as `l_scaled`.

    Returns:
        Tensor `(..., 3)` of L, a, b. Its dtype is the wider of the two
        inputs' float dtypes (float32 for bfloat16 and float32, so a mixed
        precision model's ab can be paired with float32 L), float32 if both
        are integers; computed in float32 (float64 stays float64).

    Raises:
        TypeError: if either input is not a real numeric dtype.
        ValueError: if `l_scaled`'s last axis is not 1, `ab_scaled`'s is not
            2, either has rank 0 or an unknown rank, or their statically
            known leading axes differ.

    Example:
    >>> model_to_lab([[1.0]], [[0.5, -1.0]])  # [[100.0, 55.0, -110.0]]
    """
    l_scaled, ab_scaled, dtype = _check_scaled(l_scaled, ab_scaled)
    compute = _common.compute_dtype(dtype)
    l_value = (ops.cast(l_scaled, compute) + 1.0) * L_SCALE
    ab = ops.cast(ab_scaled, compute) * AB_SCALE
    return ops.cast(ops.concatenate([l_value, ab], axis=-1), dtype)


def rgb_to_model_inputs(rgb):
    """sRGB images to the colorizer's scaled L (input) and ab (target).

    `lab_to_model(rgb_to_lab(rgb))`; see those for the conversion, the
    dtypes and the scaling.

    Args:
        rgb: tensor or array-like `(..., 3)`: float sRGB in `[0, 1]` or
            uint8 in `[0, 255]`.

    Returns:
        Tuple `(l_scaled, ab_scaled)` of shapes `(..., 1)` and `(..., 2)`,
        in `[-1, 1]` for every sRGB colour. The input's dtype for float
        inputs, float32 for uint8.

    Raises:
        TypeError: if `rgb` is not numeric, or is an integer dtype other
            than uint8.
        ValueError: if `rgb` has rank 0, an unknown rank, or a last axis
            that is not statically 3.

    Example:
    >>> images = tf.zeros((8, 256, 256, 3), "uint8")
    >>> l_scaled, ab_scaled = rgb_to_model_inputs(images)
    >>> l_scaled.shape, ab_scaled.shape  # (8, 256, 256, 1), (8, 256, 256, 2)
    """
    return lab_to_model(rgb_to_lab(rgb))


def model_outputs_to_rgb(l_scaled, ab_scaled):
    """The colorizer's scaled L and predicted ab to sRGB in `[0, 1]`.

    `lab_to_rgb(model_to_lab(l_scaled, ab_scaled))`: Lab colours outside the
    sRGB gamut are clipped as `lab_to_rgb` documents. Differentiable, so it
    can sit inside a loss on RGB.

    Args:
        l_scaled: tensor or array-like `(..., 1)`, L scaled to `[-1, 1]`
            (the colorizer's input).
        ab_scaled: tensor or array-like `(..., 2)`, ab scaled to `[-1, 1]`
            (its prediction), with the same leading axes as `l_scaled`.

    Returns:
        Tensor `(..., 3)` of sRGB in `[0, 1]`, in the wider of the inputs'
        float dtypes (float32 if both are integers).

    Raises:
        TypeError: if either input is not a real numeric dtype.
        ValueError: if `l_scaled`'s last axis is not 1, `ab_scaled`'s is not
            2, either has rank 0 or an unknown rank, or their statically
            known leading axes differ.

    Example:
    >>> l_scaled, _ = rgb_to_model_inputs(images)
    >>> ab_scaled = colorizer([l_scaled, captions])
    >>> colorized = model_outputs_to_rgb(l_scaled, ab_scaled)
    """
    return lab_to_rgb(model_to_lab(l_scaled, ab_scaled))


def _check_scaled(l_scaled, ab_scaled):
    l_scaled = _common.to_tensor(l_scaled, "l_scaled")
    ab_scaled = _common.to_tensor(ab_scaled, "ab_scaled")
    l_dtype = check_real(l_scaled, "l_scaled")
    ab_dtype = check_real(ab_scaled, "ab_scaled")
    l_shape = check_channels(l_scaled, 1, "l_scaled", "(L,)")
    ab_shape = check_channels(ab_scaled, 2, "ab_scaled", "(a, b)")
    if len(l_shape) != len(ab_shape) or any(
        m is not None and n is not None and m != n
        for m, n in zip(l_shape[:-1], ab_shape[:-1], strict=True)
    ):
        raise ValueError(
            "`l_scaled` and `ab_scaled` must have the same leading axes. "
            f"Received shapes: `l_scaled` {l_shape}, `ab_scaled` {ab_shape}"
        )
    return l_scaled, ab_scaled, _wider_dtype(l_dtype, ab_dtype)


def _wider_dtype(*dtypes):
    floats = [d for d in dtypes if is_float_dtype(d)]
    if not floats:
        return "float32"
    # Ordered by precision; bfloat16 and float16 together go to float32,
    # which holds both exactly.
    if len(set(floats)) > 1 and set(floats) <= {"bfloat16", "float16"}:
        return "float32"
    order = ("bfloat16", "float16", "float32", "float64")
    return max(floats, key=order.index)
