"""The shared test base class: the checks every layer and model goes through.

Modelled on keras-hub's `TestCase`: a test states its constructor
arguments, example inputs and expected output shapes once, and

- `run_layer_test` checks a layer's config round trip, weight counts,
  eager and symbolic calls, one `fit` step, mixed precision, `.keras`
  save/load and XLA;
- `run_backbone_test` a backbone's config round trip, output shapes and
  XLA;
- `run_task_test` a task's config round trip, outputs on raw inputs and
  `.keras` save/load;
- `run_preset_test` that a preset builds with the network off and runs.

The `assert_*` methods are the pieces, for tests that need one.
"""

import os
import socket
import tempfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from absl.testing import parameterized
from keras import ops

MIXED_PRECISION_POLICIES = ("mixed_float16", "mixed_bfloat16")
RESULTS_DIR = os.path.join(os.path.dirname(__file__), "..", "results")


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def numpy_pixel_cross_entropy(labels, logits):
    """Per-pixel softmax cross-entropy of `logits` at `labels`, float64."""
    logits = logits.astype("float64")
    logits = logits - logits.max(axis=-1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    return -np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0]


def _no_network(*args, **kwargs):
    raise AssertionError("loading a preset must not open a socket")


def load_offline(build):
    """Returns `build()`, run with `socket.socket` patched to fail."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "socket", _no_network)
        return build()


def _flatten(x):
    # Layers return a tensor, a tuple/list or a dict of tensors.
    return tf.nest.flatten(x)


def _flatten_shapes(shapes):
    if isinstance(shapes, dict):
        return [tuple(shapes[key]) for key in sorted(shapes)]
    if isinstance(shapes[0], (list, tuple)):
        return [tuple(shape) for shape in shapes]
    return [tuple(shapes)]


def _is_float(x):
    return "float" in str(keras.backend.standardize_dtype(x.dtype))


def _to_numpy(structure):
    return tf.nest.map_structure(ops.convert_to_numpy, structure)


def _symbolic_input(name, value):
    value = ops.convert_to_tensor(value)
    return keras.Input(
        shape=tuple(value.shape[1:]),
        dtype=keras.backend.standardize_dtype(value.dtype),
        name=name,
    )


# The all-reductions of `MirroredStrategy` a test session can share: one
# through a device, and an all-reduce across the devices (as on GPUs).
CROSS_DEVICE_OPS = {
    "reduction_to_one_device": tf.distribute.ReductionToOneDevice,
    "hierarchical_copy": tf.distribute.HierarchicalCopyAllReduce,
}


def two_replica_strategy(cross_device_ops=None):
    """A `MirroredStrategy` over the two logical CPUs of `conftest.py`.

    Reduces through one device unless `cross_device_ops` says otherwise:
    collectives of the several strategies a test session creates share
    instance keys and can abort each other ("Shape mismatch in the
    collective instance"), so tests of collective all-reduce run in a
    process of their own.
    """
    devices = tf.config.list_logical_devices("CPU")
    if len(devices) < 2:
        raise RuntimeError("tests/conftest.py must split the CPU in two")
    return tf.distribute.MirroredStrategy(
        [device.name for device in devices[:2]],
        cross_device_ops=cross_device_ops
        or tf.distribute.ReductionToOneDevice(),
    )


class TestCase(tf.test.TestCase, parameterized.TestCase):
    """Base class for keras_lbie tests."""

    def setUp(self):
        super().setUp()
        keras.config.set_dtype_policy("float32")
        keras.utils.set_random_seed(1337)

    def tearDown(self):
        keras.config.set_dtype_policy("float32")
        # Fresh layer names and graph, without the full `gc.collect()` of
        # the default, which took 40% of the layer tests' time; Python's
        # own collector frees the cycles as it goes.
        keras.backend.clear_session(free_memory=False)
        super().tearDown()

    def get_temp_dir(self):
        return tempfile.mkdtemp(dir=super().get_temp_dir())

    def assertAllCloseNested(self, expected, actual, atol=1e-6, rtol=1e-6):
        expected = tf.nest.flatten(_to_numpy(expected))
        actual = tf.nest.flatten(_to_numpy(actual))
        self.assertEqual(len(expected), len(actual))
        for e, a in zip(expected, actual, strict=True):
            self.assertAllClose(e, a, atol=atol, rtol=rtol)

    def assert_output_shapes(self, outputs, expected):
        """`outputs` is a dict of tensors with the `expected` shapes."""
        shapes = {key: tuple(value.shape) for key, value in outputs.items()}
        self.assertEqual(shapes, expected)

    def assert_config_round_trip(self, model, arguments):
        """The config holds `arguments` and revives to the same config.

        Both `from_config` and Keras's registered deserialisation are
        checked. Returns the config, for checks of its other entries.
        """
        config = model.get_config()
        for key, value in arguments.items():
            expected = list(value) if isinstance(value, tuple) else value
            self.assertEqual(config[key], expected, msg=key)
        revived = type(model).from_config(config)
        self.assertEqual(revived.get_config(), config)
        registered = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(model)
        )
        self.assertIsInstance(registered, type(model))
        self.assertEqual(registered.get_config(), config)
        return config

    def assert_bad_inputs(self, model, value_errors, type_errors):
        """Calling `model` on each bad input raises, naming the problem.

        Args:
            model: the model under test.
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
                        model(inputs)

    def assert_jit_compile_matches_eager(self, model, x, atol):
        """`predict` gives the same outputs with and without XLA."""
        outputs = {}
        for jit_compile in (False, True):
            model.compile(jit_compile=jit_compile)
            outputs[jit_compile] = model.predict(x, verbose=0)
        for key in outputs[False]:
            self.assertAllClose(
                outputs[False][key], outputs[True][key], atol=atol, msg=key
            )

    def run_backbone_test(
        self,
        cls,
        init_kwargs,
        input_data,
        expected_output_shape,
        run_jit_check=True,
        tolerance=1e-4,
    ):
        """Runs the standard checks every backbone must pass.

        Args:
            cls: the backbone class.
            init_kwargs: dict of constructor arguments.
            input_data: dict of numpy inputs with a batch axis.
            expected_output_shape: dict from output names to shapes.
            run_jit_check: `predict` with `jit_compile=True` matches eager.
            tolerance: absolute tolerance of the XLA comparison.

        Returns:
            The backbone, for further checks.
        """
        backbone = cls(**init_kwargs)
        # Parts such as an image encoder are serialised, not compared.
        plain = {
            key: value
            for key, value in init_kwargs.items()
            if not hasattr(value, "get_config")
        }
        self.assert_config_round_trip(backbone, plain)
        self.assert_output_shapes(backbone(input_data), expected_output_shape)
        if run_jit_check:
            self.assert_jit_compile_matches_eager(
                backbone, input_data, atol=tolerance
            )
        return backbone

    def run_task_test(self, task, input_data, expected_output_shape):
        """Runs the standard checks every task must pass.

        The registered config round trip, the output on raw inputs, and a
        `.keras` save/load with the same outputs.

        Args:
            task: the task model under test.
            input_data: dict of its raw inputs (`"image"`, `"text"`).
            expected_output_shape: the shape of its output.
        """
        config = task.get_config()
        registered = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(task)
        )
        self.assertIsInstance(registered, type(task))
        self.assertEqual(registered.get_config(), config)
        outputs = task.predict(input_data, verbose=0)
        self.assertEqual(tuple(outputs.shape), tuple(expected_output_shape))
        path = os.path.join(self.get_temp_dir(), "task.keras")
        task.save(path)
        restored = keras.models.load_model(path)
        self.assertAllClose(
            outputs, restored.predict(input_data, verbose=0), atol=1e-6
        )

    def run_preset_test(
        self, cls, preset, input_data, expected_output_shape, **kwargs
    ):
        """Builds a preset with the network off, then runs it.

        Args:
            cls: the task class.
            preset: a name of `cls.available_presets()`.
            input_data: dict of raw inputs for the task.
            expected_output_shape: the shape of its output.
            **kwargs: `from_preset` arguments (e.g. `vocabulary`).

        Returns:
            The task, for further checks.
        """
        self.assertIn(preset, cls.available_presets())
        task = load_offline(lambda: cls.from_preset(preset, **kwargs))
        self.assertIsInstance(task, cls)
        outputs = task.predict(input_data, verbose=0)
        self.assertEqual(tuple(outputs.shape), tuple(expected_output_shape))
        return task

    def run_layer_test(
        self,
        cls,
        init_kwargs,
        input_data,
        expected_output_shape,
        expected_num_trainable_weights=None,
        expected_num_non_trainable_weights=0,
        call_kwargs=None,
        run_training_check=True,
        run_precision_checks=True,
        run_saving_check=True,
        run_jit_check=True,
        tolerance=1e-5,
    ):
        """Runs the standard checks every keras_lbie layer must pass.

        Args:
            cls: the layer class.
            init_kwargs: dict of constructor arguments.
            input_data: dict of call arguments (tensors or numpy arrays),
                passed as keyword arguments; every tensor must have a batch
                axis.
            expected_output_shape: the eager output shape; a list of shapes
                when the layer returns a list or tuple, a dict of shapes when
                it returns a dict.
            expected_num_trainable_weights: number of trainable variables.
            expected_num_non_trainable_weights: number of non-trainable ones.
            call_kwargs: dict of non-tensor call arguments (flags), passed
                to every call of the layer.
            run_training_check: fit one step and check every trainable
                weight receives a finite, non-zero gradient.
            run_precision_checks: run under mixed_float16/mixed_bfloat16;
                outputs come in the compute dtype, except dict entries
                named `log_*` (log-probabilities), which stay float32.
            run_saving_check: `.keras` round trip gives identical outputs.
            run_jit_check: `jit_compile=True` matches eager.
            tolerance: absolute tolerance of the numeric comparisons.
        """
        self._check_config_round_trip(cls, init_kwargs)
        call_kwargs = call_kwargs or {}
        layer = cls(**init_kwargs)
        outputs = layer(**input_data, **call_kwargs)
        self._check_output_shapes(outputs, expected_output_shape)
        if expected_num_trainable_weights is not None:
            self.assertLen(
                layer.trainable_weights, expected_num_trainable_weights
            )
        self.assertLen(
            layer.non_trainable_weights, expected_num_non_trainable_weights
        )
        model = self._functional_model(layer, input_data, call_kwargs)
        self._check_output_shapes(
            model.outputs, expected_output_shape, ignore_batch=True
        )
        if run_jit_check:
            self._check_jit_matches_eager(
                layer, input_data, call_kwargs, tolerance
            )
        if run_saving_check:
            self._check_saving(model, input_data, tolerance)
        if run_training_check:
            self.run_training_step_check(model, input_data)
        if run_precision_checks:
            for policy in MIXED_PRECISION_POLICIES:
                self._check_precision(
                    cls, init_kwargs, input_data, call_kwargs, policy
                )

    def _check_config_round_trip(self, cls, init_kwargs):
        layer = cls(**init_kwargs)
        config = layer.get_config()
        for key, value in init_kwargs.items():
            self.assertIn(key, config)
            if not hasattr(value, "get_config"):
                self.assertEqual(config[key], value, msg=key)
        revived = cls.from_config(config)
        self.assertEqual(revived.get_config(), config)
        registered = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(layer)
        )
        self.assertIsInstance(registered, cls)
        self.assertEqual(registered.get_config(), config)

    def _check_output_shapes(self, outputs, expected, ignore_batch=False):
        outputs = _flatten(outputs)
        expected = _flatten_shapes(expected)
        self.assertLen(outputs, len(expected))
        for output, shape in zip(outputs, expected, strict=True):
            actual = tuple(output.shape)
            if ignore_batch:
                actual, shape = actual[1:], tuple(shape)[1:]
            self.assertEqual(actual, tuple(shape))

    def _functional_model(self, layer, input_data, call_kwargs):
        inputs = {
            name: _symbolic_input(name, value)
            for name, value in input_data.items()
        }
        outputs = layer(**inputs, **call_kwargs)
        return keras.Model(inputs, outputs)

    def _check_jit_matches_eager(
        self, layer, input_data, call_kwargs, tolerance
    ):
        eager = layer(**input_data, **call_kwargs)
        compiled = tf.function(
            lambda kwargs: layer(**kwargs, **call_kwargs), jit_compile=True
        )(input_data)
        self.assertAllCloseNested(eager, compiled, atol=tolerance)

    def _check_saving(self, model, input_data, tolerance):
        path = os.path.join(self.get_temp_dir(), "model.keras")
        model.save(path)
        restored = keras.models.load_model(path)
        self.assertAllCloseNested(
            model(input_data), restored(input_data), atol=tolerance
        )

    def run_training_step_check(self, model, input_data):
        """Fits `model` one step and checks every weight gets a gradient."""
        float_outputs = [
            output for output in _flatten(model.outputs) if _is_float(output)
        ]
        trainable = keras.Model(model.inputs, float_outputs)
        targets = [
            np.zeros(ops.shape(y), "float32")
            for y in _flatten(trainable(input_data))
        ]
        with tf.GradientTape() as tape:
            predictions = _flatten(trainable(input_data, training=True))
            # Squared outputs give every weight that shapes the output a
            # gradient; a zero gradient means a disconnected weight.
            loss = sum(ops.mean(ops.square(y)) for y in predictions)
        gradients = tape.gradient(loss, trainable.trainable_variables)
        for variable, gradient in zip(
            trainable.trainable_variables, gradients, strict=True
        ):
            self.assertIsNotNone(gradient, msg=variable.path)
            gradient = ops.convert_to_numpy(gradient)
            self.assertTrue(np.all(np.isfinite(gradient)), msg=variable.path)
            self.assertGreater(np.abs(gradient).max(), 0.0, msg=variable.path)
        trainable.compile(optimizer="sgd", loss="mse")
        batch = next(iter(tf.nest.flatten(input_data))).shape[0]
        history = trainable.fit(
            input_data, targets, batch_size=batch, epochs=1, verbose=0
        )
        self.assertTrue(np.isfinite(history.history["loss"][-1]))

    def _check_precision(
        self, cls, init_kwargs, input_data, call_kwargs, policy
    ):
        layer = cls(**init_kwargs, dtype=policy)
        outputs = layer(**input_data, **call_kwargs)
        if not isinstance(outputs, dict):
            outputs = dict(enumerate(_flatten(outputs)))
        compute_dtype = keras.mixed_precision.Policy(policy).compute_dtype
        for key, output in outputs.items():
            if _is_float(output):
                # Log-probabilities stay float32 by design: they underflow.
                expected = (
                    "float32" if str(key).startswith("log_") else compute_dtype
                )
                self.assertEqual(
                    keras.backend.standardize_dtype(output.dtype),
                    expected,
                    msg=key,
                )
                self.assertTrue(
                    np.all(np.isfinite(ops.convert_to_numpy(output)))
                )
        for variable in layer.weights:
            self.assertEqual(variable.dtype, "float32", msg=variable.path)

    def run_distributed_equivalence_check(
        self,
        build_model,
        x,
        y,
        loss,
        steps=3,
        global_batch_size=4,
        learning_rate=0.1,
        atol=1e-5,
        cross_device_ops=None,
        drop_remainder=True,
    ):
        """Checks 2-replica `MirroredStrategy` training equals 1 device.

        `build_model` is called inside each strategy's scope and must return
        an uncompiled model; both copies start from the same weights and are
        trained with SGD for `steps` steps at the same global batch size. The
        model must be deterministic in training (no per-replica noise).
        `cross_device_ops` (default `ReductionToOneDevice`) all-reduces the
        replicas' gradients; `drop_remainder=False` keeps a last batch that
        may split unevenly over the replicas.
        """
        strategies = [
            tf.distribute.OneDeviceStrategy("/cpu:0"),
            two_replica_strategy(cross_device_ops),
        ]
        initial_weights = None
        trained = []
        for strategy in strategies:
            with strategy.scope():
                model = build_model()
                model.compile(
                    optimizer=keras.optimizers.SGD(learning_rate), loss=loss
                )
            if initial_weights is None:
                initial_weights = [np.array(w) for w in model.get_weights()]
            model.set_weights(initial_weights)
            dataset = (
                tf.data.Dataset.from_tensor_slices((x, y))
                .batch(global_batch_size, drop_remainder=drop_remainder)
                .take(steps)
            )
            model.fit(dataset, epochs=1, verbose=0, shuffle=False)
            trained.append(model.get_weights())
        moved = any(
            not np.allclose(w0, w1)
            for w0, w1 in zip(initial_weights, trained[0], strict=True)
        )
        self.assertTrue(moved, "training did not change the weights")
        for single, mirrored in zip(*trained, strict=True):
            self.assertAllClose(single, mirrored, atol=atol, rtol=atol)
