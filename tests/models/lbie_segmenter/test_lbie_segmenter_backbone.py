import keras
import numpy as np
import pytest
from absl.testing import parameterized

from keras_lbie.datasets import cosal
from keras_lbie.metrics import ColorMeanIoU
from keras_lbie.models import LBIESegmenter
from keras_lbie.models import LBIESegmenterBackbone
from tests.test_case import CROSS_DEVICE_OPS
from tests.test_case import TestCase
from tests.test_case import numpy_pixel_cross_entropy
from tests.test_case import to_numpy

TINY = {
    "vocabulary_size": 10,
    "image_size": 16,
    "encoder_filters": (3, 4),
    "pool_every": 1,
    "embedding_dim": 4,
    "word_units": 4,
    "sentence_units": 4,
    "fusion_units": 4,
    "attention_units": 4,
    "max_steps": 3,
    "classifier_units": 4,
    "num_classes": 3,
    "max_sentences": 3,
    "max_words": 4,
    "seed": 0,
}


def tiny_backbone(**overrides):
    """A 16-px backbone with 4×4 regions (stride 4), 3 sentences of 4 words."""
    return LBIESegmenterBackbone(**{**TINY, **overrides})


def tiny_inputs(batch=4, seed=0):
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(1, 10, size=(batch, 3, 4)).astype("int32")
    token_ids[0, 2] = 0  # a padding sentence
    token_ids[1, :, 2:] = 0  # padding words
    x = {
        "image": rng.integers(0, 256, size=(batch, 16, 16, 3)).astype("uint8"),
        "token_ids": token_ids,
    }
    y = rng.integers(0, 3, size=(batch, 16, 16)).astype("int32")
    return x, y


def log_softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def numpy_expected_loss(labels, step_logits, log_beta):
    """-log sum_t beta_t p_t(y) per pixel, from the model's outputs."""
    log_p = log_softmax(step_logits.astype("float64"))
    labels = np.broadcast_to(labels[:, None], log_p.shape[:4])
    log_p_true = np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0]
    joint = log_beta.astype("float64") + log_p_true
    peak = joint.max(axis=1)
    return -(peak + np.log(np.exp(joint - peak[:, None]).sum(axis=1)))


