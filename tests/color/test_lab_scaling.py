import keras
import numpy as np
import pytest
import tensorflow as tf
from skimage.color import lab2rgb
from skimage.color import rgb2lab

from keras_lbie.color import AB_SCALE
from keras_lbie.color import L_SCALE
from keras_lbie.color import lab_to_model
from keras_lbie.color import model_outputs_to_rgb
from keras_lbie.color import model_to_lab
from keras_lbie.color import rgb_to_model_inputs


def rgb_grid(steps=33):
    # A regular grid over the whole sRGB cube, corners included.
    axis = np.linspace(0.0, 1.0, steps)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1)
    return grid.reshape(-1, 3)


def test_known_values():
    l_scaled, ab_scaled = lab_to_model(
        np.array([[0.0, 0.0, 0.0], [100.0, 55.0, -110.0], [50.0, 110, 22]])
    )
    np.testing.assert_allclose(l_scaled, [[-1.0], [1.0], [0.0]])
    np.testing.assert_allclose(ab_scaled, [[0.0, 0.0], [0.5, -1.0], [1, 0.2]])
    assert (L_SCALE, AB_SCALE) == (50.0, 110.0)


def test_every_srgb_colour_scales_into_unit_range():
    l_scaled, ab_scaled = rgb_to_model_inputs(rgb_grid().astype("float32"))
    l_scaled, ab_scaled = np.asarray(l_scaled), np.asarray(ab_scaled)
    assert l_scaled.min() >= -1.0 - 1e-6 and l_scaled.max() <= 1.0 + 1e-6
    assert np.abs(ab_scaled).max() <= 1.0
    # And the scale is not wasteful: the gamut reaches past 0.95 in b.
    assert np.abs(ab_scaled).max() > 0.95


