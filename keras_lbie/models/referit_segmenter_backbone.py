import copy
import numbers

import keras
from keras import ops

from keras_lbie.layers.conv_gru_fusion import ConvGRUFusion
from keras_lbie.layers.termination_gate import check_termination_mode
from keras_lbie.layers.text_encoder import TextEncoder
from keras_lbie.models._model_family import ArgumentConfig
from keras_lbie.models._model_family import check_bool
from keras_lbie.models._model_family import check_ids
from keras_lbie.models._model_family import check_image
from keras_lbie.models._model_family import check_input_keys
from keras_lbie.models._model_family import check_positive_ints
from keras_lbie.models._model_family import check_seed
from keras_lbie.models._segmentation import SegmentationObjective
from keras_lbie.models._segmentation import conv_encoder_layers
from keras_lbie.models._segmentation import segmentation_head
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_temperature

# Object vs background: class 1 is the referred object, as in the masks of
# `keras_lbie.datasets.referit.as_dataset`.
NUM_CLASSES = 2
# The layers of `keras.applications.VGG16(include_top=False)` the default
# encoder may end at; "block5_pool" is the paper's stride-32 feature map.
VGG16_LAYERS = tuple(
    f"block{block}_{kind}"
    for block, convs in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3))
    for kind in [f"conv{i}" for i in range(1, convs + 1)] + ["pool"]
)
# ImageNet's mean pixel in BGR order, as `keras.applications.vgg16`'s
# `preprocess_input` subtracts it (the weights came from Caffe, in BGR).
VGG_MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="keras_lbie")
class _VGGPreprocessing(keras.layers.Layer):
    """RGB in [0, 255] → BGR minus ImageNet's mean pixel (VGG's input).

    The same values as `keras.applications.vgg16.preprocess_input`, as a
    layer, so that models that contain it take raw pixels.
    """

    def call(self, images):
        images = ops.cast(images, self.compute_dtype)
        mean = ops.convert_to_tensor(VGG_MEAN_BGR, dtype=self.compute_dtype)
        return ops.flip(images, axis=-1) - mean


def vgg16_image_encoder(
    image_size=512, weights=None, output_layer="block5_pool"
):
    """VGG-16 convolutional features from raw RGB images (paper Sec. 4.2).

    `keras.applications.VGG16(include_top=False)` up to `output_layer`,
    after VGG's preprocessing (RGB → BGR, ImageNet mean pixel subtracted),
    so the encoder takes pixels in [0, 255]. The paper's ReferIt model
    encodes 512 × 512 images with VGG-16; text_objseg (Hu et al., ECCV
    2016), which the paper compares with, reads its fc7 map at stride 32.
    `include_top=False` has no fc6/fc7 (their ImageNet weights are for
    224-pixel inputs), so the default ends at pool5, the stride-32 map
    fc6 would read: 16 × 16 × 512 at 512 px.

    Args:
        image_size: positive int, the height and width of input images.
        weights: None (random initialisation), "imagenet" (downloaded by
            Keras on first use, then cached in `~/.keras/models/`) or the
            path of a weights file for `keras.applications.VGG16`.
        output_layer: the name of the VGG-16 layer whose output is the
            feature map, one of `VGG16_LAYERS` (e.g. "block4_pool" for
            stride 16).

    Returns:
        A functional `keras.Model` named "image_encoder", `(batch,
        image_size, image_size, 3)` → `(batch, M, N, channels)`.

    Example:
    >>> encoder = vgg16_image_encoder(512)
    >>> encoder.output.shape
    (None, 16, 16, 512)
    """
    check_positive_int(image_size, "image_size")
    if weights is not None and not isinstance(weights, str):
        raise TypeError(
            "`encoder_weights` must be None, 'imagenet' or a weights file "
            f"path. Received: {weights!r}"
        )
    if output_layer not in VGG16_LAYERS:
        raise ValueError(
            f"`vgg_output_layer` must be one of {VGG16_LAYERS}. Received: "
            f"{output_layer!r}"
        )
    vgg = keras.applications.VGG16(
        include_top=False,
        weights=weights,
        input_shape=(image_size, image_size, 3),
    )
    features = keras.Model(
        vgg.inputs, vgg.get_layer(output_layer).output, name="vgg16"
    )
    image = keras.Input((image_size, image_size, 3), name="image")
    x = _VGGPreprocessing(name="vgg_preprocessing")(image)
    return keras.Model(image, features(x), name="image_encoder")


