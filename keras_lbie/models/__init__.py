"""keras_lbie.models: ready-made LBIE models and their presets.

- `LBIESegmenter`: raw image + raw text → per-pixel class logits, with
  `from_preset` and the numpy convenience `edit`.
- `LBIESegmenterBackbone`: the same network on token ids, for training.
- `tokenize_dataset`: turns a `tf.data` pipeline's text into token ids.
- `available_presets()`: preset names and descriptions.
"""

from keras_lbie.models.lbie_segmenter import LBIESegmenter
from keras_lbie.models.lbie_segmenter import tokenize_dataset
from keras_lbie.models.lbie_segmenter_backbone import LBIESegmenterBackbone
from keras_lbie.models.presets import available_presets

__all__ = [
    "LBIESegmenter",
    "LBIESegmenterBackbone",
    "available_presets",
    "tokenize_dataset",
]
