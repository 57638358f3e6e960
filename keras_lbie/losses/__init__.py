"""keras_lbie.losses."""

from keras_lbie.losses.expected_step_cross_entropy import (
    expected_step_cross_entropy,
)

__all__ = ["expected_step_cross_entropy"]
