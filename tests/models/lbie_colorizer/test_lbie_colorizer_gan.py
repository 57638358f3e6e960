import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from absl.testing import parameterized

from keras_lbie.models import LBIEColorizer
from keras_lbie.models import LBIEColorizerGAN
from tests.models.lbie_colorizer.tiny_colorizer import tiny_colorizer
from tests.models.lbie_colorizer.tiny_colorizer import tiny_data
from tests.models.lbie_colorizer.tiny_colorizer import tiny_discriminator
from tests.models.lbie_colorizer.tiny_colorizer import tiny_gan
from tests.test_case import TestCase
from tests.test_case import two_replica_strategy

TRACKERS = {"d_loss", "g_loss", "g_gan_loss", "l1_loss", "l2_loss"}


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def numpy_losses(gan, x, ab):
    """The paper's losses from the models' outputs, in float64 numpy."""
    ab_fake = numpy(gan(x, training=False)).astype("float64")

    def log_score(ab_values, sign):
        logits = numpy(
            gan.discriminator({**x, "ab": ab_values.astype("float32")})[
                "logits"
            ]
        ).astype("float64")
        return np.log(
            (1.0 / (1.0 + np.exp(-sign * logits))).mean(axis=(1, 2, 3))
        )

    d_loss = -log_score(ab, 1).mean() - log_score(ab_fake, -1).mean()
    g_gan_loss = -log_score(ab_fake, 1).mean()
    l1_loss = np.abs(ab_fake - ab).mean()
    l2_loss = np.square(ab_fake - ab).mean()
    return {
        "d_loss": d_loss,
        "g_gan_loss": g_gan_loss,
        "l1_loss": l1_loss,
        "l2_loss": l2_loss,
        "g_loss": gan.gan_weight * g_gan_loss
        + gan.l1_weight * l1_loss
        + gan.l2_weight * l2_loss,
    }


def sgd_pair(learning_rate=0.1, run_eagerly=True):
    """`compile` arguments: two SGDs; eager unless told (a few steps of the
    tiny models run faster eagerly than the step takes to trace)."""
    return {
        "g_optimizer": keras.optimizers.SGD(learning_rate),
        "d_optimizer": keras.optimizers.SGD(learning_rate),
        "run_eagerly": run_eagerly,
    }


