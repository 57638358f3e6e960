"""What the segmentation backbones share: encoder layers, decoder, objective.

`LBIESegmenterBackbone` (CoSaL) and `ReferItSegmenterBackbone` end in the
same decoder (Chen et al., CVPR 2018, Sections 4.1 and 4.2: "a classifier and
an upsampling layer") and train the same objectives; the CoSaL encoder's
layers also make `conv_image_encoder`. Private to `keras_lbie.models`; the
layer names are those of the CoSaL weights already written, keep them.
"""

import keras
import numpy as np
from keras import ops

from keras_lbie.layers.bilinear_upsampling import BilinearUpsampling
from keras_lbie.losses.expected_step_cross_entropy import (
    expected_step_cross_entropy,
)
from keras_lbie.models._model_family import check_image


class PixelCrossEntropy(keras.losses.Loss):
    """Per-pixel sparse softmax cross-entropy on the final logits.

    `y_pred` is the `logits` tensor `(batch, H, W, classes)`. Reduced by
    `keras.losses.Loss`: the mean over pixels, divided by the number of
    replicas under `tf.distribute` so summed replica gradients are those of
    the global mean.
    """

    def call(self, y_true, y_pred):
        return keras.losses.sparse_categorical_crossentropy(
            ops.cast(y_true, "int32"), y_pred, from_logits=True
        )


class ExpectedStepCrossEntropy(keras.losses.Loss):
    """The released code's marginal likelihood, -log sum_t beta_t p_t(y).

    `y_pred` is the pair `(step_logits, log_stop_probabilities)`; reduced as
    `PixelCrossEntropy`.
    """

    def call(self, y_true, y_pred):
        step_logits, log_stop_probabilities = y_pred
        return expected_step_cross_entropy(
            y_true, step_logits, log_stop_probabilities
        )


def segmentation_labels(y):
    """The class map `(batch, H, W)` from labels or packed CoSaL targets."""
    if y is None:
        raise ValueError(
            "The model's loss needs targets: pass `y` (class ids "
            "(batch, H, W)) to `fit` / `evaluate`."
        )
    y = ops.convert_to_tensor(y)
    if len(y.shape) == 4 and y.shape[-1] == 2:
        # `cosal.as_dataset(with_shape_map=True)`: [label, shape_map].
        y = y[..., 0]
    if len(y.shape) != 3:
        raise ValueError(
            "`y` must be class ids (batch, H, W) or the packed CoSaL target "
            f"(batch, H, W, 2) [label, shape_map]. Received shape: "
            f"{tuple(y.shape)}"
        )
    return ops.cast(y, "int32")


def pixel_weights(sample_weight):
    """A `(batch,)` weight as `(batch, 1, 1)`, so it weights every pixel."""
    if sample_weight is None:
        return None
    sample_weight = ops.convert_to_tensor(sample_weight)
    if len(sample_weight.shape) == 1:
        sample_weight = sample_weight[:, None, None]
    return sample_weight


def conv_encoder_layers(encoder_filters, pool_every):
    """The layers of the CoSaL image encoder (paper Section 4.1), in order.

    One 3x3 "same" convolution with ReLU per entry of `encoder_filters`
    (`image_conv_{i}`), and a 2x2 max pooling (`image_pool_{j}`) after
    every `pool_every` of them: a stride of
    `2 ** (len(encoder_filters) // pool_every)`.
    """
    layers = []
    for index, filters in enumerate(encoder_filters):
        layers.append(
            keras.layers.Conv2D(
                filters,
                3,
                padding="same",
                activation="relu",
                name=f"image_conv_{index}",
            )
        )
        if (index + 1) % pool_every == 0:
            layers.append(
                keras.layers.MaxPooling2D(
                    2, name=f"image_pool_{(index + 1) // pool_every - 1}"
                )
            )
    return layers


