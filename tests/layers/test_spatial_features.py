import numpy as np

from keras_lbie.layers.spatial_features import SpatialFeatures
from tests.test_case import TestCase


class SpatialFeaturesTest(TestCase):
    def test_layer_behaviors(self):
        self.run_layer_test(
            cls=SpatialFeatures,
            init_kwargs={},
            input_data={"inputs": np.ones((2, 3, 4, 5), "float32")},
            expected_output_shape=(2, 3, 4, 13),
            expected_num_trainable_weights=0,
            run_training_check=False,
        )

    def test_features_follow_text_objseg(self):
        inputs = np.full((1, 2, 4, 1), 7.0, "float32")
        outputs = np.asarray(SpatialFeatures()(inputs))
        self.assertAllEqual(outputs[..., 0], inputs[..., 0])
        # Row 1 (bottom half), column 0 (left quarter) of a 2 × 4 map.
        self.assertAllClose(
            outputs[0, 1, 0, 1:],
            [-1.0, 0.0, -0.5, 1.0, -0.75, 0.5, 0.25, 0.5],
        )
        # x grows along columns, y along rows, the same for every row.
        self.assertAllClose(outputs[0, 0, :, 5], [-0.75, -0.25, 0.25, 0.75])
        self.assertAllClose(outputs[0, :, 2, 6], [-0.5, 0.5])

    def test_every_example_gets_the_same_features(self):
        inputs = np.random.default_rng(0).normal(size=(3, 5, 5, 2))
        outputs = np.asarray(SpatialFeatures()(inputs.astype("float32")))
        self.assertAllEqual(outputs[0, ..., 2:], outputs[2, ..., 2:])

    def test_invalid_inputs(self):
        with self.assertRaisesRegex(ValueError, "`inputs` must have rank 4"):
            SpatialFeatures()(np.ones((2, 3, 3), "float32"))