def test_model_inputs_match_skimage():
    rgb = np.random.default_rng(0).random((3, 8, 8, 3))
    l_scaled, ab_scaled = rgb_to_model_inputs(rgb.astype("float32"))
    assert l_scaled.shape == (3, 8, 8, 1) and ab_scaled.shape == (3, 8, 8, 2)
    lab = rgb2lab(rgb)
    np.testing.assert_allclose(l_scaled, lab[..., :1] / 50 - 1, atol=1e-5)
    np.testing.assert_allclose(ab_scaled, lab[..., 1:] / 110, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lab_round_trip(dtype):
    rng = np.random.default_rng(1)
    lab = np.stack(
        [rng.uniform(0, 100, 500), *rng.uniform(-128, 127, (2, 500))], -1
    ).astype(dtype)
    restored = model_to_lab(*lab_to_model(lab))
    assert restored.dtype == dtype
    np.testing.assert_allclose(restored, lab, atol=1e-4)


def test_rgb_round_trip_through_model_scale():
    rgb = np.random.default_rng(2).random((2, 16, 16, 3)).astype("float32")
    restored = model_outputs_to_rgb(*rgb_to_model_inputs(rgb))
    assert restored.shape == rgb.shape
    np.testing.assert_allclose(restored, rgb, atol=1e-4)


def test_model_outputs_to_rgb_clips_like_skimage():
    # A saturated prediction, beyond the gamut for most of these L values.
    l_scaled = np.linspace(-1.0, 1.0, 11, dtype="float32")[:, None]
    ab_scaled = np.tile(np.array([[1.0, -1.0]], "float32"), (11, 1))
    rgb = np.asarray(model_outputs_to_rgb(l_scaled, ab_scaled))
    lab = np.concatenate([(l_scaled + 1) * 50, ab_scaled * 110], -1)
    with pytest.warns(UserWarning, match="negative Z"):
        expected = lab2rgb(np.concatenate([lab, [[50.0, 0.0, 250.0]]]))
    np.testing.assert_allclose(rgb, expected[:-1], atol=1e-3)
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0


def test_mixed_precision_ab_pairs_with_float32_l():
    l_scaled = np.zeros((2, 4, 4, 1), "float32")
    ab_scaled = tf.zeros((2, 4, 4, 2), "bfloat16")
    assert model_to_lab(l_scaled, ab_scaled).dtype == "float32"
    rgb = model_outputs_to_rgb(l_scaled, ab_scaled)
    assert rgb.dtype == "float32"
    # L = 50, a = b = 0: mid grey.
    np.testing.assert_allclose(rgb, np.full(rgb.shape, 0.46633), atol=1e-4)
    both_half = model_to_lab(tf.zeros((1, 1), "bfloat16"), ab_scaled[0, 0, :1])
    assert both_half.dtype == "bfloat16"


def test_bfloat16_and_uint8_inputs():
    rgb = np.random.default_rng(3).integers(0, 256, (2, 4, 4, 3), "uint8")
    l_scaled, ab_scaled = rgb_to_model_inputs(rgb)
    assert l_scaled.dtype == ab_scaled.dtype == "float32"
    half = rgb_to_model_inputs(tf.cast(rgb / 255.0, "bfloat16"))
    for full, reduced in zip((l_scaled, ab_scaled), half, strict=True):
        assert reduced.dtype == "bfloat16"
        # bfloat16 rounding of inputs and outputs, scaled by 1/50 or 1/110.
        np.testing.assert_allclose(
            np.asarray(tf.cast(reduced, "float32")), full, atol=1e-2
        )


def test_xla_and_symbolic_inputs():
    rgb = np.random.default_rng(4).random((2, 8, 8, 3)).astype("float32")

    @tf.function(jit_compile=True)
    def round_trip(rgb):
        return model_outputs_to_rgb(*rgb_to_model_inputs(rgb))

    np.testing.assert_allclose(round_trip(rgb), rgb, atol=1e-4)
    inputs = keras.Input((8, 8, 3))
    l_scaled, ab_scaled = rgb_to_model_inputs(inputs)
    model = keras.Model(inputs, model_outputs_to_rgb(l_scaled, ab_scaled))
    np.testing.assert_allclose(model(rgb), rgb, atol=1e-4)


@pytest.mark.parametrize(
    "l_scaled, ab_scaled, error, match",
    [
        (np.zeros((4, 2)), np.zeros((4, 2)), ValueError, "`l_scaled` must"),
        (np.zeros((4, 1)), np.zeros((4, 3)), ValueError, "`ab_scaled` must"),
        (np.float32(0), np.zeros((4, 2)), ValueError, "`l_scaled` must have"),
        (np.zeros((4, 1)), np.float32(0), ValueError, "`ab_scaled` must have"),
        (np.zeros((4, 1)), np.zeros((5, 2)), ValueError, "same leading axes"),
        (np.zeros((4, 1)), np.zeros((1, 4, 2)), ValueError, "same leading"),
        (np.array(["x"]), np.zeros((2,)), TypeError, "`l_scaled` must have"),
        (np.zeros(1), np.ones(2, bool), TypeError, "`ab_scaled` must have"),
    ],
)
def test_bad_scaled_inputs_are_rejected(l_scaled, ab_scaled, error, match):
    with pytest.raises(error, match=match):
        model_to_lab(l_scaled, ab_scaled)
    with pytest.raises(error, match=match):
        model_outputs_to_rgb(l_scaled, ab_scaled)


@pytest.mark.parametrize(
    "function, argument",
    [(lab_to_model, "lab"), (rgb_to_model_inputs, "rgb")],
)
def test_bad_lab_or_rgb_is_rejected(function, argument):
    with pytest.raises(ValueError, match=f"last axis of `{argument}`"):
        function(np.zeros((4, 2), "float32"))
    with pytest.raises(ValueError, match=f"`{argument}` must have rank"):
        function(np.float32(0))
    with pytest.raises(TypeError, match=f"`{argument}` must have a real"):
        function(np.array(["a", "b", "c"]))
