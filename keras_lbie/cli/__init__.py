"""keras_lbie.cli: the `lbie` console script (`keras_lbie.cli.main:main`).

Builds its parsers without TensorFlow, so `lbie --help` answers at once;
each command imports TensorFlow when it runs.
"""
