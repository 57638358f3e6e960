"""The colorizer family (paper Section 4.3): task, backbone (generator),
presets, image converter, discriminator and GAN."""

from keras_lbie.models.lbie_colorizer.lbie_colorizer import LBIEColorizer
from keras_lbie.models.lbie_colorizer.lbie_colorizer_backbone import (
    LBIEColorizerBackbone,
)
from keras_lbie.models.lbie_colorizer.lbie_colorizer_gan import LBIEColorizerGAN
from keras_lbie.models.lbie_colorizer.lbie_colorizer_image_converter import (
    colorize_at_input_size,
)
from keras_lbie.models.lbie_colorizer.lbie_colorizer_image_converter import (
    scaled_lightness,
)
from keras_lbie.models.lbie_colorizer.text_conditioned_discriminator import (
    TextConditionedDiscriminator,
)

__all__ = [
    "LBIEColorizer",
    "LBIEColorizerBackbone",
    "LBIEColorizerGAN",
    "TextConditionedDiscriminator",
    "colorize_at_input_size",
    "scaled_lightness",
]
