import warnings

import numpy as np
import pytest
import tensorflow as tf
from skimage.color import lab2rgb
from skimage.color import rgb2lab

from keras_lbie.color import lab_to_rgb
from keras_lbie.color import rgb_to_lab


def skimage_lab2rgb(lab):
    # skimage warns whenever it clips a negative Z; these tests mean to.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return lab2rgb(np.asarray(lab, "float64"))


def random_lab(n, seed=0):
    # The whole nominal Lab box: most of it lies outside the sRGB gamut.
    rng = np.random.default_rng(seed)
    return np.stack(
        [
            rng.uniform(0.0, 100.0, n),
            rng.uniform(-128.0, 127.0, n),
            rng.uniform(-128.0, 127.0, n),
        ],
        axis=-1,
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_skimage_on_in_gamut_colours(dtype):
    lab = rgb2lab(np.random.default_rng(0).random((20_000, 3)))
    rgb = lab_to_rgb(lab.astype(dtype))
    assert rgb.dtype == dtype
    np.testing.assert_allclose(
        rgb, skimage_lab2rgb(lab.astype(dtype)), atol=1e-3
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_skimage_over_the_whole_lab_box(dtype):
    lab = random_lab(20_000).astype(dtype)
    rgb = np.asarray(lab_to_rgb(lab))
    np.testing.assert_allclose(rgb, skimage_lab2rgb(lab), atol=1e-3)
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0


@pytest.mark.parametrize(
    "lab, expected",
    [
        # Beyond the gamut: red and green clip at 0, blue at 1.
        ([50.0, 120.0, -120.0], [0.72227, 0.0, 1.0]),
        # f_z = 0.569 - 1.25 < 0 is clipped at 0 first, as skimage does:
        # without that clip red would come out 0.05 higher.
        ([50.0, 0.0, 250.0], [0.57828, 0.45539, 0.0]),
        ([100.0, 0.0, 0.0], [1.0, 1.0, 1.0]),
        ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
        ([53.24, 80.09, 67.20], [1.0, 0.0, 0.0]),
    ],
)
def test_reference_and_out_of_gamut_values(lab, expected):
    rgb = lab_to_rgb(np.array(lab, "float32"))
    np.testing.assert_allclose(rgb, expected, atol=1e-3)
    np.testing.assert_allclose(rgb, skimage_lab2rgb([lab])[0], atol=1e-3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip(dtype):
    rgb = np.random.default_rng(1).random((4, 32, 32, 3)).astype(dtype)
    np.testing.assert_allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-4)


def test_round_trip_of_cube_corners_and_dark_colours():
    rng = np.random.default_rng(2)
    corners = [[r, g, b] for r in (0, 1) for g in (0, 1) for b in (0, 1)]
    rgb = np.concatenate([corners, rng.random((1000, 3)) * 0.05])
    rgb = rgb.astype("float32")
    np.testing.assert_allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-4)


@pytest.mark.parametrize("shape", [(3,), (7, 3), (2, 5, 4, 3)])
def test_any_leading_axes(shape):
    lab = random_lab(int(np.prod(shape[:-1])), seed=3).astype("float32")
    rgb = lab_to_rgb(lab.reshape(shape))
    assert rgb.shape == shape
    np.testing.assert_allclose(
        np.reshape(rgb, (-1, 3)), skimage_lab2rgb(lab), atol=1e-3
    )


def test_integer_lab_gives_float32():
    lab = np.array([[50, 20, -30], [100, 0, 0]], "int32")
    rgb = lab_to_rgb(lab)
    assert rgb.dtype == "float32"
    np.testing.assert_allclose(rgb, skimage_lab2rgb(lab), atol=1e-3)


def test_bfloat16_keeps_its_dtype():
    lab = tf.cast(random_lab(1000, seed=4), "bfloat16")
    rgb = lab_to_rgb(lab)
    assert rgb.dtype == "bfloat16"
    # Same rounded input for both: what is left is the output's rounding,
    # half a unit in the last place of values up to 1 (8 bits: 2 ** -9).
    expected = skimage_lab2rgb(np.asarray(tf.cast(lab, "float64")))
    np.testing.assert_allclose(
        np.asarray(tf.cast(rgb, "float64")), expected, atol=2.5e-3
    )


def test_tf_function_and_xla_match_eager():
    lab = random_lab(2 * 16 * 16, seed=5).reshape(2, 16, 16, 3)
    lab = lab.astype("float32")
    eager = lab_to_rgb(lab)
    graph = tf.function(
        lab_to_rgb, input_signature=[tf.TensorSpec([None, None, None, 3])]
    )(lab)
    xla = tf.function(lab_to_rgb, jit_compile=True)(lab)
    np.testing.assert_allclose(graph, eager, atol=1e-6)
    np.testing.assert_allclose(xla, eager, atol=1e-4)


def test_gradients_are_finite():
    lab = tf.Variable(
        np.array(
            [[0, 0, 0], [100, 0, 0], [50, 120, -120], [50, 0, 250], [1, 0, 0]],
            "float32",
        )
    )
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(lab_to_rgb(lab))
    gradient = np.asarray(tape.gradient(total, lab))
    assert np.all(np.isfinite(gradient))


@pytest.mark.parametrize(
    "lab, error, match",
    [
        (np.float32(50.0), ValueError, "`lab` must have rank >= 1"),
        (np.zeros((4, 2)), ValueError, "last axis of `lab` must have size 3"),
        (np.array(["L", "a", "b"]), TypeError, "`lab` must have a real"),
        (np.ones(3, bool), TypeError, "`lab` must have a real numeric dtype"),
        (object(), TypeError, "`lab` must be a numeric array or tensor"),
    ],
)
def test_bad_inputs_are_rejected(lab, error, match):
    with pytest.raises(error, match=match):
        lab_to_rgb(lab)
