import keras
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from keras_lbie.utils.validation import check_rank
from keras_lbie.utils.validation import check_temperature

TERMINATION_MODES = ("gumbel", "expected")


def _replica_seed(seed):
    # Under MirroredStrategy every replica holds the same seed-generator
    # state; folding the replica id in keeps their Gumbel noise independent.
    context = tf.distribute.get_replica_context()
    replica_id = 0 if context is None else context.replica_id_in_sync_group
    return ops.cast(seed, "int32") + ops.cast(
        ops.stack([0, replica_id]), "int32"
    )


def check_termination_mode(mode, name="termination_mode"):
    """Raises unless `mode` is one of `TERMINATION_MODES`."""
    if mode not in TERMINATION_MODES:
        raise ValueError(
            f"`{name}` must be one of {TERMINATION_MODES}. Received: {mode!r}"
        )


@keras.saving.register_keras_serializable(package="keras_lbie")
class TerminationGate(keras.layers.Layer):
    """Per-region termination gates of the recurrent fusion network.

    Implements the termination gates of Chen et al., "Language-Based Image
    Editing with Recurrent Attentive Models", CVPR 2018, Section 3. Each
    image region i has a gate f_tg(s) = sigmoid(w^T s + b) on its internal
    state. The probability of stopping region i at step t is

        beta_t = f_tg(s_t) * prod_{k<t} (1 - f_tg(s_k)),

    and the last step takes the remaining mass, so the `T` probabilities sum
    to one. The layer turns them into weights over the steps:

    - inference (`training=False`): the one-hot of the argmax step per region
      (Algorithm 1 with each gate's most probable stop);
    - training, `mode="gumbel"` (the paper): a sample of
      `tfp.distributions.RelaxedOneHotCategorical(temperature, probs=beta)`,
      the Gumbel-softmax relaxation. The temperature lives in a
      non-trainable variable (`temperature_variable`) so
      `GumbelTemperatureScheduler` can anneal it;
    - training, `mode="expected"` (the authors' released code): `beta`
      itself. The released code's objective is the marginal likelihood
      -log sum_t beta_t p_t(y): decode every step's output and pass the
      step logits and `log_stop_probabilities` to
      `keras_lbie.losses.expected_step_cross_entropy`. A plain loss on the
      beta-weighted mean output would train a different objective.

    Args:
        mode: `"gumbel"` or `"expected"`, the training-time behaviour.
        temperature: positive float, the initial Gumbel-softmax temperature.
        seed: optional int, seeds the Gumbel noise so a run is reproducible.
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        states: float tensor `(batch, T, height, width, channels)`, the
            internal state after each of the `T` fusion steps.
        training: bool, selects the sampling behaviour above.

    Returns:
        A dict with `"weights"` `(batch, T, height, width)`, the weights over
        steps (summing to one over `T`), `"stop_probabilities"` (the betas,
        same shape, in the compute dtype), `"log_stop_probabilities"` (their
        logs, always float32) and `"stop_step"` `(batch, height, width)`
        int32, the 0-based argmax step of each region.

    Example:
    >>> gate = TerminationGate(seed=0)
    >>> out = gate(np.random.rand(2, 4, 6, 6, 16).astype("float32"))
    >>> out["weights"].shape
    TensorShape([2, 4, 6, 6])
    """

    def __init__(self, mode="gumbel", temperature=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        check_termination_mode(mode, "mode")
        check_temperature(temperature)
        self.mode = mode
        self.temperature = float(temperature)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, states_shape):
        check_rank(
            states_shape, 5, "states", "(batch, steps, height, width, channels)"
        )
        self.gate_dense = keras.layers.Dense(
            1, dtype=self.dtype_policy, name="gate_dense"
        )
        self.gate_dense.build(states_shape)
        self.temperature_variable = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(self.temperature),
            trainable=False,
            name="temperature",
        )

    def gate_logits(self, states):
        """The logits of f_tg, float32, one per region: `states[..., 0]`."""
        return ops.cast(self.gate_dense(states)[..., 0], "float32")

    def stop_log_probabilities(self, states):
        """log beta `(batch, T, height, width)` in float32."""
        gate_logits = self.gate_logits(states)
        log_stop = ops.log_sigmoid(gate_logits)
        log_continue = ops.log_sigmoid(-gate_logits)
        # Mass still running before step t: sum_{k<t} log(1 - f_k), summed
        # in step order so that `ConvGRUFusion`'s early exit, which adds
        # one step at a time, gets bit-identical values.
        log_remaining = ops.cumsum(
            ops.concatenate(
                [ops.zeros_like(log_continue[:, :1]), log_continue[:, :-1]],
                axis=1,
            ),
            axis=1,
        )
        num_steps = ops.shape(states)[1]
        is_last = ops.arange(num_steps) == num_steps - 1
        is_last = ops.reshape(is_last, (1, -1, 1, 1))
        return log_remaining + ops.where(is_last, 0.0, log_stop)

    def call(self, states, training=None):
        log_probs = self.stop_log_probabilities(states)
        if training and self.mode == "gumbel":
            weights = self._relaxed_sample(log_probs)
        elif training:
            weights = ops.exp(log_probs)
        else:
            weights = ops.one_hot(
                ops.argmax(log_probs, axis=1), ops.shape(log_probs)[1], axis=1
            )
        return {
            "weights": ops.cast(weights, self.compute_dtype),
            "stop_probabilities": ops.cast(
                ops.exp(log_probs), self.compute_dtype
            ),
            # float32 whatever the policy: small betas underflow in float16,
            # and the expected loss needs their logs.
            "log_stop_probabilities": log_probs,
            "stop_step": ops.cast(ops.argmax(log_probs, axis=1), "int32"),
        }

    def _relaxed_sample(self, log_probs):
        # tfp puts the categories on the last axis; ours are on axis 1.
        logits = ops.moveaxis(log_probs, 1, -1)
        distribution = tfp.distributions.RelaxedOneHotCategorical(
            temperature=ops.cast(self.temperature_variable, "float32"),
            logits=logits,
        )
        sample = distribution.sample(
            seed=_replica_seed(self.seed_generator.next())
        )
        return ops.moveaxis(sample, -1, 1)

    def compute_output_shape(self, states_shape):
        weights_shape = tuple(states_shape[:4])
        return {
            "weights": weights_shape,
            "stop_probabilities": weights_shape,
            "log_stop_probabilities": weights_shape,
            "stop_step": (states_shape[0], *states_shape[2:4]),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "mode": self.mode,
                "temperature": self.temperature,
                "seed": self.seed,
            }
        )
        return config
