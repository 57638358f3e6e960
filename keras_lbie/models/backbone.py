import inspect

import keras


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
    inputs raise errors naming them rather than Keras's.

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

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        for name in self.argument_names():
            value = getattr(self, name)
            config[name] = list(value) if isinstance(value, tuple) else value
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
