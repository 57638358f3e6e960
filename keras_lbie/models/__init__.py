"""keras_lbie.models: ready-made LBIE models and their presets.

- `LBIESegmenter`: raw image + raw text → per-pixel class logits, with
  `from_preset` and the numpy convenience `edit`.
- `LBIESegmenterBackbone`: the same network on token ids, for training.
- `tokenize_dataset`: turns a `tf.data` pipeline's text into token ids.
- `available_presets()`: preset names and descriptions.
- `LBIEColorizer`: grayscale image + raw caption → ab, with `from_preset`
  and the numpy convenience `colorize`; `LBIEColorizerBackbone`: the same
  generator on scaled L and word ids.
- `TextConditionedDiscriminator`: the colorization discriminator.
- `LBIEColorizerGAN`: trains a colorizer with GAN + L1 (custom
  `train_step`).
- `available_colorizer_presets()`: colorizer preset names and descriptions.
- `ReferItSegmenter`: raw image + raw referring expression → object logits
  (ReferIt, Section 4.2), with `from_preset` and the numpy convenience
  `segment`; `ReferItSegmenterBackbone`: the same network on word ids,
  with a pluggable image encoder (`vgg16_image_encoder`, the default, or
  `conv_image_encoder`, or any Keras model).
- `available_referit_presets()`: ReferIt preset names and descriptions.
"""

from keras_lbie.models.colorizer_presets import available_colorizer_presets
from keras_lbie.models.lbie_colorizer import LBIEColorizer
from keras_lbie.models.lbie_colorizer_backbone import LBIEColorizerBackbone
from keras_lbie.models.lbie_colorizer_gan import LBIEColorizerGAN
from keras_lbie.models.lbie_segmenter import LBIESegmenter
from keras_lbie.models.lbie_segmenter import tokenize_dataset
from keras_lbie.models.lbie_segmenter_backbone import LBIESegmenterBackbone
from keras_lbie.models.presets import available_presets
from keras_lbie.models.referit_presets import available_referit_presets
from keras_lbie.models.referit_segmenter import ReferItSegmenter
from keras_lbie.models.referit_segmenter_backbone import (
    ReferItSegmenterBackbone,
)
from keras_lbie.models.referit_segmenter_backbone import conv_image_encoder
from keras_lbie.models.referit_segmenter_backbone import vgg16_image_encoder
from keras_lbie.models.text_conditioned_discriminator import (
    TextConditionedDiscriminator,
)

__all__ = [
    "LBIEColorizer",
    "LBIEColorizerBackbone",
    "LBIEColorizerGAN",
    "LBIESegmenter",
    "LBIESegmenterBackbone",
    "ReferItSegmenter",
    "ReferItSegmenterBackbone",
    "TextConditionedDiscriminator",
    "available_colorizer_presets",
    "available_presets",
    "available_referit_presets",
    "conv_image_encoder",
    "tokenize_dataset",
    "vgg16_image_encoder",
]
