import copy
import numbers

import keras
from keras import ops

from keras_lbie.layers.text_encoder import TextEncoder
from keras_lbie.models.image_segmenter_backbone import ImageSegmenterBackbone
from keras_lbie.models.referit_segmenter.referit_image_encoders import (
    vgg16_image_encoder,
)
from keras_lbie.utils.validation import check_positive_int

# Object vs background: class 1 is the referred object, as in the masks of
# `keras_lbie.datasets.referit.as_dataset`.
NUM_CLASSES = 2


def _encoder_stride(image_encoder, image_input, image_size):
    """Calls the encoder on the image input; returns (features, stride)."""
    try:
        features = image_encoder(image_input)
    except Exception as error:  # Keras raises several types on bad inputs.
        raise ValueError(
            f"`image_encoder` must take images (batch, {image_size}, "
            f"{image_size}, 3). Calling it failed: {error}"
        ) from error
    shape = tuple(getattr(features, "shape", ()))
    if len(shape) != 4 or None in shape[1:]:
        raise ValueError(
            "`image_encoder` must return one feature map (batch, M, N, D) "
            f"of known size. Received: {shape or type(features).__name__}"
        )
    _, height, width, _ = shape
    if height != width or image_size % height:
        raise ValueError(
            f"`image_encoder` must map {image_size} × {image_size} images to "
            "a square map whose side divides `image_size` (a whole stride). "
            f"Received a {height} × {width} map."
        )
    return features, image_size // height


