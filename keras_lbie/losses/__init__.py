"""keras_lbie.losses: the segmentation objectives.

- `PixelCrossEntropy`: the paper's pixel-wise softmax cross-entropy.
- `expected_step_cross_entropy`, `ExpectedStepCrossEntropy`: the authors'
  released code's -log sum_t beta_t p_t(y), per pixel and as a Keras loss.
"""

from keras_lbie.losses.expected_step_cross_entropy import (
    ExpectedStepCrossEntropy,
)
from keras_lbie.losses.expected_step_cross_entropy import (
    expected_step_cross_entropy,
)
from keras_lbie.losses.pixel_cross_entropy import PixelCrossEntropy

__all__ = [
    "ExpectedStepCrossEntropy",
    "PixelCrossEntropy",
    "expected_step_cross_entropy",
]
