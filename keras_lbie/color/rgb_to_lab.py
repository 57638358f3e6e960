from keras import ops

from keras_lbie.color import _common
from keras_lbie.utils.validation import check_channels
from keras_lbie.utils.validation import check_real
from keras_lbie.utils.validation import is_int_dtype


def rgb_to_lab(rgb):
    """Converts sRGB to CIE Lab (D65 white, 2 degree observer).

    The conversion `skimage.color.rgb2lab` does, in Keras ops: undo the sRGB
    companding (linear below 0.04045, else `((c + 0.055) / 1.055) ** 2.4`),
    map linear RGB to XYZ with skimage's D65 matrix, divide by the D65 white
    `(0.95047, 1.0, 1.08883)` and apply CIE `f(t)` (cube root above
    `(6/29) ** 3`, linear below). skimage rounds that threshold and slope to
    0.008856 and 7.787; the exact values used here move dark colours'
    L, a and b by at most 2e-4 (`500 * (7.787037 - 7.787) * 0.008856` in
    a). Works eagerly, inside `tf.function` and under XLA
    (`jit_compile=True`); it is differentiable, with finite gradients.

    Float inputs are taken as sRGB in `[0, 1]` and are not clipped: values
    outside it follow the same curves, as in skimage. They are computed in
    float32 (float64 stays float64), since bfloat16 and float16 lack the
    precision for the powers and for a/b, which are differences of nearly
    equal cube roots; the result is cast back to the input dtype. uint8
    inputs are read as `[0, 255]` and divided by 255; the result is float32.

    Args:
        rgb: tensor or array-like of shape `(..., 3)`, any number of leading
            axes (a single pixel `(3,)` too): float (bfloat16, float16,
            float32, float64) in `[0, 1]`, or uint8 in `[0, 255]`.

    Returns:
        Tensor of shape `(..., 3)`: L in `[0, 100]`, a and b roughly in
        `[-128, 127]` (sRGB colours reach a in `[-86.2, 98.2]` and b in
        `[-107.9, 94.5]`). The input's dtype for float inputs, float32 for
        uint8.

    Raises:
        TypeError: if `rgb` is not numeric, or is an integer dtype other
            than uint8 (whose value range would be a guess).
        ValueError: if `rgb` has rank 0, an unknown rank, or a last axis
            that is not statically 3.

    Example:
    >>> rgb_to_lab([1.0, 0.0, 0.0])  # sRGB red: about (53.24, 80.09, 67.20)
    >>> images = tf.zeros((8, 256, 256, 3), "uint8")
    >>> rgb_to_lab(images).shape  # (8, 256, 256, 3), float32
    """
    rgb = _common.to_tensor(rgb, "rgb")
    dtype = check_real(rgb, "rgb")
    if is_int_dtype(dtype) and dtype != "uint8":
        raise TypeError(
            "`rgb` must be float in [0, 1] or uint8 in [0, 255]. Received "
            f"dtype: {dtype}. Cast other integer images to float and "
            "scale them to [0, 1] first."
        )
    check_channels(rgb, 3, "rgb", "(red, green, blue)")
    compute = _common.compute_dtype(dtype)
    x = ops.cast(rgb, compute)
    if dtype == "uint8":
        x = x / 255.0
    xyz = _common.linear_map(_srgb_to_linear(x), _common.XYZ_FROM_RGB)
    f = _cie_f(xyz / ops.convert_to_tensor(_common.D65_WHITE, compute))
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    lab = ops.stack(
        [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1
    )
    return ops.cast(lab, _common.output_dtype(dtype))


def _srgb_to_linear(c):
    # The power's base is clamped so the untaken branch of `where` has no
    # NaN in its value or gradient for negative inputs.
    threshold = _common.SRGB_ENCODED_THRESHOLD
    curve = ops.power(
        (ops.maximum(c, threshold) + 0.055) / 1.055, _common.SRGB_GAMMA
    )
    return ops.where(c > threshold, curve, c / 12.92)


def _cie_f(t):
    epsilon = _common.LAB_EPSILON
    cube_root = ops.power(ops.maximum(t, epsilon), 1.0 / 3.0)
    linear = t * _common.LAB_SLOPE + _common.LAB_OFFSET
    return ops.where(t > epsilon, cube_root, linear)
