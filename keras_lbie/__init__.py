"""keras_lbie: language-based image editing for Keras 3."""

from keras_lbie import callbacks
from keras_lbie import datasets
from keras_lbie import layers
from keras_lbie import losses
from keras_lbie import metrics
from keras_lbie import models
from keras_lbie import tokenizers
from keras_lbie import visualize

__all__ = [
    "callbacks",
    "datasets",
    "layers",
    "losses",
    "metrics",
    "models",
    "tokenizers",
    "visualize",
]
__version__ = "0.1.0"
