import keras
from keras import ops

from keras_lbie.layers.conv_gru import ConvGRU
from keras_lbie.layers.relational_text_attention import RelationalTextAttention
from keras_lbie.layers.termination_gate import TerminationGate
from keras_lbie.layers.termination_gate import check_termination_mode
from keras_lbie.layers.text_attention import TextAttention
from keras_lbie.utils.validation import check_bool
from keras_lbie.utils.validation import check_kernel_size
from keras_lbie.utils.validation import check_odd_positive_int
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_rank
from keras_lbie.utils.validation import check_same_batch
from keras_lbie.utils.validation import check_sequence_mask
from keras_lbie.utils.validation import check_temperature


def _last_valid_vector(sequence, mask):
    """The feature vector at the last `True` position of `mask` per row.

    Works for left- and right-padded sequences; a row without any valid
    position gives zeros.

    Args:
        sequence: float tensor `(batch, length, channels)`.
        mask: bool tensor `(batch, length)`.
    """
    length = ops.shape(sequence)[1]
    positions = ops.where(mask, ops.arange(length), -1)
    last = ops.max(positions, axis=1)
    picked = ops.take_along_axis(
        sequence, ops.maximum(last, 0)[:, None, None], axis=1
    )[:, 0]
    return ops.where((last >= 0)[:, None], picked, ops.zeros_like(picked))


