"""keras_lbie.models: ready-made LBIE models and their presets.

One folder per model family, each with its backbone (on token ids), its
task (on raw images and text, with `from_preset`), its presets and its own
parts; `backbone.py`, `task.py`, `image_segmenter.py` and
`image_segmenter_backbone.py` hold what the families share.

- `LBIESegmenter`: raw image + raw text → per-pixel class logits, with
  `from_preset` and the numpy convenience `edit`;
  `LBIESegmenterBackbone`: the same network on token ids, for training.
- `ReferItSegmenter`: raw image + raw referring expression → object logits
  (ReferIt, Section 4.2), with `from_preset` and the numpy convenience
  `segment`; `ReferItSegmenterBackbone`: the same network on word ids,
  with a pluggable image encoder (`vgg16_image_encoder`, the default, or
  `conv_image_encoder`, or any Keras model).
- `LBIEColorizer`: grayscale image + raw caption → ab, with `from_preset`
  and the numpy convenience `colorize`; `LBIEColorizerBackbone`: the same
  generator on scaled L and word ids; `TextConditionedDiscriminator`: the
  colorization discriminator; `LBIEColorizerGAN`: trains a colorizer with
  GAN + L1 (custom `train_step`).
- `tokenize_dataset`: turns a `tf.data` pipeline's text into token ids.
- `Backbone`, `Task`, `ImageSegmenter`, `ImageSegmenterBackbone`: the
  bases of the families, for new ones.
- Presets: each task's `available_presets()` gives `{name: description}`;
  `available_presets`, `available_referit_presets` and
  `available_colorizer_presets` are those of `LBIESegmenter`,
  `ReferItSegmenter` and `LBIEColorizer`.
"""

from keras_lbie.models.backbone import Backbone
from keras_lbie.models.image_segmenter import ImageSegmenter
from keras_lbie.models.image_segmenter_backbone import ImageSegmenterBackbone
from keras_lbie.models.lbie_colorizer import LBIEColorizer
from keras_lbie.models.lbie_colorizer import LBIEColorizerBackbone
from keras_lbie.models.lbie_colorizer import LBIEColorizerGAN
from keras_lbie.models.lbie_colorizer import TextConditionedDiscriminator
from keras_lbie.models.lbie_segmenter import LBIESegmenter
from keras_lbie.models.lbie_segmenter import LBIESegmenterBackbone
from keras_lbie.models.referit_segmenter import ReferItSegmenter
from keras_lbie.models.referit_segmenter import ReferItSegmenterBackbone
from keras_lbie.models.referit_segmenter import conv_image_encoder
from keras_lbie.models.referit_segmenter import vgg16_image_encoder
from keras_lbie.models.task import Task
from keras_lbie.models.task import tokenize_dataset

available_presets = LBIESegmenter.available_presets
available_referit_presets = ReferItSegmenter.available_presets
available_colorizer_presets = LBIEColorizer.available_presets

__all__ = [
    "Backbone",
    "ImageSegmenter",
    "ImageSegmenterBackbone",
    "LBIEColorizer",
    "LBIEColorizerBackbone",
    "LBIEColorizerGAN",
    "LBIESegmenter",
    "LBIESegmenterBackbone",
    "ReferItSegmenter",
    "ReferItSegmenterBackbone",
    "Task",
    "TextConditionedDiscriminator",
    "available_colorizer_presets",
    "available_presets",
    "available_referit_presets",
    "conv_image_encoder",
    "tokenize_dataset",
    "vgg16_image_encoder",
]
