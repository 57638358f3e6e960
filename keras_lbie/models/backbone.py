import inspect

import keras
import numpy as np

from keras_lbie.utils.validation import check_finite

# The float image inputs of the backbones: pixels, or the scaled L.
_IMAGE_KEYS = ("image", "image_l")


class Backbone(keras.Model):
    """What the backbones share: their config, and checked inputs.

    A base class in the keras-hub style for functional models on token ids
    (`LBIESegmenterBackbone`, `ReferItSegmenterBackbone`,
    `LBIEColorizerBackbone`). A subclass builds its graph in `__init__`,
    then calls `self.store_arguments(locals())`: each `__init__` argument
    becomes the attribute of its name, and the config is `name`,
    `trainable` and those attributes (tuples as lists, for JSON), so the
    list of arguments is written once, in the signature. It defines
    `check_inputs(inputs)`, which `call` runs before the graph, so that bad
    inputs raise errors naming them rather than Keras's. `fit` and
    `evaluate` also check numpy data before Keras slices it: float images
    must be finite, and the targets pass `check_targets` (nothing here).
    (`tf.data` pipelines are checked by `Task.tokenize_dataset`.)

    Example:
    >>> class TinyBackbone(Backbone):
    ...     def __init__(self, units=4, **kwargs):
    ...         inputs = keras.Input((3,))
    ...         outputs = keras.layers.Dense(units)(inputs)
    ...         super().__init__(inputs, outputs, **kwargs)
    ...         self.store_arguments(locals())
    ...     def check_inputs(self, inputs):
    ...         pass
    >>> TinyBackbone(units=2).get_config()["units"]
    2
    """

    @classmethod
    def argument_names(cls):
        """The `__init__` arguments but `self` and `**kwargs`, in order."""
        return [
            parameter.name
            for parameter in inspect.signature(cls.__init__).parameters.values()
            if parameter.name != "self"
            and parameter.kind is not inspect.Parameter.VAR_KEYWORD
        ]

    def store_arguments(self, arguments):
        """Sets the attribute of each argument from `arguments`.

        Args:
            arguments: the `__init__`'s `locals()` once its arguments are
                checked (and normalised, e.g. sequences as tuples).
        """
        for name in self.argument_names():
            setattr(self, name, arguments[name])

    def check_inputs(self, inputs):
        """Raises unless `inputs` fit the model; subclasses define it."""
        raise NotImplementedError

    def call(self, inputs, training=None, mask=None):
        self.check_inputs(inputs)
        return super().call(inputs, training=training, mask=mask)

    def check_targets(self, y):
        """Raises unless numpy targets `y` fit the model; none here."""

    def check_data(self, x, y):
        """Checks the numpy data of `fit` / `evaluate` (see the class)."""
        if isinstance(x, dict):
            for key in _IMAGE_KEYS:
                value = x.get(key)
                if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                    check_finite(value, key, "images must be finite")
        if isinstance(y, np.ndarray):
            self.check_targets(y)

    def fit(self, x=None, y=None, *args, **kwargs):
        self.check_data(x, y)
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        self.check_data(x, y)
        return super().evaluate(x, y, *args, **kwargs)

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        for name in self.argument_names():
            value = getattr(self, name)
            config[name] = list(value) if isinstance(value, tuple) else value
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
