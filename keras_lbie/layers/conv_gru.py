import keras
from keras import ops

from keras_lbie.utils.validation import check_kernel_size
from keras_lbie.utils.validation import check_known_channels
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_rank
from keras_lbie.utils.validation import check_same_batch


@keras.saving.register_keras_serializable(package="keras_lbie")
class ConvGRU(keras.layers.Layer):
    """The convolutional GRU cell (C-GRU) of the recurrent fusion network.

    Implements the C-GRU of Chen et al., "Language-Based Image Editing with
    Recurrent Attentive Models", CVPR 2018, Section 3. With `⊗` a 2-D
    convolution with "same" padding and `⊙` the elementwise product, the
    cell maps the state `S` and the attended language features `Û` to

        z = sigmoid(W1 ⊗ S + W2 ⊗ Û + b1)
        r = sigmoid(W3 ⊗ S + W4 ⊗ Û + b2)
        c = ReLU(W5 ⊗ (r ⊙ S) + W6 ⊗ Û + b)
        Ô = h = (1 - z) ⊙ S + z ⊙ c
        S' = W7 ⊗ h

    Convolutions that read the same tensor are fused. The weights map to
    the paper's as follows (`[A | B]` concatenates output channels):

    - `state_gate_conv.kernel` = `[W1 | W3]`, no bias;
    - `input_conv.kernel` = `[W2 | W4 | W6]`, `input_conv.bias` =
      `[b1 | b2 | b]`;
    - `candidate_conv.kernel` = `W5`, no bias;
    - `next_state_conv.kernel` = `W7`, no bias (as in the paper).

    Args:
        filters: positive int, the channels of the state and of the outputs.
        kernel_size: positive int or pair of positive ints, the spatial size
            of every convolution.
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        state: float tensor `(batch, height, width, filters)`, the state `S`.
        inputs: float tensor `(batch, height, width, K)`, the attended
            language features `Û`. No masking: every region is updated.

    Returns:
        The tuple `(output, next_state)`, `Ô = h` and `S' = W7 ⊗ h`, both
        `(batch, height, width, filters)`.

    Example:
    >>> cell = ConvGRU(filters=16)
    >>> state = np.random.rand(2, 6, 6, 16).astype("float32")
    >>> attended = np.random.rand(2, 6, 6, 32).astype("float32")
    >>> output, next_state = cell(state, attended)
    >>> output.shape, next_state.shape
    (TensorShape([2, 6, 6, 16]), TensorShape([2, 6, 6, 16]))
    """

    def __init__(self, filters, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        check_positive_int(filters, "filters")
        check_kernel_size(kernel_size)
        self.filters = filters
        self.kernel_size = kernel_size

    def build(self, state_shape, inputs_shape):
        self._check_shapes(state_shape, inputs_shape)
        self.state_gate_conv = self._conv(2, "state_gate_conv", False)
        self.state_gate_conv.build(state_shape)
        self.input_conv = self._conv(3, "input_conv", True)
        self.input_conv.build(inputs_shape)
        self.candidate_conv = self._conv(1, "candidate_conv", False)
        self.candidate_conv.build(state_shape)
        self.next_state_conv = self._conv(1, "next_state_conv", False)
        self.next_state_conv.build(state_shape)

    def _conv(self, num_maps, name, use_bias):
        return keras.layers.Conv2D(
            num_maps * self.filters,
            self.kernel_size,
            padding="same",
            use_bias=use_bias,
            dtype=self.dtype_policy,
            name=name,
        )

    def _check_shapes(self, state_shape, inputs_shape):
        check_rank(state_shape, 4, "state", "(batch, height, width, filters)")
        check_rank(inputs_shape, 4, "inputs", "(batch, height, width, K)")
        check_known_channels(inputs_shape, "inputs")
        if state_shape[-1] != self.filters:
            raise ValueError(
                f"`state` must have `filters`={self.filters} channels. "
                f"Received shape: {tuple(state_shape)}"
            )
        for axis in (1, 2):
            sizes = (state_shape[axis], inputs_shape[axis])
            if None not in sizes and sizes[0] != sizes[1]:
                raise ValueError(
                    "`state` and `inputs` must have the same height and "
                    f"width. Received shapes: `state` {tuple(state_shape)}, "
                    f"`inputs` {tuple(inputs_shape)}"
                )
        check_same_batch({"state": state_shape, "inputs": inputs_shape})

    def call(self, state, inputs):
        self._check_shapes(state.shape, inputs.shape)
        built_channels = self.input_conv.kernel.shape[2]
        if inputs.shape[-1] != built_channels:
            raise ValueError(
                f"`inputs` must have {built_channels} channels, as when the "
                f"layer was built. Received shape: {tuple(inputs.shape)}"
            )
        state_z, state_r = ops.split(self.state_gate_conv(state), 2, axis=-1)
        input_z, input_r, input_c = ops.split(
            self.input_conv(inputs), 3, axis=-1
        )
        z = ops.sigmoid(state_z + input_z)
        r = ops.sigmoid(state_r + input_r)
        c = ops.relu(self.candidate_conv(r * state) + input_c)
        h = (1 - z) * state + z * c
        return h, self.next_state_conv(h)

    def compute_output_shape(self, state_shape, inputs_shape):
        return tuple(state_shape), tuple(state_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"filters": self.filters, "kernel_size": self.kernel_size}
        )
        return config
