"""keras_lbie: language-based image editing for Keras 3.

The subpackages load on first use (`keras_lbie.layers`, ...), so that
importing `keras_lbie.cli` for `lbie --help` does not import TensorFlow.
Import a subpackage (e.g. `keras_lbie.models`) before loading a saved
`.keras` model: that registers the package's layers and models with Keras.
"""

import importlib

_SUBPACKAGES = (
    "callbacks",
    "color",
    "datasets",
    "export",
    "layers",
    "losses",
    "metrics",
    "models",
    "serving",
    "studio",
    "tokenizers",
    "training",
    "visualize",
)

__all__ = list(_SUBPACKAGES)
__version__ = "0.1.0"


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBPACKAGES))
