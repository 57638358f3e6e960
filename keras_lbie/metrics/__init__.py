"""keras_lbie.metrics."""

from keras_lbie.metrics.color_mean_iou import ColorMeanIoU
from keras_lbie.metrics.cosal_region_iou import CoSaLRegionIoU
from keras_lbie.metrics.referit_overall_iou import ReferItOverallIoU
from keras_lbie.metrics.referit_precision_at import ReferItPrecisionAt

__all__ = [
    "CoSaLRegionIoU",
    "ColorMeanIoU",
    "ReferItOverallIoU",
    "ReferItPrecisionAt",
]
