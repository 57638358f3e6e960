import math

import keras
import tensorflow as tf
from keras import ops

from keras_lbie.losses.pixel_cross_entropy import image_sample_weight
from keras_lbie.models.lbie_colorizer.lbie_colorizer import LBIEColorizer
from keras_lbie.models.lbie_colorizer.text_conditioned_discriminator import (
    TextConditionedDiscriminator,
)
from keras_lbie.models.task import deserialize_parts
from keras_lbie.utils.replicas import global_batch_share
from keras_lbie.utils.validation import check_input_keys
from keras_lbie.utils.validation import check_loss_weight

# The released code's weights (as pix2pix): see the class docstring.
DEFAULT_GAN_WEIGHT = 1.0
DEFAULT_L1_WEIGHT = 100.0
# pix2pix's Adam (Isola et al., CVPR 2017); the paper names no optimizer.
DEFAULT_LEARNING_RATE = 2e-4
DEFAULT_BETA_1 = 0.5

DEFAULT_L2_WEIGHT = 0.0

_TRACKERS = ("d_loss", "g_loss", "g_gan_loss", "l1_loss", "l2_loss")


class _ScoreCrossEntropy(keras.losses.Loss):
    """-log D or -log(1 - D) per example, D = mean of the patch sigmoids.

    The paper's discriminator score averages the sigmoids of its last
    layer, so its log-likelihood is taken of that average (not averaged
    per patch as in pix2pix), in log space for stability:
    log D = logsumexp_p(log sigmoid(l_p)) - log P and
    log(1 - D) = logsumexp_p(log sigmoid(-l_p)) - log P.

    `y_true` is the label per example `(batch,)`, 1 for real; `y_pred` the
    logits `(batch, m, n, c)`. Reduced by `keras.losses.Loss`: the batch
    mean, divided by the number of replicas under `tf.distribute` so that
    the replicas' summed gradients are those of the global batch mean.
    """

    def call(self, y_true, y_pred):
        count = math.prod(y_pred.shape[1:])
        logits = ops.reshape(ops.cast(y_pred, "float32"), (-1, count))
        log_count = math.log(count)
        log_real = ops.logsumexp(ops.log_sigmoid(logits), axis=1) - log_count
        log_fake = ops.logsumexp(ops.log_sigmoid(-logits), axis=1) - log_count
        y_true = ops.cast(y_true, "float32")
        return -(y_true * log_real + (1.0 - y_true) * log_fake)


def _unscaled(loss):
    # Keras losses divide by the number of replicas (see `_ScoreCrossEntropy`);
    # the trackers show the replica's own mean, as Keras's loss tracker does.
    return loss * tf.distribute.get_strategy().num_replicas_in_sync


def _default_optimizer(name):
    return keras.optimizers.Adam(
        DEFAULT_LEARNING_RATE, beta_1=DEFAULT_BETA_1, name=name
    )