class LBIEColorizerGANTest(TestCase):
    def test_constructor_checks(self):
        generator, discriminator = tiny_colorizer(), tiny_discriminator()
        with self.assertRaisesRegex(TypeError, "generator"):
            LBIEColorizerGAN(generator.backbone, discriminator)
        with self.assertRaisesRegex(TypeError, "discriminator"):
            LBIEColorizerGAN(generator, generator)
        with self.assertRaisesRegex(ValueError, "image_size"):
            LBIEColorizerGAN(generator, tiny_discriminator(image_size=32))
        with self.assertRaisesRegex(ValueError, "max_words"):
            LBIEColorizerGAN(generator, tiny_discriminator(max_words=5))
        with self.assertRaisesRegex(ValueError, "vocabulary_size"):
            LBIEColorizerGAN(generator, tiny_discriminator(vocabulary_size=20))
        with self.assertRaisesRegex(ValueError, "l1_weight"):
            LBIEColorizerGAN(generator, discriminator, l1_weight=-1.0)
        with self.assertRaisesRegex(ValueError, "l2_weight"):
            LBIEColorizerGAN(generator, discriminator, l2_weight=float("inf"))
        with self.assertRaisesRegex(TypeError, "gan_weight"):
            LBIEColorizerGAN(generator, discriminator, gan_weight=True)

    def test_defaults_are_the_released_code(self):
        gan = tiny_gan()
        default = LBIEColorizerGAN(gan.generator, gan.discriminator)
        self.assertEqual(default.gan_weight, 1.0)
        self.assertEqual(default.l1_weight, 100.0)
        self.assertEqual(default.l2_weight, 0.0)
        default.compile()
        for optimizer in (default.g_optimizer, default.d_optimizer):
            self.assertIsInstance(optimizer, keras.optimizers.Adam)
            self.assertAllClose(optimizer.learning_rate, 2e-4)
            self.assertAllClose(optimizer.beta_1, 0.5)
        self.assertIsNot(default.g_optimizer, default.d_optimizer)
        # Both optimizers are built by `compile`, for their own model.
        self.assertTrue(default.d_optimizer.built)
        self.assertTrue(default.g_optimizer.built)
        with self.assertRaisesRegex(ValueError, "two optimizer"):
            optimizer = keras.optimizers.SGD()
            default.compile(g_optimizer=optimizer, d_optimizer=optimizer)

    def test_no_weight_shared_with_the_generator(self):
        gan = tiny_gan()
        generator = {id(v) for v in gan.generator.weights}
        discriminator = {id(v) for v in gan.discriminator.weights}
        self.assertFalse(generator & discriminator)
        self.assertLen(
            gan.trainable_variables,
            len(gan.generator.trainable_variables)
            + len(gan.discriminator.trainable_variables),
        )

    def test_from_preset(self):
        gan = LBIEColorizerGAN.from_preset(
            "cosal_colorizer",
            l1_weight=10.0,
            l2_weight=5.0,
            discriminator_overrides={"text_units": 8},
            max_steps=2,
            load_weights=False,
        )
        self.assertIsInstance(gan.generator, LBIEColorizer)
        self.assertEqual(gan.generator.backbone.max_steps, 2)
        self.assertEqual(gan.discriminator.text_units, 8)
        self.assertEqual(gan.discriminator.image_size, 48)
        self.assertEqual(gan.discriminator.max_words, 80)
        self.assertEqual(gan.l1_weight, 10.0)
        self.assertEqual(gan.l2_weight, 5.0)
        with self.assertRaisesRegex(ValueError, "filterz"):
            LBIEColorizerGAN.from_preset(
                "cosal_colorizer", discriminator_overrides={"filterz": (8,)}
            )

    @parameterized.named_parameters(
        ("released_code", 1.0, 100.0, 0.0),
        ("paper_gamma", 1.0, 0.01, 0.0),
        ("with_l2", 0.5, 1.0, 30.0),
    )
    def test_losses_match_the_paper(self, gan_weight, l1_weight, l2_weight):
        gan = tiny_gan(
            gan_weight=gan_weight, l1_weight=l1_weight, l2_weight=l2_weight
        )
        gan.compile(**sgd_pair())
        x, ab = tiny_data()
        logs = gan.evaluate(x, ab, batch_size=4, verbose=0, return_dict=True)
        self.assertEqual(set(logs), TRACKERS)
        expected = numpy_losses(gan, x, ab)
        for name in TRACKERS:
            self.assertAllClose(logs[name], expected[name], rtol=1e-5)

    def test_sample_weight(self):
        gan = tiny_gan()
        gan.compile(**sgd_pair())
        x, ab = tiny_data()
        half = {key: value[:2] for key, value in x.items()}
        unweighted = gan.evaluate(
            half, ab[:2], batch_size=2, verbose=0, return_dict=True
        )
        weighted = gan.evaluate(
            x,
            ab,
            sample_weight=np.array([1.0, 1.0, 0.0, 0.0], "float32"),
            batch_size=4,
            verbose=0,
            return_dict=True,
        )
        # Weighted means divide by the batch size, as Keras losses do.
        for name in TRACKERS:
            self.assertAllClose(
                weighted[name], 0.5 * unweighted[name], rtol=1e-5
            )

    def test_generator_step_is_the_weighted_l1_step(self):
        # With gan_weight = 0 the generator's update is plain SGD on
        # l1_weight * L1; the discriminator's update must not touch G.
        gan = tiny_gan(gan_weight=0.0, l1_weight=3.0)
        gan.compile(**sgd_pair(0.5))
        x, ab = tiny_data()
        backbone = gan.generator.backbone
        with tf.GradientTape() as tape:
            predicted = backbone(x, training=True)["ab"]
            loss = 3.0 * keras.ops.mean(keras.ops.abs(predicted - ab))
        gradients = tape.gradient(loss, backbone.trainable_variables)
        expected = [
            numpy(v) - 0.5 * numpy(g)
            for v, g in zip(
                backbone.trainable_variables, gradients, strict=True
            )
        ]
        d_before = [numpy(v) for v in gan.discriminator.trainable_variables]
        gan.fit(x, ab, batch_size=4, epochs=1, verbose=0, shuffle=False)
        for variable, value in zip(
            backbone.trainable_variables, expected, strict=True
        ):
            self.assertAllClose(variable, value, atol=1e-6, msg=variable.path)
        moved = [
            not np.allclose(before, numpy(after))
            for before, after in zip(
                d_before, gan.discriminator.trainable_variables, strict=True
            )
        ]
        self.assertTrue(any(moved))

    @pytest.mark.large
    def test_fit_reduces_l1(self):
        # T = 2: the decoder reads the Gumbel mixture of the steps, so this
        # also trains the gates; the one-step model is the large test below.
        self.check_fit_reduces_l1(max_steps=2)

    @pytest.mark.large
    def test_fit_reduces_l1_one_step(self):
        self.check_fit_reduces_l1(max_steps=1)

    def check_fit_reduces_l1(self, **overrides):
        gan = tiny_gan(**overrides)
        gan.compile(
            g_optimizer=keras.optimizers.Adam(1e-2),
            d_optimizer=keras.optimizers.Adam(1e-4),
        )
        x, ab = tiny_data(8)
        history = gan.fit(x, ab, batch_size=4, epochs=15, verbose=0).history
        self.assertEqual(set(history), TRACKERS)
        self.assertLess(history["l1_loss"][-1], 0.7 * history["l1_loss"][0])
        for name in TRACKERS:
            self.assertTrue(np.all(np.isfinite(history[name])), msg=name)

    @pytest.mark.large
    def test_jit_compile_matches_eager(self):
        # The step holds no string op, so it compiles with XLA.
        x, ab = tiny_data()
        initial, trained = None, []
        for jit_compile in (False, True):
            gan = tiny_gan()
            gan.compile(**sgd_pair(run_eagerly=False), jit_compile=jit_compile)
            if initial is None:
                initial = gan.get_weights()
            gan.set_weights(initial)
            gan.fit(x, ab, batch_size=4, epochs=2, verbose=0, shuffle=False)
            trained.append(gan.get_weights())
        for eager, compiled in zip(*trained, strict=True):
            self.assertAllClose(eager, compiled, atol=1e-4)

    def check_two_replicas_match_one_device(
        self, run_eagerly, examples=8, cross_device_ops=None, **overrides
    ):
        # Deterministic training (no Gumbel noise), as the comparison needs.
        x, ab = tiny_data(examples)
        strategies = [
            tf.distribute.OneDeviceStrategy("/cpu:0"),
            two_replica_strategy(cross_device_ops),
        ]
        initial, trained, logs = None, [], []
        for strategy in strategies:
            with strategy.scope():
                gan = tiny_gan(**overrides)
                gan.compile(**sgd_pair(run_eagerly=run_eagerly))
            if initial is None:
                initial = gan.get_weights()
            gan.set_weights(initial)
            dataset = tf.data.Dataset.from_tensor_slices((x, ab)).batch(4)
            logs.append(gan.fit(dataset, epochs=1, verbose=0).history)
            trained.append(gan.get_weights())
        moved = [
            not np.allclose(w0, w1)
            for w0, w1 in zip(initial, trained[0], strict=True)
        ]
        num_generator = len(gan.generator.weights)
        self.assertTrue(any(moved[:num_generator]), "G did not train")
        self.assertTrue(any(moved[num_generator:]), "D did not train")
        for single, mirrored in zip(*trained, strict=True):
            self.assertAllClose(single, mirrored, atol=1e-5, rtol=1e-5)
        # The trackers report the global means too.
        for name in TRACKERS:
            self.assertAllClose(logs[0][name], logs[1][name], rtol=1e-5)

    @pytest.mark.large
    def test_two_replicas_match_one_device(self):
        # Eager steps run the same per-replica code and reductions as traced
        # ones (the large test below checks those) in a third of the time.
        self.check_two_replicas_match_one_device(
            run_eagerly=True, max_steps=2, termination_mode="expected"
        )

    @parameterized.named_parameters(
        ("one_step", {}),
        (
            "two_steps_expected",
            {"max_steps": 2, "termination_mode": "expected"},
        ),
    )
    @pytest.mark.large
    def test_two_replicas_match_one_device_traced(self, overrides):
        self.check_two_replicas_match_one_device(run_eagerly=False, **overrides)

    @pytest.mark.large
    def test_uneven_last_batch_matches_one_device(self):
        # 7 examples in batches of 4: the last, 3, splits 2 + 1 over the
        # replicas, all-reduced across the devices as on GPUs.
        self.check_two_replicas_match_one_device(
            run_eagerly=False,
            examples=7,
            cross_device_ops=tf.distribute.HierarchicalCopyAllReduce(),
            max_steps=2,
            termination_mode="expected",
        )

    def test_replicas_draw_different_gumbel_noise(self):
        x, _ = tiny_data(4)
        strategy = two_replica_strategy()
        with strategy.scope():
            gan = tiny_gan(max_steps=3)
        same = {key: value[:1] for key, value in x.items()}
        per_replica = strategy.experimental_local_results(
            strategy.run(lambda: gan(same, training=True))
        )
        self.assertNotAllClose(per_replica[0], per_replica[1])

    @pytest.mark.large
    def test_gumbel_training_under_two_replicas(self):
        x, ab = tiny_data(4)
        with two_replica_strategy().scope():
            gan = tiny_gan(max_steps=3)
            gan.compile(**sgd_pair(run_eagerly=False))
        dataset = tf.data.Dataset.from_tensor_slices((x, ab)).batch(4)
        history = gan.fit(dataset, epochs=2, verbose=0).history
        self.assertTrue(np.all(np.isfinite(history["g_loss"])))

    def test_saving_round_trip(self):
        gan = tiny_gan(l1_weight=10.0)
        gan.compile(
            g_optimizer=keras.optimizers.Adam(1e-3),
            d_optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
            run_eagerly=True,
        )
        x, ab = tiny_data()
        gan.fit(x, ab, batch_size=4, epochs=1, verbose=0)
        path = os.path.join(self.get_temp_dir(), "gan.keras")
        gan.save(path)
        restored = keras.models.load_model(path)
        self.assertIsInstance(restored, LBIEColorizerGAN)
        self.assertEqual(restored.l1_weight, 10.0)
        self.assertTrue(restored.run_eagerly)
        self.assertIsInstance(restored.d_optimizer, keras.optimizers.SGD)
        self.assertAllClose(restored.g_optimizer.learning_rate, 1e-3)
        self.assertAllClose(gan(x), restored(x))
        self.assertAllClose(
            gan.discriminator({**x, "ab": ab})["logits"],
            restored.discriminator({**x, "ab": ab})["logits"],
        )
        # Both optimizers' states are restored: training goes on from there.
        self.assertEqual(int(restored.g_optimizer.iterations), 1)
        for name in ("g_optimizer", "d_optimizer"):
            saved = getattr(gan, name).variables
            loaded = getattr(restored, name).variables
            self.assertLen(loaded, len(saved))
            for expected, actual in zip(saved, loaded, strict=True):
                self.assertAllClose(expected, actual, msg=expected.path)

    def test_bad_data(self):
        gan = tiny_gan()
        gan.compile(**sgd_pair())
        x, ab = tiny_data()
        with self.assertRaisesRegex(ValueError, "targets"):
            gan.fit(x, batch_size=4, verbose=0)
        text = {"image_l": x["image_l"], "text": np.array(["red"] * 4)}
        text = tf.data.Dataset.from_tensor_slices((text, ab)).batch(4)
        with self.assertRaisesRegex(ValueError, "tokenize_dataset"):
            gan.fit(text, verbose=0)
        with self.assertRaisesRegex(ValueError, "image_l"):
            gan.fit(
                {**x, "image_l": np.repeat(x["image_l"], 3, -1)},
                ab,
                batch_size=4,
                verbose=0,
            )

    def test_mixed_precision(self):
        keras.config.set_dtype_policy("mixed_float16")
        gan = tiny_gan()
        gan.compile(**sgd_pair(0.01))
        for optimizer in (gan.g_optimizer, gan.d_optimizer):
            self.assertIsInstance(
                optimizer, keras.optimizers.LossScaleOptimizer
            )
        x, ab = tiny_data()
        history = gan.fit(x, ab, batch_size=4, epochs=1, verbose=0).history
        for name in TRACKERS:
            self.assertTrue(np.isfinite(history[name][0]), msg=name)