class LBIESegmenterBackboneTest(TestCase):
    def test_outputs(self):
        backbone = tiny_backbone()
        x, _ = tiny_inputs()
        outputs = backbone(x, training=False)
        self.assert_output_shapes(
            outputs,
            {
                "logits": (4, 16, 16, 3),
                "step_logits": (4, 3, 16, 16, 3),
                "log_stop_probabilities": (4, 3, 16, 16),
                "attention": (4, 3, 4, 4, 3),
                "stop_step": (4, 4, 4),
            },
        )
        self.assertEqual(outputs["log_stop_probabilities"].dtype, "float32")
        self.assertEqual(outputs["stop_step"].dtype, "int32")
        log_beta = to_numpy(outputs["log_stop_probabilities"])
        # Region betas repeated over each 4×4 block of pixels, summing to 1.
        regions = log_beta[:, :, ::4, ::4]
        self.assertAllEqual(
            log_beta, np.repeat(np.repeat(regions, 4, axis=2), 4, axis=3)
        )
        self.assertAllClose(np.exp(log_beta).sum(axis=1), np.ones((4, 16, 16)))
        self.assertAllEqual(
            outputs["stop_step"], np.argmax(regions, axis=1).astype("int32")
        )
        attention = to_numpy(outputs["attention"])
        self.assertAllClose(attention.sum(axis=-1), np.ones((4, 3, 4, 4)))
        self.assertAllEqual(attention[0, ..., 2], np.zeros((3, 4, 4)))
        self.assertTrue(np.all(np.isfinite(to_numpy(outputs["logits"]))))
        self.assertEqual(backbone.upsampling_factor, 4)

    def test_paper_model_sizes(self):
        backbone = LBIESegmenterBackbone(vocabulary_size=26)
        self.assertEqual(backbone.upsampling_factor, 8)
        layer = backbone.get_layer("fusion")
        self.assertEqual(layer.units, 16)
        self.assertEqual(layer.attention_units, 16)
        self.assertEqual(layer.max_steps, 4)
        self.assertEqual(backbone.get_layer("upsampling").kernel_size, 16)
        self.assertEqual(
            [backbone.get_layer(f"image_conv_{i}").filters for i in range(6)],
            [4, 4, 8, 8, 16, 16],
        )
        self.assertEqual(
            backbone.get_layer("image_pool_2").output.shape, (None, 6, 6, 16)
        )

    def test_concatenation_baseline(self):
        backbone = tiny_backbone(max_steps=1, use_attention=False)
        x, _ = tiny_inputs()
        outputs = backbone(x)
        self.assertEqual(tuple(outputs["logits"].shape), (4, 16, 16, 3))
        self.assertEqual(tuple(outputs["step_logits"].shape), (4, 1, 16, 16, 3))
        self.assertAllEqual(outputs["attention"], np.zeros((4, 1, 4, 4, 3)))
        self.assertAllEqual(
            outputs["log_stop_probabilities"], np.zeros((4, 1, 16, 16))
        )
        # The classifier reads [V, u_L]: 4 image + 4 sentence channels.
        self.assertEqual(
            backbone.get_layer("classifier_hidden").kernel.shape, (1, 1, 8, 4)
        )
        self.assertAllClose(outputs["logits"], outputs["step_logits"][:, 0])

    def test_config_round_trip(self):
        backbone = tiny_backbone(termination_mode="expected")
        self.assert_config_round_trip(backbone, TINY)

    @parameterized.named_parameters(
        ("vocabulary_size", {"vocabulary_size": 0}, ValueError),
        ("filters_empty", {"encoder_filters": ()}, ValueError),
        ("filters_str", {"encoder_filters": "4"}, ValueError),
        ("filters_negative", {"encoder_filters": (4, -1)}, ValueError),
        ("pool_every", {"pool_every": 0}, ValueError),
        ("image_size_stride", {"image_size": 18}, ValueError),
        ("max_steps", {"max_steps": 0}, ValueError),
        ("mode", {"termination_mode": "argmax"}, ValueError),
        ("temperature", {"temperature": 0.0}, ValueError),
        ("use_attention", {"use_attention": 1}, TypeError),
        ("baseline_steps", {"use_attention": False}, ValueError),
        ("seed", {"seed": 1.5}, TypeError),
        ("relation_even", {"relation_kernel_size": 2}, ValueError),
    )
    def test_invalid_arguments(self, overrides, error):
        with self.assertRaises(error):
            tiny_backbone(**overrides)

    def test_bad_inputs(self):
        backbone = tiny_backbone()
        x, _ = tiny_inputs()
        self.assert_bad_inputs(
            backbone,
            {
                "image size": ({**x, "image": x["image"][:, :8, :8]}, "image"),
                "channels": ({**x, "image": x["image"][..., :1]}, "image"),
                "token shape": (
                    {**x, "token_ids": x["token_ids"][:, :2]},
                    "ids",
                ),
                "missing key": ({"image": x["image"]}, "keys"),
            },
            {
                "bool image": (
                    {**x, "image": x["image"].astype(bool)},
                    "image",
                ),
                "str ids": (
                    {**x, "token_ids": x["token_ids"].astype(str)},
                    "token_ids",
                ),
            },
        )

    def test_expected_loss_matches_numpy(self):
        backbone = tiny_backbone(termination_mode="expected")
        x, y = tiny_inputs()
        y_pred = backbone(x, training=True)
        expected = numpy_expected_loss(
            y,
            to_numpy(y_pred["step_logits"]),
            to_numpy(y_pred["log_stop_probabilities"]),
        )
        loss = backbone.compute_loss(x, y, y_pred)
        self.assertAllClose(loss, expected.mean(), atol=1e-5)
        # The packed CoSaL target uses its label channel.
        packed = np.stack([y, np.full_like(y, 5)], axis=-1)
        self.assertAllClose(
            backbone.compute_loss(x, packed, y_pred), loss, atol=1e-6
        )
        # Per-image weights weight every pixel; the mean is over all pixels.
        weights = np.array([1.0, 0.0, 2.0, 0.5], "float32")
        self.assertAllClose(
            backbone.compute_loss(x, y, y_pred, sample_weight=weights),
            (expected * weights[:, None, None]).mean(),
            atol=1e-5,
        )

    @parameterized.named_parameters(
        ("gumbel", {}),
        ("one_step_expected", {"max_steps": 1, "termination_mode": "expected"}),
        ("baseline", {"max_steps": 1, "use_attention": False}),
    )
    def test_pixel_cross_entropy_loss(self, overrides):
        backbone = tiny_backbone(**overrides)
        x, y = tiny_inputs()
        y_pred = backbone(x, training=True)
        expected = numpy_pixel_cross_entropy(y, to_numpy(y_pred["logits"]))
        self.assertAllClose(
            backbone.compute_loss(x, y, y_pred), expected.mean(), atol=1e-5
        )

    def test_compiled_loss_replaces_objective(self):
        backbone = tiny_backbone(termination_mode="expected")
        x, y = tiny_inputs()
        backbone.compile(
            optimizer="sgd",
            loss=keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="sum"
            ),
        )
        y_pred = backbone(x, training=True)
        expected = numpy_pixel_cross_entropy(y, to_numpy(y_pred["logits"]))
        self.assertAllClose(
            backbone.compute_loss(x, y, y_pred), expected.sum(), rtol=1e-5
        )

    def test_bad_targets(self):
        backbone = tiny_backbone()
        x, y = tiny_inputs()
        y_pred = backbone(x)
        with self.assertRaisesRegex(ValueError, "`y`"):
            backbone.compute_loss(x, y[..., None], y_pred)
        with self.assertRaisesRegex(ValueError, "`y`"):
            backbone.compute_loss(x, None, y_pred)

    def test_fit_and_evaluate_check_numpy_data_first(self):
        backbone = tiny_backbone()
        backbone.compile(optimizer="sgd")
        x, y = tiny_inputs()
        x = {**x, "image": np.array(x["image"], "float32")}
        x["image"][0, 1, 2, 0] = np.nan
        for run in (backbone.fit, backbone.evaluate):
            with self.assertRaisesRegex(
                ValueError, r"`image` holds 1 NaN.*\(0, 1, 2, 0\)"
            ):
                run(x, y, verbose=0)
        x["image"][0, 1, 2, 0] = 0.0
        y = np.array(y)
        y[1, 0, 3] = -1
        for run in (backbone.fit, backbone.evaluate):
            with self.assertRaisesRegex(
                ValueError, r"label -1 at index \(1, 0, 3\).*\[0, 3\)"
            ):
                run(x, y, verbose=0)

    @parameterized.named_parameters(
        ("gumbel", "gumbel"), ("expected", "expected")
    )
    def test_mixed_precision(self, mode):
        keras.config.set_dtype_policy("mixed_float16")
        backbone = tiny_backbone(termination_mode=mode)
        x, y = tiny_inputs()
        y_pred = backbone(x, training=True)
        self.assertEqual(y_pred["logits"].dtype, "float16")
        self.assertEqual(y_pred["log_stop_probabilities"].dtype, "float32")
        loss = backbone.compute_loss(x, y, y_pred)
        self.assertEqual(loss.dtype, "float32")
        self.assertTrue(np.isfinite(to_numpy(loss)))

    @parameterized.named_parameters(
        ("gumbel", "gumbel"), ("expected", "expected")
    )
    @pytest.mark.large
    def test_fit_reduces_loss(self, mode):
        segmenter = LBIESegmenter.from_preset(
            "cosal_paper", termination_mode=mode, max_steps=2, seed=0
        )
        data = cosal.generate(8, num_direct=4, seed=0)
        dataset = segmenter.tokenize_dataset(
            cosal.as_dataset(data, batch_size=4, with_shape_map=True)
        )
        backbone = segmenter.backbone
        backbone.compile(
            optimizer=keras.optimizers.Adam(1e-2), metrics=[ColorMeanIoU()]
        )
        history = backbone.fit(dataset, epochs=6, verbose=0).history
        self.assertLess(history["loss"][-1], 0.8 * history["loss"][0])
        self.assertIn("color_mean_iou", history)

    @pytest.mark.large
    def test_jit_compile_matches_eager(self):
        segmenter = LBIESegmenter.from_preset("cosal_paper")
        backbone = segmenter.backbone
        data = cosal.generate(4, num_direct=4, seed=0)
        x = {
            "image": data["image"],
            "token_ids": segmenter.tokenizer(list(data["text"])),
        }
        self.assert_jit_compile_matches_eager(backbone, x, atol=1e-4)

    @pytest.mark.large
    def test_two_replicas_match_one_device(self):
        # Expected mode is deterministic in training, as the check needs.
        x, y = tiny_inputs(batch=12)
        x["image"] = x["image"].astype("float32")
        self.run_distributed_equivalence_check(
            lambda: tiny_backbone(termination_mode="expected"),
            x,
            y,
            loss=None,
            steps=3,
            global_batch_size=4,
        )

    @parameterized.named_parameters(
        ("reduction_to_one_device", "reduction_to_one_device"),
        ("hierarchical_copy", "hierarchical_copy"),
    )
    @pytest.mark.large
    def test_uneven_last_batch_matches_one_device(self, cross_device_ops):
        # 11 examples in batches of 8: the last, 3, splits 2 + 1. Each
        # replica's loss is its share of the global batch's sum, so the
        # step equals one device's whichever way the batch splits.
        x, y = tiny_inputs(batch=11)
        x["image"] = x["image"].astype("float32")
        self.run_distributed_equivalence_check(
            lambda: tiny_backbone(termination_mode="expected"),
            x,
            y,
            loss=None,
            steps=2,
            global_batch_size=8,
            cross_device_ops=CROSS_DEVICE_OPS[cross_device_ops](),
            drop_remainder=False,
        )

    def test_backbone_basics(self):
        self.run_backbone_test(
            LBIESegmenterBackbone,
            TINY,
            tiny_inputs()[0],
            {
                "logits": (4, 16, 16, 3),
                "step_logits": (4, 3, 16, 16, 3),
                "log_stop_probabilities": (4, 3, 16, 16),
                "attention": (4, 3, 4, 4, 3),
                "stop_step": (4, 4, 4),
            },
        )

    def test_relational_attention_basics(self):
        backbone = self.run_backbone_test(
            LBIESegmenterBackbone,
            {**TINY, "relation_kernel_size": 3},
            tiny_inputs()[0],
            {
                "logits": (4, 16, 16, 3),
                "step_logits": (4, 3, 16, 16, 3),
                "log_stop_probabilities": (4, 3, 16, 16),
                "attention": (4, 3, 4, 4, 3),
                "stop_step": (4, 4, 4),
            },
            # RelationalTextAttention's own layer test compiles it with XLA.
            run_jit_check=False,
        )
        # The mention map reads each sentence's bag of word embeddings.
        bags = backbone.get_layer("word_bag_embedding")
        mention_keys = backbone.get_layer("fusion").attention.mention_key_dense
        self.assertEqual(mention_keys.kernel.shape[0], bags.output_dim)
