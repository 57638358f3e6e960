import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from skimage.color import rgb2lab

from keras_lbie.color import rgb_to_lab

CUBE_CORNERS = np.array(
    [[r, g, b] for r in (0.0, 1.0) for g in (0.0, 1.0) for b in (0.0, 1.0)]
)

# Published CIE Lab (D65, 2 degree) of the sRGB primaries and white, to the
# two decimals they are usually quoted with; skimage's matrix puts white at
# a = -0.0025, b = 0.0047, hence the 1e-2 tolerance on these.
PUBLISHED = {
    "white": ([1.0, 1.0, 1.0], [100.0, 0.0, 0.0]),
    "black": ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
    "red": ([1.0, 0.0, 0.0], [53.24, 80.09, 67.20]),
    "green": ([0.0, 1.0, 0.0], [87.73, -86.18, 83.18]),
    "blue": ([0.0, 0.0, 1.0], [32.30, 79.19, -107.86]),
}


def random_rgb(shape, seed=0):
    return np.random.default_rng(seed).random(shape)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_skimage_on_random_colours(dtype):
    rgb = random_rgb((20_000, 3)).astype(dtype)
    lab = rgb_to_lab(rgb)
    assert lab.dtype == dtype
    np.testing.assert_allclose(lab, rgb2lab(rgb.astype("float64")), atol=1e-3)


def test_matches_skimage_on_dark_colours():
    # The linear segments of sRGB and CIE f(t), and the joins.
    rgb = random_rgb((5_000, 3), seed=1) * 0.08
    np.testing.assert_allclose(
        rgb_to_lab(rgb.astype("float32")), rgb2lab(rgb), atol=1e-3
    )


def test_matches_skimage_on_cube_corners():
    lab = rgb_to_lab(CUBE_CORNERS.astype("float32"))
    np.testing.assert_allclose(lab, rgb2lab(CUBE_CORNERS), atol=1e-3)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_reference_values(name):
    rgb, expected = PUBLISHED[name]
    np.testing.assert_allclose(
        rgb_to_lab(np.array(rgb, "float32")), expected, atol=1e-2
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.floats(0.0, 1.0, allow_nan=False, width=32), min_size=3, max_size=3
    )
)
def test_single_pixels_match_skimage(pixel):
    rgb = np.array(pixel, "float32")
    lab = rgb_to_lab(rgb)
    assert lab.shape == (3,)
    np.testing.assert_allclose(
        lab, rgb2lab(rgb.astype("float64")[None])[0], atol=1e-3
    )


def test_values_outside_unit_range_are_not_clipped():
    rgb = np.array([[-0.1, 0.5, 1.2], [1.1, 1.1, 1.1]])
    lab = np.asarray(rgb_to_lab(rgb.astype("float32")))
    np.testing.assert_allclose(lab, rgb2lab(rgb), atol=1e-3)
    assert lab[1, 0] > 100.0


@pytest.mark.parametrize("shape", [(3,), (5, 3), (2, 4, 6, 3), (1, 2, 2, 2, 3)])
def test_any_leading_axes(shape):
    rgb = random_rgb(shape).astype("float32")
    lab = rgb_to_lab(rgb)
    assert lab.shape == shape
    flat = rgb2lab(rgb.reshape(-1, 3).astype("float64"))
    np.testing.assert_allclose(np.reshape(lab, (-1, 3)), flat, atol=1e-3)


def test_uint8_is_divided_by_255():
    rgb = np.random.default_rng(2).integers(0, 256, (4, 5, 3), "uint8")
    lab = rgb_to_lab(rgb)
    assert lab.dtype == "float32"
    np.testing.assert_allclose(lab, rgb2lab(rgb), atol=1e-3)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_keeps_its_dtype(dtype):
    rgb = tf.cast(random_rgb((500, 3), seed=3), dtype)
    lab = rgb_to_lab(rgb)
    assert lab.dtype == dtype
    # Compared on the same rounded input: what is left is the output's
    # rounding, half a unit in the last place of values up to ~108
    # (bfloat16: 8 significant bits, 0.25; float16: 11, 0.03).
    expected = rgb2lab(np.asarray(tf.cast(rgb, "float64")))
    atol = 0.26 if dtype == "bfloat16" else 0.04
    np.testing.assert_allclose(
        np.asarray(tf.cast(lab, "float64")), expected, atol=atol
    )


def test_tf_function_and_xla_match_eager():
    rgb = random_rgb((2, 16, 16, 3), seed=4).astype("float32")
    eager = rgb_to_lab(rgb)
    graph = tf.function(
        rgb_to_lab, input_signature=[tf.TensorSpec([None, None, None, 3])]
    )(rgb)
    xla = tf.function(rgb_to_lab, jit_compile=True)(rgb)
    # a and b are 500x and 200x differences of cube roots near 1, so one
    # float32 ulp of a cube root (6e-8) is 3e-5 in a: graph rewrites and
    # XLA's own pow move them by a few of those.
    np.testing.assert_allclose(graph, eager, atol=1e-3)
    np.testing.assert_allclose(xla, eager, atol=1e-3)
    np.testing.assert_allclose(xla, rgb2lab(rgb.astype("float64")), atol=1e-3)


def test_gradients_are_finite():
    rgb = tf.Variable(
        np.concatenate([CUBE_CORNERS, [[-0.1, 0.02, 1.1]]]).astype("float32")
    )
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(rgb_to_lab(rgb))
    gradient = np.asarray(tape.gradient(total, rgb))
    assert np.all(np.isfinite(gradient))


@pytest.mark.parametrize(
    "rgb, match",
    [
        (np.float32(0.5), "`rgb` must have rank >= 1"),
        (np.zeros((2, 4), "float32"), "last axis of `rgb` must have size 3"),
        (np.zeros((2, 1), "float32"), "last axis of `rgb` must have size 3"),
    ],
)
def test_bad_shapes_are_rejected(rgb, match):
    with pytest.raises(ValueError, match=match):
        rgb_to_lab(rgb)


@pytest.mark.parametrize(
    "rgb, match",
    [
        (np.array(["a", "b", "c"]), "`rgb` must have a real numeric dtype"),
        (np.array([True, False, True]), "`rgb` must have a real numeric"),
        (np.zeros(3, "complex64"), "`rgb` must have a real numeric dtype"),
        (np.zeros(3, "int32"), "`rgb` must be float in"),
        (np.zeros(3, "uint16"), "`rgb` must be float in"),
        (None, "`rgb` must be a numeric array or tensor"),
    ],
)
def test_bad_dtypes_are_rejected(rgb, match):
    with pytest.raises(TypeError, match=match):
        rgb_to_lab(rgb)


@pytest.mark.parametrize(
    "spec, match",
    [
        (tf.TensorSpec(None), "`rgb` must have a known rank"),
        (tf.TensorSpec([None, None]), "last axis of `rgb` must have size 3"),
    ],
)
def test_unknown_channels_are_rejected_when_tracing(spec, match):
    with pytest.raises(ValueError, match=match):
        tf.function(rgb_to_lab, input_signature=[spec]).get_concrete_function()
