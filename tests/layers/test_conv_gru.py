import keras
import numpy as np
from absl.testing import parameterized

from keras_lbie.layers.conv_gru import ConvGRU
from tests.layers import paper_reference
from tests.test_case import TestCase

BATCH, HEIGHT, WIDTH, FILTERS, CHANNELS = 2, 5, 4, 4, 3


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    state = rng.normal(size=(BATCH, HEIGHT, WIDTH, FILTERS))
    inputs = rng.normal(size=(BATCH, HEIGHT, WIDTH, CHANNELS))
    return state.astype("float32"), inputs.astype("float32")


def _paper_weights(layer):
    """Splits the fused kernels as the class docstring documents."""

    def numpy(variable):
        return keras.ops.convert_to_numpy(variable).astype("float64")

    w1, w3 = np.split(numpy(layer.state_gate_conv.kernel), 2, axis=-1)
    w2, w4, w6 = np.split(numpy(layer.input_conv.kernel), 3, axis=-1)
    b1, b2, b = np.split(numpy(layer.input_conv.bias), 3)
    return {
        "W1": w1,
        "W2": w2,
        "W3": w3,
        "W4": w4,
        "W5": numpy(layer.candidate_conv.kernel),
        "W6": w6,
        "W7": numpy(layer.next_state_conv.kernel),
        "b1": b1,
        "b2": b2,
        "b": b,
    }


class ConvGRUTest(TestCase):
    def test_layer_behaviors(self):
        state, inputs = _inputs()
        self.run_layer_test(
            cls=ConvGRU,
            init_kwargs={"filters": FILTERS, "kernel_size": 3},
            input_data={"state": state, "inputs": inputs},
            expected_output_shape=[(BATCH, HEIGHT, WIDTH, FILTERS)] * 2,
            # W1|W3, W2|W4|W6, b1|b2|b, W5, W7.
            expected_num_trainable_weights=5,
        )

    @parameterized.named_parameters(
        ("kernel_3", 3),
        ("kernel_1", 1),
        ("kernel_2", 2),
        ("kernel_3x1", (3, 1)),
    )
    def test_matches_numpy_equations(self, kernel_size):
        state, inputs = _inputs(seed=1)
        layer = ConvGRU(FILTERS, kernel_size=kernel_size)
        layer.build(state.shape, inputs.shape)
        # Non-zero biases and larger kernels so every term matters.
        rng = np.random.default_rng(2)
        for variable in layer.weights:
            variable.assign(rng.normal(size=variable.shape, scale=0.5))
        output, next_state = layer(state, inputs)
        expected_output, expected_state = paper_reference.conv_gru(
            state, inputs, _paper_weights(layer)
        )
        self.assertAllClose(output, expected_output, atol=1e-4)
        self.assertAllClose(next_state, expected_state, atol=1e-4)

    def test_invalid_arguments(self):
        for filters in (0, -1, 2.0, None):
            with self.assertRaisesRegex(ValueError, "filters"):
                ConvGRU(filters)
        for kernel_size in (0, -3, (3,), (3, 0), 1.5):
            with self.assertRaisesRegex(ValueError, "kernel_size"):
                ConvGRU(FILTERS, kernel_size=kernel_size)

    def test_invalid_inputs(self):
        state, inputs = _inputs()
        cases = [
            ("`state` must have rank 4", state[0], inputs),
            ("`inputs` must have rank 4", state, inputs[0]),
            ("`state` must have `filters`=4", state[..., :3], inputs),
            ("height and width", state, inputs[:, :4]),
            ("batch size", state, inputs[:1]),
        ]
        for pattern, s, x in cases:
            with self.assertRaisesRegex(ValueError, pattern):
                ConvGRU(FILTERS)(s, x)

    def test_inputs_channels_must_match_built_layer(self):
        state, inputs = _inputs()
        layer = ConvGRU(FILTERS)
        layer(state, inputs)
        with self.assertRaisesRegex(ValueError, "`inputs` must have 3"):
            layer(state, inputs[..., :2])
