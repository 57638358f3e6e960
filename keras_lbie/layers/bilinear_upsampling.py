import keras
import numpy as np
from keras import ops

from keras_lbie.utils.validation import check_known_channels
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_rank


@keras.saving.register_keras_serializable(package="keras_lbie")
class _BilinearKernelInitializer(keras.initializers.Initializer):
    """Per-channel bilinear interpolation kernel for a `Conv2DTranspose`.

    For a kernel of shape `(k, k, channels, channels)` used with stride
    `factor` and "same" padding, returns the separable tent filter that
    makes the transposed convolution a bilinear upsampling with half-pixel
    centres (as `tf.image.resize(..., method="bilinear")`), with channel `c`
    feeding only channel `c`.
    """

    def __init__(self, factor):
        self.factor = factor

    def __call__(self, shape, dtype=None):
        size, width, out_channels, in_channels = shape
        if size != width or out_channels != in_channels:
            raise ValueError(
                "The bilinear kernel must be square and map each channel to "
                f"itself: expected shape (k, k, c, c). Received: {shape}"
            )
        # "same" padding puts max(k - factor, 0) // 2 rows before the first
        # tap; shifting the tent's centre by it lands every input pixel's
        # centre at (i + 0.5) * factor - 0.5 in output pixels.
        centre = max(size - self.factor, 0) // 2 + (self.factor - 1) / 2
        taps = np.maximum(
            0.0, 1.0 - np.abs(np.arange(size) - centre) / self.factor
        )
        kernel = np.einsum("i,j,co->ijco", taps, taps, np.eye(out_channels))
        return ops.convert_to_tensor(kernel, dtype=dtype)

    def get_config(self):
        return {"factor": self.factor}


@keras.saving.register_keras_serializable(package="keras_lbie")
class BilinearUpsampling(keras.layers.Layer):
    """Learnable upsampling initialised to bilinear interpolation.

    The decoder's upsampler of Chen et al., "Language-Based Image Editing
    with Recurrent Attentive Models", CVPR 2018, Section 4 (a kernel-16,
    stride-8 deconvolution on CoSaL and ReferIt): a `Conv2DTranspose` with
    stride `factor`, "same" padding and no bias whose kernel starts as
    per-channel bilinear interpolation, so before training the layer
    reproduces `tf.image.resize(..., method="bilinear")` away from the
    borders (within `factor` pixels of the border the transposed
    convolution sees zero padding where `resize` clamps). The kernel stays
    trainable unless `trainable=False`; training may then mix channels.
    Exact interpolation needs `kernel_size >= 2 * factor - factor % 2`;
    a smaller kernel truncates the interpolation filter.

    Args:
        factor: positive int, the upsampling factor of height and width.
        kernel_size: positive int, the kernel's spatial size. Defaults to
            `2 * factor`.
        trainable: bool, whether the kernel is trained.
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: float tensor `(batch, height, width, channels)`; the channel
            count is fixed at build time. No masking.

    Returns:
        A tensor `(batch, height * factor, width * factor, channels)`.

    Example:
    >>> upsample = BilinearUpsampling(factor=8, kernel_size=16)
    >>> logits = np.random.rand(2, 6, 6, 7).astype("float32")
    >>> upsample(logits).shape
    TensorShape([2, 48, 48, 7])
    """

    def __init__(self, factor, kernel_size=None, trainable=True, **kwargs):
        super().__init__(trainable=trainable, **kwargs)
        check_positive_int(factor, "factor")
        if kernel_size is not None:
            check_positive_int(kernel_size, "kernel_size")
            if kernel_size < factor:
                # A stride longer than the kernel leaves output pixels that
                # no input reaches: holes, not interpolation.
                raise ValueError(
                    f"`kernel_size` must be >= `factor` ({factor}). "
                    f"Received: {kernel_size}"
                )
        self.factor = factor
        self.kernel_size = kernel_size

    def build(self, input_shape):
        check_rank(input_shape, 4, "inputs", "(batch, height, width, channels)")
        check_known_channels(input_shape, "inputs")
        self.deconv = keras.layers.Conv2DTranspose(
            input_shape[-1],
            self.kernel_size or 2 * self.factor,
            strides=self.factor,
            padding="same",
            use_bias=False,
            kernel_initializer=_BilinearKernelInitializer(self.factor),
            dtype=self.dtype_policy,
            name="deconv",
        )
        self.deconv.build(input_shape)

    def call(self, inputs):
        channels = self.deconv.kernel.shape[-1]
        if len(inputs.shape) != 4 or inputs.shape[-1] != channels:
            raise ValueError(
                f"`inputs` must have shape (batch, height, width, {channels})"
                f", as when the layer was built. Received shape: "
                f"{tuple(inputs.shape)}"
            )
        return self.deconv(inputs)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        return (
            batch,
            None if height is None else height * self.factor,
            None if width is None else width * self.factor,
            channels,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "kernel_size": self.kernel_size})
        return config