@keras.saving.register_keras_serializable(package="keras_lbie")
class ReferItSegmenterBackbone(ImageSegmenterBackbone):
    """The paper's ReferIt segmentation network, on word ids.

    Chen et al., "Language-Based Image Editing with Recurrent Attentive
    Models", CVPR 2018, Section 4.2: referring-expression segmentation. A
    functional model:

    1. image encoder: `image_encoder`, any Keras model mapping raw RGB
       images in [0, 255] to a feature map V `(batch, M, N, D)` (it does
       its own preprocessing); by default VGG-16 from `keras.applications`
       with VGG's mean subtraction in the graph (`vgg16_image_encoder`);
    2. text encoder: `TextEncoder`, a word embedding and an LSTM over the
       expression's words, giving U `(batch, sequence_length, text_units)`;
    3. fusion: `ConvGRUFusion` (Algorithm 1: attention over the words,
       C-GRU, termination gates, `max_steps` steps), attending only to
       non-padding words; a 1x1 convolution projects V to `fusion_units`
       channels when they differ;
    4. decoder: the classifier (1x1 convolution with `classifier_units` and
       ReLU, 1x1 convolution to 2 classes, background 0 and object 1) and
       `BilinearUpsampling` by the encoder stride back to `image_size`, as
       `LBIESegmenterBackbone`'s (Section 4.1).

    Two classes with a softmax rather than one sigmoid logit: the same
    decoder, objectives and metrics as the CoSaL segmenter serve both (a
    2-class softmax is a sigmoid of the logit difference).

    Training: `compile` without a `loss` to train the model's objective:
    the mean pixel-wise softmax cross-entropy of `"logits"` (`"gumbel"`,
    the paper), or the released code's expected step loss
    (`termination_mode="expected"`), as `LBIESegmenterBackbone`, plus the
    L2 penalty `l2_weight * sum(w ** 2)` over every trainable weight with
    two or more axes (convolution, LSTM, attention and classifier kernels,
    the word embedding; not biases) — the paper: "L2-normalization is
    applied to the parameters of the network". The penalty is added in
    `compute_loss` rather than as `kernel_regularizer`s because the
    `keras.applications` encoder and the fusion layers take none; like
    Keras's regularisers it is divided by the number of replicas under
    `tf.distribute`. Losses are reduced by `keras.losses.Loss`, so they
    are scaled correctly under `tf.distribute`, and honour
    `sample_weight`. A loss passed to `compile` replaces the objective (the
    penalty stays). Compiled metrics receive `"logits"`.

    Args:
        vocabulary_size: positive int, the number of word ids (the
            tokenizer's `vocabulary_size`; id 0 is padding).
        image_size: positive int, the height and width of input images;
            must be a multiple of the encoder stride.
        image_encoder: None for VGG-16 (`vgg16_image_encoder(image_size,
            encoder_weights, vgg_output_layer)`), or a `keras.Model` taking
            `(batch, image_size, image_size, 3)` RGB in [0, 255] and
            returning a square feature map whose side divides `image_size`
            (e.g. `conv_image_encoder`, or a keras-cv backbone). It is
            serialised with the backbone (`keras.saving`), so a custom
            encoder must be serialisable. Either encoder is
            `backbone.image_encoder`: set its `trainable` to False before
            `compile` to keep pretrained weights fixed.
        encoder_weights: the default encoder's initial weights: None or
            "imagenet" (Keras downloads them on first use; offline, they
            must be in `~/.keras/models/`) or a file path. Only initialises
            a new model: `get_config` reports None, so that reviving a
            model (`from_config`, `.keras` files) never fetches weights; it
            takes its own from the file.
        vgg_output_layer: the VGG-16 layer the default encoder ends at
            (`VGG16_LAYERS`); "block5_pool" is stride 32.
        embedding_dim: positive int, the word embedding size.
        text_units: positive int, the LSTM units (the paper: 1024).
        fusion_units: positive int, channels of the C-GRU state (the
            paper's "GRU cells", 1024).
        attention_units: positive int, rank of the attention's bilinear form
            (the paper: 512).
        max_steps: positive int, the number of fusion steps T (the paper:
            3).
        use_attention: bool, False gives the concatenation baseline (needs
            `max_steps=1`).
        termination_mode: `"gumbel"` or `"expected"` (see
            `TerminationGate`).
        temperature: positive float, the initial Gumbel-softmax temperature
            (anneal it with `GumbelTemperatureScheduler`).
        classifier_units: positive int, channels of the classifier's hidden
            1x1 convolution.
        l2_weight: float >= 0, the weight of the L2 penalty (0 disables
            it).
        sequence_length: positive int, word ids per expression (the
            `ReferItTokenizer`'s; 20 as in text_objseg).
        seed: optional int, seeds the Gumbel noise.
        early_exit: bool, an inference option of `ConvGRUFusion`.
        relation_kernel_size: None, or an odd int: attend with
            `RelationalTextAttention` of that reach (see `ConvGRUFusion`).
        **kwargs: standard model arguments (`name`, ...).

    Inputs:
        A dict with `"image"` float32 `(batch, image_size, image_size, 3)`
        RGB in [0, 255] (uint8 arrays are converted; resize-and-pad images
        first, e.g. with `keras_lbie.datasets.referit.as_dataset`), and
        `"token_ids"` int32 `(batch, sequence_length)` from a
        `ReferItTokenizer`, 0 for padding.

    Outputs:
        A dict with `"logits"` `(batch, image_size, image_size, 2)`
        (background, object); `"step_logits"` `(batch, T, image_size,
        image_size, 2)`; `"log_stop_probabilities"` float32 `(batch, T,
        image_size, image_size)`; `"attention"` `(batch, T, M, N,
        sequence_length)`, each region's attention over the words per step
        (zero on padding); `"stop_step"` int32 `(batch, M, N)`. See
        `LBIESegmenterBackbone` for their meaning in training and
        inference.

    Example:
    >>> backbone = ReferItSegmenterBackbone(
    ...     vocabulary_size=8803, image_size=512)  # the paper's sizes
    >>> outputs = backbone({
    ...     "image": np.zeros((1, 512, 512, 3), "uint8"),
    ...     "token_ids": np.ones((1, 20), "int32"),
    ... })
    >>> outputs["logits"].shape
    TensorShape([1, 512, 512, 2])
    """

    def __init__(
        self,
        vocabulary_size,
        image_size=512,
        image_encoder=None,
        encoder_weights=None,
        vgg_output_layer="block5_pool",
        embedding_dim=1000,
        text_units=1024,
        fusion_units=1024,
        attention_units=512,
        max_steps=3,
        use_attention=True,
        termination_mode="gumbel",
        temperature=1.0,
        classifier_units=500,
        l2_weight=5e-4,
        sequence_length=20,
        seed=None,
        early_exit=False,
        relation_kernel_size=None,
        **kwargs,
    ):
        use_attention, early_exit = (
            ImageSegmenterBackbone.check_shared_arguments(locals())
        )
        for name, value in (
            ("embedding_dim", embedding_dim),
            ("text_units", text_units),
            ("sequence_length", sequence_length),
        ):
            check_positive_int(value, name)
        if (
            isinstance(l2_weight, bool)
            or not isinstance(l2_weight, numbers.Real)
            or not l2_weight >= 0
        ):
            raise ValueError(
                f"`l2_weight` must be a number >= 0. Received: {l2_weight!r}"
            )
        if image_encoder is None:
            image_encoder = vgg16_image_encoder(
                image_size, encoder_weights, vgg_output_layer
            )
            uses_vgg16 = True
        else:
            if not isinstance(image_encoder, keras.Model):
                raise TypeError(
                    "`image_encoder` must be None (VGG-16) or a keras.Model. "
                    f"Received: {type(image_encoder).__name__}"
                )
            if encoder_weights is not None or vgg_output_layer != (
                "block5_pool"
            ):
                raise ValueError(
                    "`encoder_weights` and `vgg_output_layer` configure the "
                    "default VGG-16 encoder; with a custom `image_encoder` "
                    "leave them unset (load its weights into it first)."
                )
            uses_vgg16 = False

        text_encoder = TextEncoder(
            vocabulary_size,
            embedding_dim=embedding_dim,
            units=text_units,
            name="text_encoder",
        )

        def encode_image(image):
            return _encoder_stride(image_encoder, image, image_size)

        def encode_text(token_ids):
            words = text_encoder(token_ids)
            return words, ops.not_equal(token_ids, 0)

        super().__init__(
            token_ids_shape=(sequence_length,),
            encode_image=encode_image,
            encode_text=encode_text,
            num_classes=NUM_CLASSES,
            **self.shared_arguments(locals()),
            **kwargs,
        )

        l2_weight = float(l2_weight)
        self.store_arguments(locals())
        self.uses_vgg16 = uses_vgg16
        self.num_classes = NUM_CLASSES

    def token_id_sizes(self):
        sizes = {"sequence_length": self.sequence_length}
        return sizes, "word ids from a ReferItTokenizer"

    def parameter_penalties(self):
        """`[l2_weight * sum(w ** 2)]` over the trainable weights (rank >= 2).

        Empty when `l2_weight` is 0 or nothing is trainable.
        """
        kernels = [w for w in self.trainable_weights if len(w.shape) >= 2]
        if not self.l2_weight or not kernels:
            return []
        penalty = keras.regularizers.L2(self.l2_weight)
        return [ops.sum(ops.stack([penalty(w) for w in kernels]))]

    def get_config(self):
        config = super().get_config()
        # `None` revives the default VGG-16, and reviving never fetches
        # weights: a model takes its own from the file.
        config["image_encoder"] = (
            None
            if self.uses_vgg16
            else keras.saving.serialize_keras_object(self.image_encoder)
        )
        config["encoder_weights"] = None
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("image_encoder"), dict):
            # Deserialising a functional model consumes its config dict.
            config["image_encoder"] = keras.saving.deserialize_keras_object(
                copy.deepcopy(config["image_encoder"])
            )
        return super().from_config(config)
