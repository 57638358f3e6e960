import keras
from keras import ops

from keras_lbie.layers.spatial_features import SpatialFeatures
from keras_lbie.models.image_segmenter_backbone import conv_encoder_layers
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_positive_ints

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
    image_size=512,
    weights=None,
    output_layer="block5_pool",
    spatial_features=False,
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
        spatial_features: bool, append the 8 `SpatialFeatures` channels
            (each cell's position, as text_objseg's) to the feature map.

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
    x = features(_VGGPreprocessing(name="vgg_preprocessing")(image))
    return _encoder_model(image, x, spatial_features)


def conv_image_encoder(
    image_size, encoder_filters, pool_every=2, spatial_features=False
):
    """A small VGG-like encoder from raw RGB images, for CPU-sized models.

    Pixels are rescaled by 1/255, then the CoSaL encoder's layers (paper
    Section 4.1): 3x3 "same" convolutions with ReLU, `encoder_filters`
    channels each, and a 2x2 max pooling after every `pool_every`.

    Args:
        image_size: positive int, the height and width of input images.
        encoder_filters: non-empty sequence of positive ints.
        pool_every: positive int.
        spatial_features: bool, append the 8 `SpatialFeatures` channels
            (each cell's position, as text_objseg's) to the feature map:
            expressions that name places ("the left one") need them.

    Returns:
        A functional `keras.Model` named "image_encoder", `(batch,
        image_size, image_size, 3)` → `(batch, image_size / s, image_size
        / s, encoder_filters[-1])` (8 more channels with
        `spatial_features`), `s = 2 ** (len(encoder_filters) //
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
    return _encoder_model(image, x, spatial_features)


def _encoder_model(image, features, spatial_features):
    if not isinstance(spatial_features, bool):
        raise TypeError(
            f"`spatial_features` must be a bool. Received: {spatial_features!r}"
        )
    if spatial_features:
        features = SpatialFeatures(name="spatial_features")(features)
    return keras.Model(image, features, name="image_encoder")
