import keras
import numpy as np
from keras import ops

from keras_lbie.layers.bilinear_upsampling import BilinearUpsampling
from keras_lbie.layers.conv_gru_fusion import ConvGRUFusion
from keras_lbie.layers.termination_gate import check_termination_mode
from keras_lbie.losses.expected_step_cross_entropy import (
    ExpectedStepCrossEntropy,
)
from keras_lbie.losses.pixel_cross_entropy import PixelCrossEntropy
from keras_lbie.losses.pixel_cross_entropy import image_sample_weight
from keras_lbie.models.backbone import Backbone
from keras_lbie.utils.replicas import global_batch_share
from keras_lbie.utils.validation import check_batched_ids
from keras_lbie.utils.validation import check_bool
from keras_lbie.utils.validation import check_image
from keras_lbie.utils.validation import check_input_keys
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_seed
from keras_lbie.utils.validation import check_temperature

# What every segmentation backbone takes and passes on to this base.
SHARED_ARGUMENTS = (
    "image_size",
    "fusion_units",
    "max_steps",
    "attention_units",
    "use_attention",
    "termination_mode",
    "temperature",
    "seed",
    "early_exit",
    "relation_kernel_size",
    "classifier_units",
)


class ImageSegmenterBackbone(Backbone):
    """What the segmentation backbones share: graph, decoder and objective.

    Chen et al., "Language-Based Image Editing with Recurrent Attentive
    Models", CVPR 2018, Sections 4.1 and 4.2: `LBIESegmenterBackbone`
    (CoSaL) and `ReferItSegmenterBackbone` differ in their encoders; both
    fuse image and text with `ConvGRUFusion` and end in the same decoder
    ("a classifier and an upsampling layer"), trained with the same
    objectives. A base class: a subclass checks its arguments, then calls
    `super().__init__` with its encoders, which builds the functional graph

        image → encode_image → V ─┐
                                  ├→ ConvGRUFusion → segmentation_head
        token_ids → encode_text → U ┘

    and defines `token_id_sizes`, the axes of its `"token_ids"`. The layer
    names are those of the shipped CoSaL weights: keep them.

    The loss, when `compile` is given none: the expected step loss when
    `uses_expected_loss`, else the pixel cross-entropy of `"logits"` (a
    loss given to `compile` replaces it, applied to `"logits"`); plus the
    model's `losses` (regularisers of its layers) and the terms of
    `parameter_penalties()` (none unless overridden), scaled for
    `tf.distribute` as Keras scales regularisers. Compiled metrics receive
    `"logits"`.

    Args:
        image_size: int, the height and width of the images.
        token_ids_shape: tuple, the shape of one example's token ids.
        encode_image: callable, the float32 image input `(batch, S, S, 3)`
            → `(V, stride)`: the feature map `(batch, M, N, D)` and the
            encoder stride `S / M`.
        encode_text: callable, the int32 token ids input → `(U, mask)`:
            the text features `(batch, L, K)` and the bool `(batch, L)` of
            the positions to attend to; or `(U, mask, W)` with the
            `word_features` `(batch, L, E)` of `RelationalTextAttention`.
        fusion_units, max_steps, attention_units, use_attention,
        termination_mode, temperature, seed, early_exit,
        relation_kernel_size: the `ConvGRUFusion` arguments (its `units`
            is `fusion_units`).
        classifier_units, num_classes: the decoder's sizes.
        **kwargs: standard model arguments (`name`, ...).

    Example:
    >>> backbone = LBIESegmenterBackbone(vocabulary_size=26)
    >>> backbone.compile(optimizer="adam")  # the model's own objective
    >>> backbone.fit(tokenized_cosal_dataset)
    """

    def __init__(
        self,
        *,
        image_size,
        token_ids_shape,
        encode_image,
        encode_text,
        fusion_units,
        max_steps,
        attention_units,
        use_attention,
        termination_mode,
        temperature,
        seed,
        early_exit,
        relation_kernel_size,
        classifier_units,
        num_classes,
        **kwargs,
    ):
        fusion = ConvGRUFusion(
            fusion_units,
            max_steps=max_steps,
            attention_units=attention_units,
            use_attention=use_attention,
            termination_mode=termination_mode,
            temperature=temperature,
            seed=seed,
            early_exit=early_exit,
            relation_kernel_size=relation_kernel_size,
            name="fusion",
        )
        image_input = keras.Input(
            (image_size, image_size, 3), dtype="float32", name="image"
        )
        token_ids_input = keras.Input(
            token_ids_shape, dtype="int32", name="token_ids"
        )
        features, factor = encode_image(image_input)
        text, text_mask, *word_features = encode_text(token_ids_input)
        details = fusion(
            features,
            text,
            text_mask=text_mask,
            word_features=word_features[0] if word_features else None,
            return_details=True,
        )
        outputs = segmentation_head(
            details,
            image_size=image_size,
            factor=factor,
            classifier_units=classifier_units,
            num_classes=num_classes,
            max_steps=max_steps,
        )
        super().__init__(
            inputs={"image": image_input, "token_ids": token_ids_input},
            outputs=outputs,
            **kwargs,
        )
        self.upsampling_factor = factor

    @staticmethod
    def check_shared_arguments(arguments):
        """Checks the arguments every segmentation backbone takes.

        Args:
            arguments: a subclass `__init__`'s `locals()`, before anything
                is built.

        Returns:
            `(use_attention, early_exit)` as bools.
        """
        for name in (
            "vocabulary_size",
            "image_size",
            "fusion_units",
            "attention_units",
            "max_steps",
            "classifier_units",
        ):
            check_positive_int(arguments[name], name)
        check_termination_mode(arguments["termination_mode"])
        check_temperature(arguments["temperature"])
        check_seed(arguments["seed"])
        return (
            check_bool(arguments["use_attention"], "use_attention"),
            check_bool(arguments["early_exit"], "early_exit"),
        )

    @staticmethod
    def shared_arguments(arguments):
        """The `__init__` arguments every segmentation backbone passes on.

        Args:
            arguments: a subclass `__init__`'s `locals()` once checked.

        Returns:
            A dict of `image_size`, the `ConvGRUFusion` arguments and
            `classifier_units`, for `super().__init__`.
        """
        return {name: arguments[name] for name in SHARED_ARGUMENTS}

    def token_id_sizes(self):
        """`(sizes, source)` of the `"token_ids"` input, for its checks.

        `sizes` maps the axis names after the batch to their sizes, e.g.
        `{"sequence_length": 20}`; `source` says where the ids come from.
        """
        raise NotImplementedError

    def check_inputs(self, inputs):
        check_input_keys(inputs, ("image", "token_ids"))
        check_image(inputs["image"], self.image_size)
        check_batched_ids(inputs["token_ids"], *self.token_id_sizes())

    def check_targets(self, y):
        check_labels(y, self.num_classes)

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
                    image_sample_weight(sample_weight),
                )
            ]
        else:
            losses = [
                PixelCrossEntropy(name="pixel_cross_entropy")(
                    labels, y_pred["logits"], image_sample_weight(sample_weight)
                )
            ]
        # Sum over the global batch, whichever way it splits over replicas.
        losses[0] = losses[0] * global_batch_share(
            ops.shape(labels)[0], losses[0].dtype
        )
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


def check_labels(y, num_classes):
    """Raises unless numpy `y` holds class ids in `[0, num_classes)`.

    Args:
        y: class ids `(batch, H, W)`, or CoSaL's packed `(batch, H, W, 2)`
            [label, shape_map].
        num_classes: int.
    """
    labels = np.asarray(y)
    if labels.ndim == 4 and labels.shape[-1] == 2:
        labels = labels[..., 0]
    if labels.dtype.kind not in "iuf":
        raise TypeError(
            "`y` must be class ids (batch, H, W). Received dtype: "
            f"{labels.dtype}"
        )
    valid = (labels >= 0) & (labels < num_classes)
    if labels.dtype.kind == "f":
        valid &= labels == np.round(labels)
    if not valid.all():
        index = tuple(int(i) for i in np.argwhere(~valid)[0])
        raise ValueError(
            f"`y` holds the label {labels[index]} at index {index}: labels "
            f"must be class ids in [0, {num_classes}) (the model's "
            "`num_classes`)."
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
