import importlib.util
import os

import keras
import numpy as np
from absl.testing import parameterized

from keras_lbie.models import ReferItSegmenterBackbone
from keras_lbie.models import conv_image_encoder
from keras_lbie.models import vgg16_image_encoder
from tests.test_case import TestCase
from tests.test_case import numpy_pixel_cross_entropy
from tests.test_case import to_numpy

TINY = {
    "vocabulary_size": 10,
    "image_size": 16,
    "embedding_dim": 4,
    "text_units": 4,
    "fusion_units": 4,
    "attention_units": 4,
    "max_steps": 3,
    "classifier_units": 4,
    "l2_weight": 1e-3,
    "sequence_length": 5,
    "seed": 0,
}


def tiny_encoder():
    """16 px → 4×4×4 (stride 4)."""
    return conv_image_encoder(16, (3, 4), pool_every=1)


def tiny_backbone(**overrides):
    config = {**TINY, **overrides}
    config.setdefault("image_encoder", tiny_encoder())
    return ReferItSegmenterBackbone(**config)


def tiny_inputs(batch=4, seed=0):
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(1, 10, size=(batch, 5)).astype("int32")
    token_ids[0, :3] = 0  # left padding, as the ReferItTokenizer pads
    x = {
        "image": rng.integers(0, 256, size=(batch, 16, 16, 3)).astype("uint8"),
        "token_ids": token_ids,
    }
    y = (rng.uniform(size=(batch, 16, 16)) < 0.3).astype("int32")
    return x, y


