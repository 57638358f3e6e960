import keras
import numpy as np
import pytest
import tensorflow as tf
from absl.testing import parameterized

from keras_lbie.models import LBIEColorizerBackbone
from tests.models.lbie_colorizer.tiny_colorizer import TINY_BACKBONE
from tests.models.lbie_colorizer.tiny_colorizer import tiny_backbone
from tests.models.lbie_colorizer.tiny_colorizer import tiny_data
from tests.test_case import TestCase
from tests.test_case import to_numpy


class LBIEColorizerBackboneTest(TestCase):
    def test_outputs(self):
        backbone = tiny_backbone(max_steps=3)
        x, _ = tiny_data()
        outputs = backbone(x, training=False)
        self.assert_output_shapes(
            outputs,
            {
                "ab": (4, 16, 16, 2),
                "attention": (4, 3, 4, 4, 6),
                "stop_step": (4, 4, 4),
            },
        )
        self.assertEqual(outputs["ab"].dtype, "float32")
        self.assertEqual(outputs["stop_step"].dtype, "int32")
        ab = to_numpy(outputs["ab"])
        self.assertTrue(np.all(np.abs(ab) <= 1.0))
        attention = to_numpy(outputs["attention"])
        self.assertAllClose(attention.sum(-1), np.ones((4, 3, 4, 4)))
        # Example 0's last three words are padding: never attended.
        self.assertAllEqual(attention[0, ..., 3:], np.zeros((3, 4, 4, 3)))
        self.assertEqual(backbone.encoder_stride, 4)

    def test_config_round_trip(self):
        backbone = tiny_backbone(termination_mode="expected")
        self.assert_config_round_trip(backbone, TINY_BACKBONE)

    @parameterized.named_parameters(
        ("vocabulary_size", {"vocabulary_size": 0}, ValueError),
        ("filters_empty", {"encoder_filters": ()}, ValueError),
        ("filters_str", {"encoder_filters": "8"}, ValueError),
        ("strides_length", {"encoder_strides": (2,)}, ValueError),
        ("strides_zero", {"encoder_strides": (2, 0)}, ValueError),
        ("image_size_stride", {"image_size": 18}, ValueError),
        ("decoder_product", {"decoder_strides": (2, 4)}, ValueError),
        ("decoder_length", {"decoder_strides": (4,)}, ValueError),
        ("max_steps", {"max_steps": 0}, ValueError),
        ("mode", {"termination_mode": "argmax"}, ValueError),
        ("temperature", {"temperature": -1.0}, ValueError),
        ("max_words", {"max_words": 0}, ValueError),
        ("seed", {"seed": 1.5}, TypeError),
    )
    def test_invalid_arguments(self, overrides, error):
        with self.assertRaises(error):
            tiny_backbone(**overrides)

    def test_bad_inputs(self):
        backbone = tiny_backbone()
        x, _ = tiny_data()
        image_l = x["image_l"]
        uint8 = (image_l * 100).astype("uint8")
        self.assert_bad_inputs(
            backbone,
            {
                "size": ({**x, "image_l": image_l[:, :8, :8]}, "image_l"),
                "colour": (
                    {**x, "image_l": np.repeat(image_l, 3, -1)},
                    "image_l",
                ),
                "rank": ({**x, "image_l": image_l[..., 0]}, "image_l"),
                "words": (
                    {**x, "token_ids": x["token_ids"][:, :4]},
                    "token_ids",
                ),
                "keys": ({"image_l": image_l}, "keys"),
            },
            {
                "uint8": ({**x, "image_l": uint8}, "image_l"),
                "str ids": (
                    {**x, "token_ids": x["token_ids"].astype(str)},
                    "token_ids",
                ),
            },
        )

    def test_every_weight_trains_with_several_steps(self):
        # T > 1: the decoder reads the Gumbel mixture of the steps, so the
        # second step's C-GRU and the gates get gradients from the L1 loss.
        backbone = tiny_backbone(max_steps=3)
        x, ab = tiny_data()
        with tf.GradientTape() as tape:
            predicted = backbone(x, training=True)["ab"]
            loss = keras.ops.mean(keras.ops.abs(predicted - ab))
        gradients = tape.gradient(loss, backbone.trainable_variables)
        names = [v.path for v in backbone.trainable_variables]
        self.assertTrue(any("termination_gate" in name for name in names))
        self.assertTrue(any("next_state_conv" in name for name in names))
        for variable, gradient in zip(
            backbone.trainable_variables, gradients, strict=True
        ):
            self.assertIsNotNone(gradient, msg=variable.path)
            self.assertGreater(
                np.abs(to_numpy(gradient)).max(), 0.0, msg=variable.path
            )

    def test_one_step_freezes_unused_state_weights(self):
        backbone = tiny_backbone()
        names = [v.path for v in backbone.non_trainable_variables]
        self.assertTrue(any("next_state_conv" in name for name in names))

    @pytest.mark.large
    def test_jit_compile_matches_eager(self):
        backbone = tiny_backbone(max_steps=2)
        x, _ = tiny_data()
        self.assert_jit_compile_matches_eager(backbone, x, atol=1e-5)

    def test_mixed_precision(self):
        keras.config.set_dtype_policy("mixed_float16")
        backbone = tiny_backbone(max_steps=2)
        x, _ = tiny_data()
        outputs = backbone(x, training=True)
        # The output layer runs in float32.
        self.assertEqual(outputs["ab"].dtype, "float32")
        self.assertEqual(outputs["attention"].dtype, "float16")
        self.assertTrue(np.all(np.isfinite(to_numpy(outputs["ab"]))))

    def test_backbone_basics(self):
        self.run_backbone_test(
            LBIEColorizerBackbone,
            {**TINY_BACKBONE, "max_steps": 3},
            tiny_data()[0],
            {
                "ab": (4, 16, 16, 2),
                "attention": (4, 3, 4, 4, 6),
                "stop_step": (4, 4, 4),
            },
        )
