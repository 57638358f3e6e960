"""Checks shared by the backbone tests of every model family (a helper
module: it holds no tests)."""

import keras
import numpy as np


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def numpy_pixel_cross_entropy(labels, logits):
    """Per-pixel softmax cross-entropy of `logits` at `labels`, float64."""
    logits = logits.astype("float64")
    logits = logits - logits.max(axis=-1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    return -np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0]


class BackboneChecks:
    """Assertions for `TestCase` subclasses testing a backbone."""

    def assert_output_shapes(self, outputs, expected):
        """`outputs` is a dict of tensors with the `expected` shapes."""
        shapes = {key: tuple(value.shape) for key, value in outputs.items()}
        self.assertEqual(shapes, expected)

    def assert_config_round_trip(self, backbone, arguments):
        """The config holds `arguments` and revives to the same config.

        Both `from_config` and Keras's registered deserialisation are
        checked. Returns the config, for checks of its other entries.
        """
        config = backbone.get_config()
        for key, value in arguments.items():
            expected = list(value) if isinstance(value, tuple) else value
            self.assertEqual(config[key], expected, msg=key)
        revived = type(backbone).from_config(config)
        self.assertEqual(revived.get_config(), config)
        registered = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(backbone)
        )
        self.assertIsInstance(registered, type(backbone))
        self.assertEqual(registered.get_config(), config)
        return config

    def assert_bad_inputs(self, backbone, value_errors, type_errors):
        """Calling `backbone` on each bad input raises, naming the problem.

        Args:
            backbone: the model under test.
            value_errors, type_errors: dicts from a case name to
                `(inputs, message)`: the call must raise a `ValueError`
                (a `TypeError`) matching `message`.
        """
        for error, cases in (
            (ValueError, value_errors),
            (TypeError, type_errors),
        ):
            for name, (inputs, message) in cases.items():
                with self.subTest(name):
                    with self.assertRaisesRegex(error, message):
                        backbone(inputs)

    def assert_jit_compile_matches_eager(self, backbone, x, atol):
        """`predict` gives the same outputs with and without XLA."""
        outputs = {}
        for jit_compile in (False, True):
            backbone.compile(jit_compile=jit_compile)
            outputs[jit_compile] = backbone.predict(x, verbose=0)
        for key in outputs[False]:
            self.assertAllClose(
                outputs[False][key], outputs[True][key], atol=atol, msg=key
            )
