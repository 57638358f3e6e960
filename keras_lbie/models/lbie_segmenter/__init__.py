"""The CoSaL segmenter family (paper Section 4.1): task, backbone, presets."""

from keras_lbie.models.lbie_segmenter.lbie_segmenter import CLASS_COLORS
from keras_lbie.models.lbie_segmenter.lbie_segmenter import LBIESegmenter
from keras_lbie.models.lbie_segmenter.lbie_segmenter_backbone import (
    LBIESegmenterBackbone,
)

__all__ = ["CLASS_COLORS", "LBIESegmenter", "LBIESegmenterBackbone"]