def segmentation_head(
    details,
    image_size,
    factor,
    classifier_units,
    num_classes,
    max_steps,
):
    """The decoder on `ConvGRUFusion` details, as the backbones' outputs.

    A 1x1 convolution with `classifier_units` and ReLU
    ("classifier_hidden"), a 1x1 convolution to `num_classes`
    ("classifier_output") and `BilinearUpsampling` by `factor` with a
    kernel of `2 * factor` ("upsampling"), applied to the fused map and,
    with shared weights, to each step's output.

    Args:
        details: the dict of `ConvGRUFusion(..., return_details=True)` on
            symbolic inputs.
        image_size: int, the output height and width (`factor` times the
            fusion map's).
        factor: int, the encoder stride.
        classifier_units, num_classes, max_steps: ints.

    Returns:
        The dict of backbone outputs: `"logits"`, `"step_logits"`,
        `"log_stop_probabilities"` (each region's log beta repeated over its
        `factor × factor` pixels), `"attention"` and `"stop_step"`.
    """
    classifier_hidden = keras.layers.Conv2D(
        classifier_units, 1, activation="relu", name="classifier_hidden"
    )
    classifier_output = keras.layers.Conv2D(
        num_classes, 1, name="classifier_output"
    )
    upsampling = BilinearUpsampling(
        factor, kernel_size=2 * factor, name="upsampling"
    )

    def decode(features):
        return upsampling(classifier_output(classifier_hidden(features)))

    logits = decode(details["fusion"])
    # Every step's output through the same decoder: steps join the batch.
    step_outputs = details["step_outputs"]
    _, _, height, width, channels = step_outputs.shape
    step_logits = decode(
        ops.reshape(step_outputs, (-1, height, width, channels))
    )
    step_logits = ops.reshape(
        step_logits, (-1, max_steps, image_size, image_size, num_classes)
    )
    log_stop = details["log_stop_probabilities"]
    log_stop = ops.repeat(ops.repeat(log_stop, factor, 2), factor, 3)
    return {
        "logits": logits,
        "step_logits": step_logits,
        "log_stop_probabilities": log_stop,
        "attention": details["attention"],
        "stop_step": details["stop_step"],
    }


class SegmentationObjective:
    """`compute_loss` and `compute_metrics` of the segmentation backbones.

    A mixin for `keras.Model` subclasses with `"logits"`, `"step_logits"`
    and `"log_stop_probabilities"` outputs and `termination_mode` and
    `max_steps` attributes. The loss is: the loss given to `compile`, applied to
    `"logits"`, if any; else the expected step loss when
    `uses_expected_loss`, else the pixel cross-entropy of `"logits"`; plus
    the model's `losses` (regularisers of its layers) and the terms of
    `parameter_penalties()` (none unless overridden), scaled for
    `tf.distribute` as Keras scales regularisers. Compiled metrics receive
    `"logits"`.
    """

    @property
    def uses_expected_loss(self):
        """True when the objective is the released code's expected loss."""
        return self.termination_mode == "expected" and self.max_steps > 1

    def parameter_penalties(self):
        """Extra scalar loss terms on the weights (e.g. L2); none here."""
        return []

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        labels = segmentation_labels(y)
        if self._compile_loss is not None:
            losses = [
                self._compile_loss(labels, y_pred["logits"], sample_weight)
            ]
        elif self.uses_expected_loss:
            losses = [
                ExpectedStepCrossEntropy(name="expected_step_cross_entropy")(
                    labels,
                    (y_pred["step_logits"], y_pred["log_stop_probabilities"]),
                    pixel_weights(sample_weight),
                )
            ]
        else:
            losses = [
                PixelCrossEntropy(name="pixel_cross_entropy")(
                    labels, y_pred["logits"], pixel_weights(sample_weight)
                )
            ]
        # Regularisation losses, scaled for distribution as Keras does.
        losses += [
            self._aggregate_additional_loss(loss)
            for loss in [*self.losses, *self.parameter_penalties()]
        ]
        return ops.sum(ops.stack(losses)) if len(losses) > 1 else losses[0]

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if isinstance(y_pred, dict):
            y_pred = y_pred["logits"]
        return super().compute_metrics(x, y, y_pred, sample_weight)


def segmenter_graph(backbone, tokenizer):
    """The raw-input graph of a segmenter task: `(inputs, logits)`.

    `inputs` is the dict of a float32 RGB `"image"` of the backbone's
    `image_size` and a string `"text"` `(batch,)`, tokenized in the graph;
    `logits` the backbone's `"logits"` on them.
    """
    size = backbone.image_size
    image = keras.Input((size, size, 3), dtype="float32", name="image")
    text = keras.Input((), dtype="string", name="text")
    token_ids = tokenizer(text)
    logits = backbone({"image": image, "token_ids": token_ids})["logits"]
    return {"image": image, "text": text}, logits


def edit_images(images, image_size):
    """RGB `images`, or one image, as a float32 batch of `image_size`."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    check_image(images, image_size, name="images")
    return images.astype(np.float32)
