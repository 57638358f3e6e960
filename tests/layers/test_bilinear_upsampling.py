import keras
import numpy as np
import pytest
import tensorflow as tf
from absl.testing import parameterized

from keras_lbie.layers.bilinear_upsampling import BilinearUpsampling
from tests.test_case import TestCase


def _images(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


class BilinearUpsamplingTest(TestCase):
    def test_layer_behaviors(self):
        self.run_layer_test(
            cls=BilinearUpsampling,
            init_kwargs={"factor": 2, "kernel_size": 4, "trainable": True},
            input_data={"inputs": _images((2, 4, 3, 3))},
            expected_output_shape=(2, 8, 6, 3),
            expected_num_trainable_weights=1,
        )

    @parameterized.named_parameters(
        ("paper_kernel16_stride8", 8, 16),
        ("factor2", 2, None),
        ("odd_factor3", 3, None),
        ("odd_factor3_kernel5", 3, 5),
    )
    def test_matches_tf_image_resize_in_interior(self, factor, kernel_size):
        images = _images((2, 6, 7, 3), seed=factor)
        layer = BilinearUpsampling(factor, kernel_size=kernel_size)
        upsampled = keras.ops.convert_to_numpy(layer(images))
        resized = tf.image.resize(
            images, (6 * factor, 7 * factor), method="bilinear"
        ).numpy()
        # Within `factor` pixels of the border the transposed convolution
        # sees zero padding where resize clamps to the edge pixel.
        interior = (slice(None), slice(factor, -factor), slice(factor, -factor))
        self.assertAllClose(upsampled[interior], resized[interior], atol=1e-5)

    def test_channels_stay_separate(self):
        layer = BilinearUpsampling(4)
        layer.build((None, 3, 3, 5))
        kernel = keras.ops.convert_to_numpy(layer.deconv.kernel)
        off_diagonal = kernel * (1 - np.eye(5))
        self.assertAllEqual(off_diagonal, np.zeros_like(off_diagonal))
        self.assertGreater(
            np.abs(np.diagonal(kernel, axis1=2, axis2=3)).min(), 0
        )

    def test_kernel_is_trainable(self):
        images = _images((2, 3, 3, 2))
        inputs = keras.Input((3, 3, 2))
        layer = BilinearUpsampling(2)
        model = keras.Model(inputs, layer(inputs))
        initial = keras.ops.convert_to_numpy(layer.deconv.kernel)
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        model.fit(images, np.zeros((2, 6, 6, 2)), epochs=1, verbose=0)
        trained = keras.ops.convert_to_numpy(layer.deconv.kernel)
        self.assertLen(layer.trainable_weights, 1)
        self.assertGreater(np.abs(trained - initial).max(), 0)

    def test_frozen_kernel(self):
        layer = BilinearUpsampling(2, trainable=False)
        layer.build((None, 3, 3, 2))
        self.assertEmpty(layer.trainable_weights)
        self.assertLen(layer.non_trainable_weights, 1)

    def test_initializer_serializes(self):
        layer = BilinearUpsampling(8)
        layer.build((None, 2, 2, 1))
        initializer = layer.deconv.kernel_initializer
        revived = keras.initializers.deserialize(
            keras.initializers.serialize(initializer)
        )
        self.assertAllEqual(
            revived((16, 16, 1, 1)), initializer((16, 16, 1, 1))
        )

    def test_invalid_arguments(self):
        for factor in (0, -2, 2.0, None):
            with self.assertRaisesRegex(ValueError, "factor"):
                BilinearUpsampling(factor)
        for kernel_size in (0, -1, 4.0):
            with self.assertRaisesRegex(ValueError, "kernel_size"):
                BilinearUpsampling(2, kernel_size=kernel_size)

    def test_invalid_inputs(self):
        with self.assertRaisesRegex(ValueError, "`inputs` must have rank 4"):
            BilinearUpsampling(2)(_images((2, 3, 3)))
        with self.assertRaisesRegex(ValueError, "channel"):
            BilinearUpsampling(2).build((None, 3, 3, None))
        layer = BilinearUpsampling(2)
        layer(_images((1, 3, 3, 2)))
        with self.assertRaisesRegex(ValueError, r"\(batch, height, width, 2\)"):
            layer(_images((1, 3, 3, 4)))


def test_kernel_shorter_than_the_stride_is_rejected():
    with pytest.raises(ValueError, match="kernel_size"):
        BilinearUpsampling(factor=8, kernel_size=4)
