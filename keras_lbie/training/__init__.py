"""keras_lbie.training: CoSaL training and evaluation runs.

- `CoSaLTrainingConfig`: what a run trains, on which data, for how long;
  `add_training_arguments(parser, default_preset)` adds its command-line
  flags and `CoSaLTrainingConfig.from_args` reads them.
- `train_cosal(config, output_dir)`: trains a preset's segmenter and
  evaluates it, writing `results.json` and weights.
- `evaluate_cosal(segmenter, num_direct, test_examples, seed, data_dir)`:
  the paper's region IoU and the colour mean IoU; `metric_values`.
- `CoSaLSplit`, `cosal_train_splits`, `cosal_test_splits`: a run's
  splits, generated or written to and read from TFRecord shards.

Names load on first use: the config and its flags without TensorFlow, for
the `lbie` command's parsers.
"""

import importlib

_EXPORTS = {
    "CoSaLTrainingConfig": "cosal_training_config",
    "add_training_arguments": "cosal_training_config",
    "num_direct_list": "cosal_training_config",
    "train_cosal": "cosal_training",
    "evaluate_cosal": "cosal_training",
    "metric_values": "cosal_training",
    "CoSaLSplit": "cosal_split",
    "cosal_train_splits": "cosal_split",
    "cosal_test_splits": "cosal_split",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