@keras.saving.register_keras_serializable(package="keras_lbie")
class ConvGRUFusion(keras.layers.Layer):
    """The recurrent attentive fusion network (Algorithm 1).

    Chen et al., "Language-Based Image Editing with Recurrent Attentive
    Models", CVPR 2018, Section 3 and Algorithm 1. Starting from
    S_0 = V, for t = 0 .. T-1:

        U^t = TextAttention(S_t, U)          (attention over the text)
        O^t, S_{t+1} = ConvGRU(S_t, U^t)     (the C-GRU cell)

    then each region's `TerminationGate` on S_1 .. S_T picks (at inference,
    the argmax step) or softly mixes (in training) the per-step outputs:
    o_i = sum_t w_it O^t_i.

    With `use_attention=False` (only valid with `max_steps=1`) the layer is
    the paper's concatenation baseline: every region of V is concatenated
    with the last valid text vector, O = [V, u_L]. With `max_steps=1` and
    attention there is one step and no gate, and W7 (which only feeds the
    next step) is frozen.

    When the image features' channel count `D` differs from `units`, a 1x1
    convolution projects V to `units` channels to form S_0 (the ReferIt
    configuration: VGG's 512 channels into a 1024-unit GRU); the paper's
    CoSaL model has D = units = 16 and needs none.

    Args:
        units: int, channels of the C-GRU state (the paper's "GRU units").
        max_steps: int >= 1, the maximum number of fusion steps T.
        attention_units: int or None, rank of the attention's bilinear form
            (see `TextAttention`).
        use_attention: bool, False gives the concatenation baseline.
        kernel_size: int, the C-GRU convolution size.
        termination_mode: `"gumbel"` or `"expected"`, see `TerminationGate`.
        temperature: positive float, the initial Gumbel temperature.
        seed: optional int, seeds the Gumbel noise.
        early_exit: bool, an inference option (no effect in training or
            with one step): stop the loop once every region of every
            example has decided its stopping step, i.e. once the mass still
            running, prod_t (1 - f_t), is no larger than the region's best
            stop probability so far (no later step can then win the
            argmax). A `while_loop` with a dynamic exit, also under XLA;
            `"fusion"` and `"stop_step"` are identical to running all T
            steps. In the details, steps that did not run have zero
            `"step_outputs"`, `"attention"` and `"stop_probabilities"` and
            `-inf` `"log_stop_probabilities"`.
        relation_kernel_size: None for the paper's `TextAttention`, or an
            odd int: attend with `RelationalTextAttention` of that reach
            (in regions), which can also place a sentence's target next to
            what it names ("The shape left of the diamond ...").
        **kwargs: standard layer arguments.

    Call arguments:
        image_features: float tensor `(batch, M, N, D)`, V.
        text_features: float tensor `(batch, L, K)`, U.
        text_mask: optional bool tensor `(batch, L)`, True for real tokens
            (or sentences). Defaults to the Keras mask of `text_features`,
            else every position counts. Padding never receives attention;
            an all-padding row attends to nothing (zero context vectors).
        word_features: optional float tensor `(batch, L, E)`, context-free
            features of each sentence's words (e.g. the sum of its word
            embeddings) that `RelationalTextAttention` matches regions
            against; needs `relation_kernel_size`.
        training: bool, the termination gate's mode (see `TerminationGate`).
        return_details: bool, also return the per-step maps.

    Returns:
        The fusion map O `(batch, M, N, units)` (`(batch, M, N, D + K)` for
        the baseline). With `return_details=True` a dict with `"fusion"`
        (O), `"step_outputs"` `(batch, T, M, N, units)`, `"attention"`
        `(batch, T, M, N, L)`, `"stop_probabilities"` `(batch, T, M, N)`,
        `"log_stop_probabilities"` (same shape, float32; for
        `keras_lbie.losses.expected_step_cross_entropy`) and `"stop_step"`
        `(batch, M, N)` int32 (0-based).

    Example:
    >>> fusion = ConvGRUFusion(units=16, max_steps=4, attention_units=16)
    >>> v = np.random.rand(2, 6, 6, 16).astype("float32")
    >>> u = np.random.rand(2, 9, 16).astype("float32")
    >>> fusion(v, u).shape
    TensorShape([2, 6, 6, 16])
    """

    def __init__(
        self,
        units,
        max_steps=1,
        attention_units=None,
        use_attention=True,
        kernel_size=3,
        termination_mode="gumbel",
        temperature=1.0,
        seed=None,
        early_exit=False,
        relation_kernel_size=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int(units, "units")
        check_positive_int(max_steps, "max_steps")
        if attention_units is not None:
            check_positive_int(attention_units, "attention_units")
        check_kernel_size(kernel_size)
        check_termination_mode(termination_mode)
        check_temperature(temperature)
        use_attention = check_bool(use_attention, "use_attention")
        early_exit = check_bool(early_exit, "early_exit")
        if relation_kernel_size is not None:
            check_odd_positive_int(relation_kernel_size, "relation_kernel_size")
        if not use_attention and max_steps != 1:
            raise ValueError(
                "`use_attention=False` is the paper's concatenation baseline "
                f"and needs `max_steps=1`. Received: max_steps={max_steps}"
            )
        self.units = units
        self.max_steps = max_steps
        self.attention_units = attention_units
        self.use_attention = use_attention
        self.kernel_size = kernel_size
        self.termination_mode = termination_mode
        self.temperature = temperature
        self.seed = seed
        self.early_exit = early_exit
        self.relation_kernel_size = relation_kernel_size

    def build(
        self,
        image_features_shape,
        text_features_shape,
        word_features_shape=None,
    ):
        check_rank(
            image_features_shape, 4, "image_features", "(batch, M, N, D)"
        )
        check_rank(text_features_shape, 3, "text_features", "(batch, L, K)")
        if not self.use_attention:
            return
        batch, height, width, channels = image_features_shape
        state_shape = (batch, height, width, self.units)
        self.input_projection = None
        if channels != self.units:
            self.input_projection = keras.layers.Conv2D(
                self.units,
                1,
                dtype=self.dtype_policy,
                name="input_projection",
            )
            self.input_projection.build(image_features_shape)
        if self.relation_kernel_size is None:
            self.attention = TextAttention(
                units=self.attention_units,
                dtype=self.dtype_policy,
                name="attention",
            )
        else:
            self.attention = RelationalTextAttention(
                units=self.attention_units,
                kernel_size=self.relation_kernel_size,
                dtype=self.dtype_policy,
                name="attention",
            )
        if self.relation_kernel_size is None:
            self.attention.build(state_shape, text_features_shape)
        else:
            self.attention.build(
                state_shape, text_features_shape, word_features_shape
            )
        self.conv_gru = ConvGRU(
            self.units,
            kernel_size=self.kernel_size,
            dtype=self.dtype_policy,
            name="conv_gru",
        )
        context_shape = (batch, height, width, text_features_shape[-1])
        self.conv_gru.build(state_shape, context_shape)
        if self.max_steps == 1:
            # With one step nothing reads S_1 = W7 h: freezing W7 keeps a
            # weight without gradient out of the optimizer.
            self.conv_gru.next_state_conv.trainable = False
        else:
            self.termination_gate = TerminationGate(
                mode=self.termination_mode,
                temperature=self.temperature,
                seed=self.seed,
                dtype=self.dtype_policy,
                name="termination_gate",
            )
            self.termination_gate.build(
                (batch, self.max_steps, height, width, self.units)
            )

    def call(
        self,
        image_features,
        text_features,
        text_mask=None,
        word_features=None,
        training=None,
        return_details=False,
    ):
        check_same_batch(
            {
                "image_features": image_features.shape,
                "text_features": text_features.shape,
            }
        )
        if text_mask is None:
            text_mask = getattr(text_features, "_keras_mask", None)
        if text_mask is None:
            text_mask = ops.ones(ops.shape(text_features)[:2], "bool")
        text_mask = ops.cast(text_mask, "bool")
        check_sequence_mask(
            text_mask.shape, text_features.shape, "text_mask", "text_features"
        )
        if not self.use_attention:
            return self._concatenation_baseline(
                image_features, text_features, text_mask, return_details
            )
        state = image_features
        if self.input_projection is not None:
            state = self.input_projection(state)
        text = self._text(text_features, text_mask, word_features)
        if self.early_exit and not training and self.max_steps > 1:
            details = self._early_exit_loop(state, text)
            return details if return_details else details["fusion"]
        step_outputs, states, attention = [], [], []
        for _ in range(self.max_steps):
            output, state, weights = self._step(state, text)
            step_outputs.append(output)
            states.append(state)
            attention.append(weights)
        step_outputs = ops.stack(step_outputs, axis=1)
        gate = self._gate(ops.stack(states, axis=1), training)
        fusion = ops.sum(step_outputs * gate["weights"][..., None], axis=1)
        if not return_details:
            return fusion
        return {
            "fusion": fusion,
            "step_outputs": step_outputs,
            "attention": ops.stack(attention, axis=1),
            **{key: value for key, value in gate.items() if key != "weights"},
        }

    def _text(self, text_features, text_mask, word_features):
        """The attention's arguments besides the state."""
        text = {"value": text_features, "mask": text_mask}
        if word_features is not None:
            if self.relation_kernel_size is None:
                raise ValueError(
                    "`word_features` are read by the relational attention "
                    "only: pass `relation_kernel_size` to use them."
                )
            check_same_batch(
                {
                    "text_features": text_features.shape,
                    "word_features": word_features.shape,
                }
            )
            text["word_features"] = word_features
        return text

    def _step(self, state, text):
        """One step of Algorithm 1: `(O^t, S_{t+1}, attention weights)`."""
        context, weights = self.attention(
            state, **text, return_attention_scores=True
        )
        output, state = self.conv_gru(state, context)
        return output, state, weights

    def _early_exit_loop(self, state, text):
        """Inference with a dynamic exit; see `early_exit` in the docstring.

        Keeps each region's best log beta so far and the output of that
        step; beta_t = f_t prod_{k<t} (1 - f_k) for t < T and the remaining
        mass at the last step, summed in the order `TerminationGate` uses.
        """
        num_steps = self.max_steps
        gate = self.termination_gate
        batch, height, width = ops.shape(state)[:3]
        regions = (batch, height, width)
        length = ops.shape(text["value"])[1]

        def undecided(step, state, best, remaining, *buffers):
            return ops.logical_and(
                step < num_steps, ops.any(remaining > best["log_beta"])
            )

        def body(step, state, best, remaining, outputs, attention, log_beta):
            output, state, weights = self._step(state, text)
            logits = gate.gate_logits(state)
            step_log_beta = remaining + ops.where(
                step == num_steps - 1, 0.0, ops.log_sigmoid(logits)
            )
            # Strictly better: ties keep the earlier step, as argmax does.
            better = step_log_beta > best["log_beta"]
            best = {
                "log_beta": ops.where(better, step_log_beta, best["log_beta"]),
                "output": ops.where(better[..., None], output, best["output"]),
                "step": ops.where(better, step, best["step"]),
            }
            remaining = remaining + ops.log_sigmoid(-logits)
            start = (0, step, 0, 0, 0)
            return (
                step + 1,
                state,
                best,
                remaining,
                ops.slice_update(outputs, start, output[:, None]),
                ops.slice_update(attention, start, weights[:, None]),
                ops.slice_update(log_beta, start[:-1], step_log_beta[:, None]),
            )

        best = {
            "log_beta": ops.full(regions, float("-inf"), "float32"),
            "output": ops.zeros((*regions, self.units), self.compute_dtype),
            "step": ops.zeros(regions, "int32"),
        }
        loop = ops.while_loop(
            undecided,
            body,
            (
                ops.convert_to_tensor(0, "int32"),
                state,
                best,
                ops.zeros(regions, "float32"),
                ops.zeros(
                    (batch, num_steps, height, width, self.units),
                    self.compute_dtype,
                ),
                ops.zeros(
                    (batch, num_steps, height, width, length),
                    self.compute_dtype,
                ),
                ops.full(
                    (batch, num_steps, height, width), float("-inf"), "float32"
                ),
            ),
            maximum_iterations=num_steps,
        )
        _, _, best, _, outputs, attention, log_beta = loop
        return {
            "fusion": best["output"],
            "step_outputs": outputs,
            "attention": attention,
            "stop_probabilities": ops.cast(
                ops.exp(log_beta), self.compute_dtype
            ),
            "log_stop_probabilities": log_beta,
            "stop_step": best["step"],
        }

    def _gate(self, states, training):
        if self.max_steps > 1:
            return self.termination_gate(states, training=training)
        return self._single_step_gate(states)

    def _single_step_gate(self, features):
        # One step takes all the mass: there is nothing to decide.
        batch, height, width = (
            ops.shape(features)[0],
            *ops.shape(features)[-3:-1],
        )
        ones = ops.ones((batch, 1, height, width), self.compute_dtype)
        return {
            "weights": ones,
            "stop_probabilities": ones,
            "log_stop_probabilities": ops.zeros(
                (batch, 1, height, width), "float32"
            ),
            "stop_step": ops.zeros((batch, height, width), "int32"),
        }

    def _concatenation_baseline(
        self, image_features, text_features, text_mask, return_details
    ):
        sentence = _last_valid_vector(text_features, text_mask)
        height, width = ops.shape(image_features)[1:3]
        tiled = ops.tile(sentence[:, None, None, :], (1, height, width, 1))
        fusion = ops.concatenate([image_features, tiled], axis=-1)
        if not return_details:
            return fusion
        gate = self._single_step_gate(image_features)
        batch, length = ops.shape(text_features)[:2]
        return {
            "fusion": fusion,
            "step_outputs": fusion[:, None],
            "attention": ops.zeros(
                (batch, 1, height, width, length), self.compute_dtype
            ),
            **{key: value for key, value in gate.items() if key != "weights"},
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "max_steps": self.max_steps,
                "attention_units": self.attention_units,
                "use_attention": self.use_attention,
                "kernel_size": self.kernel_size,
                "termination_mode": self.termination_mode,
                "temperature": self.temperature,
                "seed": self.seed,
                "early_exit": self.early_exit,
                "relation_kernel_size": self.relation_kernel_size,
            }
        )
        return config