def conv_image_encoder(image_size, encoder_filters, pool_every=2):
    """A small VGG-like encoder from raw RGB images, for CPU-sized models.

    Pixels are rescaled by 1/255, then the CoSaL encoder's layers (paper
    Section 4.1): 3x3 "same" convolutions with ReLU, `encoder_filters`
    channels each, and a 2x2 max pooling after every `pool_every`.

    Args:
        image_size: positive int, the height and width of input images.
        encoder_filters: non-empty sequence of positive ints.
        pool_every: positive int.

    Returns:
        A functional `keras.Model` named "image_encoder", `(batch,
        image_size, image_size, 3)` → `(batch, image_size / s, image_size
        / s, encoder_filters[-1])`, `s = 2 ** (len(encoder_filters) //
        pool_every)`.

    Example:
    >>> encoder = conv_image_encoder(128, (16, 16, 32, 32, 64, 64))
    >>> encoder.output.shape
    (None, 16, 16, 64)
    """
    check_positive_int(image_size, "image_size")
    encoder_filters = check_positive_ints(encoder_filters, "encoder_filters")
    check_positive_int(pool_every, "pool_every")
    image = keras.Input((image_size, image_size, 3), name="image")
    x = keras.layers.Rescaling(1 / 255.0, name="image_rescaling")(image)
    for layer in conv_encoder_layers(encoder_filters, pool_every):
        x = layer(x)
    return keras.Model(image, x, name="image_encoder")


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
class ReferItSegmenterBackbone(
    SegmentationObjective, ArgumentConfig, keras.Model
):
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
        **kwargs,
    ):
        for name, value in (
            ("vocabulary_size", vocabulary_size),
            ("image_size", image_size),
            ("embedding_dim", embedding_dim),
            ("text_units", text_units),
            ("fusion_units", fusion_units),
            ("attention_units", attention_units),
            ("max_steps", max_steps),
            ("classifier_units", classifier_units),
            ("sequence_length", sequence_length),
        ):
            check_positive_int(value, name)
        check_termination_mode(termination_mode)
        check_temperature(temperature)
        check_bool(use_attention, "use_attention")
        check_bool(early_exit, "early_exit")
        if (
            isinstance(l2_weight, bool)
            or not isinstance(l2_weight, numbers.Real)
            or not l2_weight >= 0
        ):
            raise ValueError(
                f"`l2_weight` must be a number >= 0. Received: {l2_weight!r}"
            )
        check_seed(seed)
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

        # === Layers ===
        text_encoder = TextEncoder(
            vocabulary_size,
            embedding_dim=embedding_dim,
            units=text_units,
            name="text_encoder",
        )
        fusion = ConvGRUFusion(
            fusion_units,
            max_steps=max_steps,
            attention_units=attention_units,
            use_attention=use_attention,
            termination_mode=termination_mode,
            temperature=temperature,
            seed=seed,
            early_exit=early_exit,
            name="fusion",
        )

        # === Functional model ===
        image_input = keras.Input(
            (image_size, image_size, 3), dtype="float32", name="image"
        )
        token_ids_input = keras.Input(
            (sequence_length,), dtype="int32", name="token_ids"
        )
        features, factor = _encoder_stride(
            image_encoder, image_input, image_size
        )
        words = text_encoder(token_ids_input)
        details = fusion(
            features,
            words,
            text_mask=ops.not_equal(token_ids_input, 0),
            return_details=True,
        )
        outputs = segmentation_head(
            details,
            image_size=image_size,
            factor=factor,
            classifier_units=classifier_units,
            num_classes=NUM_CLASSES,
            max_steps=max_steps,
        )
        super().__init__(
            inputs={"image": image_input, "token_ids": token_ids_input},
            outputs=outputs,
            **kwargs,
        )

        l2_weight = float(l2_weight)
        self.store_arguments(locals())
        self.uses_vgg16 = uses_vgg16
        self.upsampling_factor = factor
        self.num_classes = NUM_CLASSES

    def call(self, inputs, training=None, mask=None):
        check_input_keys(inputs, ("image", "token_ids"))
        check_image(inputs["image"], self.image_size)
        check_ids(
            inputs["token_ids"],
            {"sequence_length": self.sequence_length},
            "word ids from a ReferItTokenizer",
        )
        return super().call(inputs, training=training, mask=mask)

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
