from keras import ops

from keras_lbie.color import _common
from keras_lbie.utils.validation import check_channels
from keras_lbie.utils.validation import check_real


def lab_to_rgb(lab):
    """Converts CIE Lab (D65 white, 2 degree observer) to sRGB in `[0, 1]`.

    The inverse of `rgb_to_lab`, and the conversion `skimage.color.lab2rgb`
    does, including what it clips for Lab colours outside the sRGB gamut:

    - `f_z = (L + 16) / 116 - b / 200` is clipped at 0 from below before
      the inverse of CIE `f` (skimage's "negative Z values ... clipped to
      zero"; it warns, this does not). X, Y and linear RGB are not clipped.
    - The final sRGB values are clipped to `[0, 1]` after the companding
      (linear below 0.0031308, else `1.055 * c ** (1 / 2.4) - 0.055`), so
      a channel out of gamut saturates at 0 or 1 while the others keep
      their values: the hue of an out-of-gamut colour may shift.

    Computed in float32 (float64 stays float64) and cast back to the input
    dtype for float inputs; integer inputs give float32. Works eagerly,
    inside `tf.function` and under XLA (`jit_compile=True`); it is
    differentiable, with finite gradients (zero where a channel is clipped).

    Args:
        lab: tensor or array-like of shape `(..., 3)`, any number of
            leading axes (a single pixel `(3,)` too): L in `[0, 100]`, a and
            b roughly in `[-128, 127]`; any real dtype.

    Returns:
        Tensor of shape `(..., 3)`, sRGB in `[0, 1]`; the input's dtype for
        float inputs, float32 for integer inputs.

    Raises:
        TypeError: if `lab` is not a real numeric (float or integer) dtype.
        ValueError: if `lab` has rank 0, an unknown rank, or a last axis
            that is not statically 3.

    Example:
    >>> lab_to_rgb([53.24, 80.09, 67.20])  # sRGB red: about (1, 0, 0)
    >>> lab_to_rgb([50.0, 120.0, -120.0])  # out of gamut: (0.722, 0, 1)
    """
    lab = _common.to_tensor(lab, "lab")
    dtype = check_real(lab, "lab")
    check_channels(lab, 3, "lab", "(L, a, b)")
    compute = _common.compute_dtype(dtype)
    x = ops.cast(lab, compute)
    fy = (x[..., 0] + 16.0) / 116.0
    fx = fy + x[..., 1] / 500.0
    fz = ops.maximum(fy - x[..., 2] / 200.0, 0.0)
    t = _cie_f_inverse(ops.stack([fx, fy, fz], axis=-1))
    xyz = t * ops.convert_to_tensor(_common.D65_WHITE, compute)
    linear = _common.linear_map(xyz, _common.RGB_FROM_XYZ)
    rgb = ops.clip(_linear_to_srgb(linear), 0.0, 1.0)
    return ops.cast(rgb, _common.output_dtype(dtype))


def _cie_f_inverse(f):
    delta = _common.LAB_DELTA
    linear = (f - _common.LAB_OFFSET) / _common.LAB_SLOPE
    return ops.where(f > delta, f * f * f, linear)


def _linear_to_srgb(c):
    # The power's base is clamped so the untaken branch of `where` has no
    # NaN in its value or gradient for negative (out-of-gamut) values.
    threshold = _common.SRGB_LINEAR_THRESHOLD
    curve = (
        1.055 * ops.power(ops.maximum(c, threshold), 1.0 / _common.SRGB_GAMMA)
        - 0.055
    )
    return ops.where(c > threshold, curve, c * 12.92)
