"""keras_lbie.visualize: figures of what the models attend to (Pillow only)."""

from keras_lbie.visualize.attended_sentences import attended_by_region
from keras_lbie.visualize.attended_sentences import attended_sentences
from keras_lbie.visualize.attention_figure import STEP_COLORS
from keras_lbie.visualize.attention_figure import attention_figure

__all__ = [
    "STEP_COLORS",
    "attended_by_region",
    "attended_sentences",
    "attention_figure",
]