class ReferItSegmenterBackboneTest(TestCase):
    def test_outputs(self):
        backbone = tiny_backbone()
        x, _ = tiny_inputs()
        outputs = backbone(x, training=False)
        self.assert_output_shapes(
            outputs,
            {
                "logits": (4, 16, 16, 2),
                "step_logits": (4, 3, 16, 16, 2),
                "log_stop_probabilities": (4, 3, 16, 16),
                "attention": (4, 3, 4, 4, 5),
                "stop_step": (4, 4, 4),
            },
        )
        self.assertEqual(backbone.upsampling_factor, 4)
        attention = to_numpy(outputs["attention"])
        # Attention over the words: none on the left padding.
        self.assertAllClose(attention.sum(axis=-1), np.ones((4, 3, 4, 4)))
        self.assertAllEqual(attention[0, ..., :3], np.zeros((3, 4, 4, 3)))
        self.assertTrue(np.all(np.isfinite(to_numpy(outputs["logits"]))))

    def test_default_encoder_is_vgg16(self):
        backbone = tiny_backbone(image_size=64, image_encoder=None)
        self.assertTrue(backbone.uses_vgg16)
        self.assertEqual(backbone.upsampling_factor, 32)
        encoder = backbone.image_encoder
        self.assertEqual(encoder.output.shape, (None, 2, 2, 512))
        self.assertEqual(encoder.get_layer("vgg16").count_params(), 14714688)
        # The encoder takes raw pixels and preprocesses them as Keras's
        # VGG-16 expects.
        image = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3))
        image = image.astype("float32")
        preprocessing = encoder.get_layer("vgg_preprocessing")
        self.assertAllClose(
            preprocessing(image),
            keras.applications.vgg16.preprocess_input(image.copy()),
            atol=1e-4,
        )
        # The upsampler covers one stride-32 cell with a kernel of 64.
        self.assertEqual(backbone.get_layer("upsampling").kernel_size, 64)
        self.assertIsNone(backbone.get_config()["image_encoder"])

    def test_vgg16_output_layer(self):
        encoder = vgg16_image_encoder(64, output_layer="block4_pool")
        self.assertEqual(encoder.output.shape, (None, 4, 4, 512))
        with self.assertRaisesRegex(ValueError, "vgg_output_layer"):
            vgg16_image_encoder(64, output_layer="fc7")
        with self.assertRaisesRegex(TypeError, "encoder_weights"):
            vgg16_image_encoder(64, weights=1)

    def test_encoders_append_spatial_features(self):
        vgg = vgg16_image_encoder(
            64, output_layer="block4_pool", spatial_features=True
        )
        self.assertEqual(vgg.output.shape, (None, 4, 4, 520))
        encoder = conv_image_encoder(16, (3, 4), spatial_features=True)
        self.assertEqual(encoder.output.shape, (None, 8, 8, 12))
        features = encoder(np.zeros((2, 16, 16, 3), "float32"))
        # The last two channels are the cells' height and width.
        self.assertAllClose(features[..., -2:], np.full((2, 8, 8, 2), 1 / 8))
        with self.assertRaisesRegex(TypeError, "spatial_features"):
            conv_image_encoder(16, (3,), spatial_features="yes")

    def test_config_round_trip(self):
        backbone = tiny_backbone(termination_mode="expected")
        config = self.assert_config_round_trip(backbone, TINY)
        self.assertIsInstance(config["image_encoder"], dict)

    def test_saving_round_trip(self):
        backbone = tiny_backbone()
        x, _ = tiny_inputs()
        path = os.path.join(self.get_temp_dir(), "backbone.keras")
        backbone.save(path)
        restored = keras.saving.load_model(path)
        self.assertIsInstance(restored, ReferItSegmenterBackbone)
        self.assertAllClose(
            backbone.predict(x, verbose=0)["logits"],
            restored.predict(x, verbose=0)["logits"],
            atol=1e-5,
        )

    @parameterized.named_parameters(
        ("vocabulary_size", {"vocabulary_size": 0}, ValueError),
        ("image_size_stride", {"image_size": 18}, ValueError),
        ("max_steps", {"max_steps": 0}, ValueError),
        ("sequence_length", {"sequence_length": 0}, ValueError),
        ("mode", {"termination_mode": "argmax"}, ValueError),
        ("temperature", {"temperature": 0.0}, ValueError),
        ("l2_negative", {"l2_weight": -1.0}, ValueError),
        ("l2_str", {"l2_weight": "0.1"}, ValueError),
        ("use_attention", {"use_attention": 1}, TypeError),
        ("baseline_steps", {"use_attention": False}, ValueError),
        ("seed", {"seed": 1.5}, TypeError),
        ("encoder_type", {"image_encoder": "vgg16"}, TypeError),
        ("weights_with_custom", {"encoder_weights": "imagenet"}, ValueError),
        ("layer_with_custom", {"vgg_output_layer": "block4_pool"}, ValueError),
    )
    def test_invalid_arguments(self, overrides, error):
        with self.assertRaises(error):
            tiny_backbone(**overrides)

    def test_bad_encoders(self):
        image = keras.Input((16, 16, 3))
        encoders = {
            "not square": keras.Model(
                image, keras.layers.Conv2D(2, (1, 2), strides=(4, 8))(image)
            ),
            "no whole stride": keras.Model(
                image, keras.layers.Conv2D(2, 3, strides=3)(image)
            ),
            "rank 2": keras.Model(
                image, keras.layers.GlobalAveragePooling2D()(image)
            ),
            "other input size": conv_image_encoder(32, (3,), pool_every=1),
        }
        for name, encoder in encoders.items():
            with self.subTest(name):
                with self.assertRaisesRegex(ValueError, "image_encoder"):
                    tiny_backbone(image_encoder=encoder)

    def test_bad_inputs(self):
        backbone = tiny_backbone()
        x, _ = tiny_inputs()
        token_ids = x["token_ids"]
        self.assert_bad_inputs(
            backbone,
            {
                "image size": ({**x, "image": x["image"][:, :8, :8]}, "image"),
                "channels": ({**x, "image": x["image"][..., :1]}, "image"),
                "token length": ({**x, "token_ids": token_ids[:, :2]}, "ids"),
                "token rank": ({**x, "token_ids": token_ids[..., None]}, "id"),
                "missing key": ({"image": x["image"]}, "keys"),
            },
            {
                "bool image": (
                    {**x, "image": x["image"].astype(bool)},
                    "image",
                ),
                "str ids": (
                    {**x, "token_ids": token_ids.astype(str)},
                    "ReferItTokenizer",
                ),
            },
        )

    def test_loss_is_pixel_cross_entropy_plus_l2(self):
        backbone = tiny_backbone()
        x, y = tiny_inputs()
        y_pred = backbone(x, training=True)
        cross_entropy = numpy_pixel_cross_entropy(
            y, to_numpy(y_pred["logits"])
        ).mean()
        kernels = [
            to_numpy(w) for w in backbone.trainable_weights if len(w.shape) >= 2
        ]
        # Convolution, LSTM, attention and classifier kernels, embedding.
        self.assertGreater(len(kernels), 10)
        l2 = 1e-3 * sum(
            float((w.astype("float64") ** 2).sum()) for w in kernels
        )
        self.assertAllClose(
            backbone.compute_loss(x, y, y_pred), cross_entropy + l2, atol=1e-5
        )
        without = tiny_backbone(l2_weight=0)
        self.assertEqual(without.parameter_penalties(), [])
        # A loss given to `compile` replaces the objective; L2 stays.
        backbone.compile(
            loss=keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="sum"
            )
        )
        self.assertAllClose(
            backbone.compute_loss(x, y, y_pred),
            cross_entropy * y.size + l2,
            rtol=1e-5,
        )

    def test_expected_loss_mode(self):
        backbone = tiny_backbone(termination_mode="expected", l2_weight=0)
        self.assertTrue(backbone.uses_expected_loss)
        x, y = tiny_inputs()
        loss = backbone.compute_loss(x, y, backbone(x, training=True))
        self.assertTrue(np.isfinite(to_numpy(loss)))

    def test_mixed_precision(self):
        keras.config.set_dtype_policy("mixed_float16")
        backbone = tiny_backbone()
        x, y = tiny_inputs()
        y_pred = backbone(x, training=True)
        self.assertEqual(y_pred["logits"].dtype, "float16")
        loss = backbone.compute_loss(x, y, y_pred)
        self.assertEqual(loss.dtype, "float32")
        self.assertTrue(np.isfinite(to_numpy(loss)))

    def test_keras_cv_backbone_as_encoder(self):
        if importlib.util.find_spec("keras_cv") is None:
            self.skipTest(
                "keras-cv is not installed (the optional `cv` extra: pip "
                'install "keras-lbie[cv]")'
            )
        import keras_cv

        encoder = keras_cv.models.VGG16Backbone(
            include_rescaling=True,
            include_top=False,
            input_shape=(64, 64, 3),
            pooling=None,
        )
        backbone = tiny_backbone(image_size=64, image_encoder=encoder)
        self.assertEqual(backbone.upsampling_factor, 32)
        x, _ = tiny_inputs(batch=2)
        x["image"] = np.zeros((2, 64, 64, 3), "uint8")
        self.assertEqual(backbone(x)["logits"].shape, (2, 64, 64, 2))

    def test_backbone_basics(self):
        self.run_backbone_test(
            ReferItSegmenterBackbone,
            {**TINY, "image_encoder": tiny_encoder()},
            tiny_inputs()[0],
            {
                "logits": (4, 16, 16, 2),
                "step_logits": (4, 3, 16, 16, 2),
                "log_stop_probabilities": (4, 3, 16, 16),
                "attention": (4, 3, 4, 4, 5),
                "stop_step": (4, 4, 4),
            },
        )
