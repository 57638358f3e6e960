"""keras_lbie: language-based image editing for Keras 3."""

from keras_lbie import datasets
from keras_lbie import layers
from keras_lbie import metrics

__version__ = "0.1.0"