@keras.saving.register_keras_serializable(package="keras_lbie")
class LBIEColorizerGAN(keras.Model):
    """Trains an `LBIEColorizer` adversarially with the paper's objective.

    Chen et al., "Language-Based Image Editing with Recurrent Attentive
    Models", CVPR 2018, Section 3 ("Loss and training", colorization): the
    generator G (the colorizer's backbone) predicts ab from L and the
    caption; the discriminator D (`TextConditionedDiscriminator`) scores
    (L, ab) with the caption; "the generator loss and the discriminator
    loss are optimized alternately". Each `train_step`:

    1. G predicts ab_fake (once, with its training behaviour: Gumbel
       sampling when `max_steps > 1`);
    2. D step: d_loss = -log D(L, ab_real) - log(1 - D(L, ab_fake)), with
       ab_fake detached, and one `d_optimizer` update (real and fake go
       through D as one batch: D has no batch statistics);
    3. G step, against the updated D: g_loss = gan_weight * g_gan_loss +
       l1_weight * l1_loss + l2_weight * l2_loss with
       g_gan_loss = -log D(L, ab_fake) (the non-saturating form of the
       paper's log(1 - D), as pix2pix trains: log(1 - D) has vanishing
       gradients while D rejects the fakes) and
       l1_loss the mean |ab_fake - ab_real| over pixels and both channels
       (l2_loss the mean squared error, 0-weighted by default);
       one `g_optimizer` update.

    D's score is the mean of its patch sigmoids (Section 4.3) and the
    log-likelihoods are taken of that mean (see `_ScoreCrossEntropy`).

    Loss weights: the paper writes l = log(1 - D(E)) + gamma |E - Y|_1 with
    gamma = 0.01; the authors' released code uses GAN weight 1 and L1
    weight 100, as pix2pix (Isola et al., CVPR 2017). Both are arguments;
    the defaults are the released code's (`DEFAULT_GAN_WEIGHT`,
    `DEFAULT_L1_WEIGHT`). `gan_weight=0` trains G on L1 only (D still
    trains, for the curves).

    Distribution: create and `compile` the model inside the strategy's
    scope. Losses are `keras.losses.Loss` means, which Keras divides by
    the number of replicas, so the all-reduced (summed) gradients equal one
    device's at the same global batch; both optimizers are built in the
    strategy's scope by `compile`. The Gumbel noise of G's termination
    gates differs between replicas (see `TerminationGate`). String ops do
    not distribute: train on token ids (`colorizer.tokenize_dataset`).

    Inference and export use the generator alone: `gan.generator` is the
    `LBIEColorizer` (raw images and captions) and shares its weights;
    calling the GAN runs its backbone on `{"image_l", "token_ids"}`.

    Args:
        generator: an `LBIEColorizer`; its `backbone` is trained.
        discriminator: a `TextConditionedDiscriminator` with the
            generator's `image_size`, `max_words` and `vocabulary_size`.
        gan_weight: float >= 0, the weight of the GAN term of g_loss.
        l1_weight: float >= 0, the weight of the L1 term of g_loss.
        l2_weight: float >= 0, the weight of an L2 (mean squared error)
            term, not in the paper; default 0. Where a colour is decided
            by the caption alone, L1 alone can leave the generator at the
            per-pixel median, ignoring the text: on CoSaL colorization
            (`examples/train_cosal_colorizer.py`) L1 stayed at chance after
            1,875 steps while L2 learned (0.62-0.71 caption accuracy after
            600 steps), since L2's gradient grows with the error and L1's
            sign gradients cancel at the median.
        **kwargs: standard model arguments (`name`, ...).

    Data: `fit` and `evaluate` take `(x, ab)` or `(x, ab, sample_weight)`,
    `x = {"image_l": float (batch, S, S, 1), "token_ids": int (batch,
    max_words)}` and `ab` float `(batch, S, S, 2)` in [-1, 1]: the elements
    of `colorizer.tokenize_dataset(flowers.as_dataset(...))`.
    `sample_weight` `(batch,)` weights each example in every loss.

    Metrics (`fit` logs and progress bar): `d_loss`, `g_loss`,
    `g_gan_loss`, `l1_loss` and `l2_loss`, each the mean over the epoch's
    batches.

    Example:
    >>> gan = LBIEColorizerGAN.from_preset("cosal_colorizer")
    >>> gan.compile()  # Adam(2e-4, beta_1=0.5) for G and for D
    >>> train = gan.generator.tokenize_dataset(dataset)  # ({image_l, text}, ab)
    >>> gan.fit(train, epochs=10,
    ...         callbacks=[ColorizationSamples(l, captions, ab, "samples")])
    >>> gan.generator.export("colorizer")  # takes raw images and captions
    """

    def __init__(
        self,
        generator,
        discriminator,
        gan_weight=DEFAULT_GAN_WEIGHT,
        l1_weight=DEFAULT_L1_WEIGHT,
        l2_weight=DEFAULT_L2_WEIGHT,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(generator, LBIEColorizer):
            raise TypeError(
                "`generator` must be an LBIEColorizer. Received: "
                f"{type(generator).__name__}"
            )
        if not isinstance(discriminator, TextConditionedDiscriminator):
            raise TypeError(
                "`discriminator` must be a TextConditionedDiscriminator. "
                f"Received: {type(discriminator).__name__}"
            )
        backbone = generator.backbone
        for attribute in ("image_size", "max_words", "vocabulary_size"):
            expected = getattr(backbone, attribute)
            if getattr(discriminator, attribute) != expected:
                raise ValueError(
                    f"The discriminator's `{attribute}` "
                    f"({getattr(discriminator, attribute)}) must equal the "
                    f"generator's ({expected})."
                )
        self.gan_weight = check_loss_weight(gan_weight, "gan_weight")
        self.l1_weight = check_loss_weight(l1_weight, "l1_weight")
        self.l2_weight = check_loss_weight(l2_weight, "l2_weight")
        self.generator = generator
        self.discriminator = discriminator
        self.trackers = {
            name: keras.metrics.Mean(name=name) for name in _TRACKERS
        }
        self._adversarial_loss = _ScoreCrossEntropy(name="gan_loss")
        self._l1_loss = keras.losses.MeanAbsoluteError(name="l1_loss")
        self._l2_loss = keras.losses.MeanSquaredError(name="l2_loss")
        self.d_optimizer = None
        # Both parts are built functional models: nothing to build here.
        self.built = True

    @classmethod
    def from_preset(
        cls,
        preset,
        vocabulary=None,
        gan_weight=DEFAULT_GAN_WEIGHT,
        l1_weight=DEFAULT_L1_WEIGHT,
        l2_weight=DEFAULT_L2_WEIGHT,
        discriminator_overrides=None,
        **overrides,
    ):
        """A GAN with the preset's generator and discriminator.

        Args:
            preset: str, a name from `LBIEColorizer.available_presets()`.
            vocabulary: None or a list of words, see
                `LBIEColorizer.from_preset`.
            gan_weight, l1_weight, l2_weight: see the class docstring.
            discriminator_overrides: None or a dict of
                `TextConditionedDiscriminator` arguments replacing the
                preset's (`filters`, `kernel_size`, `embedding_dim`,
                `text_units`, `attention_units`).
            **overrides: generator overrides, see
                `LBIEColorizer.from_preset` (`load_weights` included).

        Returns:
            An uncompiled `LBIEColorizerGAN`.
        """
        generator = LBIEColorizer.from_preset(
            preset, vocabulary=vocabulary, **overrides
        )
        config = dict(LBIEColorizer.presets[preset]["discriminator"])
        discriminator_overrides = dict(discriminator_overrides or {})
        unknown = sorted(set(discriminator_overrides) - set(config))
        if unknown:
            raise ValueError(
                f"Unknown discriminator override(s) {unknown} for preset "
                f"{preset!r}. Allowed: {sorted(config)}"
            )
        config.update(discriminator_overrides)
        backbone = generator.backbone
        discriminator = TextConditionedDiscriminator(
            vocabulary_size=backbone.vocabulary_size,
            image_size=backbone.image_size,
            max_words=backbone.max_words,
            name="discriminator",
            **config,
        )
        return cls(
            generator,
            discriminator,
            gan_weight=gan_weight,
            l1_weight=l1_weight,
            l2_weight=l2_weight,
            name=f"lbie_colorizer_gan_{preset}",
        )

    def compile(
        self,
        g_optimizer=None,
        d_optimizer=None,
        jit_compile="auto",
        run_eagerly=False,
        steps_per_execution=1,
        auto_scale_loss=True,
    ):
        """Sets the two optimizers (and builds them in the strategy scope).

        Args:
            g_optimizer: the generator's optimizer (instance or name);
                None for `keras.optimizers.Adam(2e-4, beta_1=0.5)`,
                pix2pix's (the paper names none). It is also
                `self.optimizer`, whose `iterations` count the training
                steps.
            d_optimizer: the discriminator's optimizer; None for another
                Adam(2e-4, beta_1=0.5). Must not be `g_optimizer`.
            jit_compile, run_eagerly, steps_per_execution: as
                `keras.Model.compile`. XLA works when the data hold token
                ids (no string op runs in the step).
            auto_scale_loss: under the `mixed_float16` policy, wrap both
                optimizers in a `LossScaleOptimizer`, as Keras does.
        """
        g_optimizer = keras.optimizers.get(
            g_optimizer or _default_optimizer("g_optimizer")
        )
        d_optimizer = keras.optimizers.get(
            d_optimizer or _default_optimizer("d_optimizer")
        )
        if g_optimizer is d_optimizer:
            raise ValueError(
                "`g_optimizer` and `d_optimizer` must be two optimizer "
                "instances: each keeps state for its own model's weights."
            )
        super().compile(
            optimizer=g_optimizer,
            jit_compile=jit_compile,
            run_eagerly=run_eagerly,
            steps_per_execution=steps_per_execution,
            auto_scale_loss=auto_scale_loss,
        )
        if (
            auto_scale_loss
            and self.dtype_policy.name == "mixed_float16"
            and not isinstance(d_optimizer, keras.optimizers.LossScaleOptimizer)
        ):
            d_optimizer = keras.optimizers.LossScaleOptimizer(
                d_optimizer, name="d_loss_scale_optimizer"
            )
        self.d_optimizer = d_optimizer
        # Optimizer variables must be mirrored like the weights they update.
        with self.distribute_strategy.scope():
            self.optimizer.build(self.generator.backbone.trainable_variables)
            self.d_optimizer.build(self.discriminator.trainable_variables)
        self._gan_compile_config = {
            "jit_compile": jit_compile,
            "run_eagerly": run_eagerly,
            "steps_per_execution": steps_per_execution,
            "auto_scale_loss": auto_scale_loss,
        }

    @property
    def g_optimizer(self):
        """The generator's optimizer (`self.optimizer`)."""
        return self.optimizer

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs, training=None):
        return self.generator.backbone(inputs, training=training)["ab"]

    def _discriminator_logits(self, inputs, ab, training):
        return self.discriminator(
            {
                "image_l": inputs["image_l"],
                "ab": ab,
                "token_ids": inputs["token_ids"],
            },
            training=training,
        )["logits"]

    def _generator_losses(self, inputs, ab_real, ab_fake, sample_weight):
        """G's losses by tracker name, each scaled for replicas."""
        fake_logits = self._discriminator_logits(inputs, ab_fake, True)
        batch = ops.shape(fake_logits)[0]
        g_gan_loss = self._adversarial_loss(
            ops.ones((batch,)), fake_logits, sample_weight
        )
        weights = image_sample_weight(sample_weight)
        l1_loss = self._l1_loss(ab_real, ab_fake, weights)
        l2_loss = self._l2_loss(ab_real, ab_fake, weights)
        g_loss = (
            self.gan_weight * g_gan_loss
            + self.l1_weight * l1_loss
            + self.l2_weight * l2_loss
        )
        return {
            "g_loss": g_loss,
            "g_gan_loss": g_gan_loss,
            "l1_loss": l1_loss,
            "l2_loss": l2_loss,
        }

    def _discriminator_loss(self, inputs, ab_real, ab_fake, sample_weight):
        """-log D(real) - log(1 - D(fake)), scaled for replicas."""
        # One pass over [real; fake]: D has no batch statistics.
        doubled = {
            key: ops.concatenate([value, value], axis=0)
            for key, value in inputs.items()
        }
        logits = self._discriminator_logits(
            doubled, ops.concatenate([ab_real, ab_fake], axis=0), True
        )
        batch = ops.shape(ab_real)[0]
        labels = ops.concatenate([ops.ones((batch,)), ops.zeros((batch,))])
        weights = None
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            weights = ops.concatenate([sample_weight, sample_weight])
        # The mean over 2 * batch, times 2: the sum of the two means.
        return 2.0 * self._adversarial_loss(labels, logits, weights)

    def _unpack(self, data):
        x, ab, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, dict) and "text" in x:
            raise ValueError(
                "The GAN trains on word ids: tokenize the captions in the "
                "`tf.data` pipeline first, "
                "`gan.generator.tokenize_dataset(dataset)`."
            )
        check_input_keys(x, ("image_l", "token_ids"))
        if ab is None:
            raise ValueError(
                "The GAN needs targets: pass the true ab `(batch, S, S, 2)` "
                "as `y` to `fit` / `evaluate`."
            )
        return x, ab, sample_weight

    def train_step(self, data):
        x, ab_real, sample_weight = self._unpack(data)
        backbone = self.generator.backbone
        # Gradients of the global batch's sum, however it splits; the
        # trackers keep each replica's own mean.
        share = global_batch_share(ops.shape(ab_real)[0])
        with tf.GradientTape() as g_tape:
            ab_fake = backbone(x, training=True)["ab"]
            # The D update is not part of G's graph.
            with g_tape.stop_recording():
                with tf.GradientTape() as d_tape:
                    d_loss = self._discriminator_loss(
                        x, ab_real, ops.stop_gradient(ab_fake), sample_weight
                    )
                    scaled = self.d_optimizer.scale_loss(d_loss * share)
                variables = self.discriminator.trainable_variables
                gradients = d_tape.gradient(scaled, variables)
                self.d_optimizer.apply_gradients(
                    zip(gradients, variables, strict=True)
                )
            g_losses = self._generator_losses(
                x, ab_real, ab_fake, sample_weight
            )
            scaled = self.optimizer.scale_loss(g_losses["g_loss"] * share)
        variables = backbone.trainable_variables
        gradients = g_tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(gradients, variables, strict=True))
        return self._update_trackers(ab_real, d_loss, g_losses)

    def test_step(self, data):
        x, ab_real, sample_weight = self._unpack(data)
        ab_fake = self.generator.backbone(x, training=False)["ab"]
        d_loss = self._discriminator_loss(x, ab_real, ab_fake, sample_weight)
        g_losses = self._generator_losses(x, ab_real, ab_fake, sample_weight)
        return self._update_trackers(ab_real, d_loss, g_losses)

    def _update_trackers(self, ab_real, d_loss, g_losses):
        # Weighted by the batch size, so the epoch mean is per example.
        batch = ops.shape(ab_real)[0]
        for name, value in {"d_loss": d_loss, **g_losses}.items():
            self.trackers[name].update_state(
                _unscaled(value), sample_weight=batch
            )
        return {
            name: tracker.result() for name, tracker in self.trackers.items()
        }

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(
                self.discriminator
            ),
            "gan_weight": self.gan_weight,
            "l1_weight": self.l1_weight,
            "l2_weight": self.l2_weight,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_parts(config, ("generator", "discriminator")))

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {
            "g_optimizer": keras.saving.serialize_keras_object(self.optimizer),
            "d_optimizer": keras.saving.serialize_keras_object(
                self.d_optimizer
            ),
            **self._gan_compile_config,
        }

    def compile_from_config(self, config):
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
