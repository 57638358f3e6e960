"""keras_lbie.metrics."""

from keras_lbie.metrics.color_mean_iou import ColorMeanIoU
from keras_lbie.metrics.cosal_region_iou import CoSaLRegionIoU

__all__ = ["CoSaLRegionIoU", "ColorMeanIoU"]
