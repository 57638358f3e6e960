"""The ReferIt segmenter family (paper Section 4.2): task, backbone, presets
and its image encoders."""

from keras_lbie.models.referit_segmenter.referit_image_encoders import (
    conv_image_encoder,
)
from keras_lbie.models.referit_segmenter.referit_image_encoders import (
    vgg16_image_encoder,
)
from keras_lbie.models.referit_segmenter.referit_segmenter import (
    ReferItSegmenter,
)
from keras_lbie.models.referit_segmenter.referit_segmenter_backbone import (
    ReferItSegmenterBackbone,
)

__all__ = [
    "ReferItSegmenter",
    "ReferItSegmenterBackbone",
    "conv_image_encoder",
    "vgg16_image_encoder",
]
