"""Constants and helpers shared by the `keras_lbie.color` modules."""

import keras
import numpy as np
from keras import ops

from keras_lbie.utils.validation import is_float_dtype

# sRGB primaries to CIE XYZ under D65, exactly as `skimage.color` has it
# (`skimage.color.colorconv.xyz_from_rgb`): matching its six-decimal entries
# keeps us within 1e-3 of `rgb2lab`, which a re-derived matrix would not.
XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
# The inverse in float64, as skimage computes its `rgb_from_xyz`.
RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)

# D65 white point, 2 degree observer, Y normalised to 1 (skimage's
# `xyz_tristimulus_values("D65", "2")`).
D65_WHITE = np.array([0.95047, 1.0, 1.08883])

# sRGB companding (IEC 61966-2-1): the linear segment ends at 0.04045 in the
# encoded domain, which is 0.0031308 in the linear domain.
SRGB_ENCODED_THRESHOLD = 0.04045
SRGB_LINEAR_THRESHOLD = 0.0031308
SRGB_GAMMA = 2.4

# CIE f(t): cube root above (6/29)^3, a linear segment below that meets it
# with the same value and slope at delta = 6/29.
LAB_DELTA = 6.0 / 29.0
LAB_EPSILON = LAB_DELTA**3
LAB_SLOPE = 1.0 / (3.0 * LAB_DELTA**2)
LAB_OFFSET = 4.0 / 29.0


def to_tensor(x, name):
    """Converts `x` to a tensor; symbolic Keras tensors pass through."""
    if isinstance(x, keras.KerasTensor) or ops.is_tensor(x):
        return x
    try:
        return ops.convert_to_tensor(x)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"`{name}` must be a numeric array or tensor. Received: "
            f"{type(x).__name__} ({error})"
        ) from error


def compute_dtype(dtype):
    """float64 stays float64; everything else is computed in float32.

    bfloat16 has 8 bits of mantissa and float16 a small range: powers with
    exponents 2.4 and 1/3 and the a/b differences of nearly equal cube
    roots lose too much in them.
    """
    return "float64" if dtype == "float64" else "float32"


def output_dtype(dtype):
    """Float inputs keep their dtype; integer inputs give float32."""
    return dtype if is_float_dtype(dtype) else "float32"


def linear_map(x, matrix):
    """`x @ matrix.T` over the last axis, as sums of scaled channels.

    Written out rather than as a matmul so TensorFloat-32 (on by default for
    matmuls on Ampere GPUs, 10-bit mantissa) cannot touch it; it is nine
    multiply-adds per pixel either way.
    """
    channels = [x[..., i] for i in range(3)]
    rows = []
    for row in matrix:
        rows.append(
            channels[0] * float(row[0])
            + channels[1] * float(row[1])
            + channels[2] * float(row[2])
        )
    return ops.stack(rows, axis=-1)
