"""keras_lbie.training: CoSaL and ReferIt training and evaluation runs.

- `CoSaLTrainingConfig`: what a run trains, on which data, for how long;
  `add_training_arguments(parser, default_preset)` adds its command-line
  flags and `CoSaLTrainingConfig.from_args` reads them.
- `distribution_strategy(name, replicas)`: the `tf.distribute` strategy
  of `--strategy` / `--replicas` (`auto`, `one_device`, `mirrored`,
  `multi_worker` from `TF_CONFIG`), built before any other TensorFlow op;
  `fit(model, dataset, ...)`: Keras's `fit`, or under `multi_worker` a
  loop of the same callbacks around `strategy.run` (`replica_fit`).
- `train_cosal(config, output_dir, resume=False, overwrite=False)`: trains
  a preset's segmenter and evaluates it, writing `results.json` and
  weights; backed up as it goes, a killed run continues with `resume`.
- `evaluate_cosal(segmenter, num_direct, test_examples, seed, data_dir)`:
  the paper's region IoU and the colour mean IoU; `metric_values`.
- `CoSaLSplit`, `cosal_train_splits`, `cosal_test_splits`: a run's
  splits, generated or written to and read from TFRecord shards.
- `evaluate_referit(segmenter, root, split)`: the paper's ReferIt overall
  IoU and precision@0.5..0.9 at the original image resolution;
  `evaluate_referit_predictions` scores any per-query rule (e.g.
  `whole_image_prediction`, the trivial baseline, and
  `category_oracle_prediction`); `format_table3` and
  `PAPER_TABLE3` lay them out as the paper's Table 3.
- `ReferItTrainingConfig`, `add_referit_training_arguments`: a ReferIt
  run's settings and flags; `train_referit(config, output_dir)`,
  `evaluate_referit_run`, `evaluate_referit_baselines` (no model),
  `write_referit_results`,
  `write_cosal_referit_data`, `write_scene_referit_data`,
  `true_tile_prediction`, `run_label` and
  `benchmark_referit_paper`: the runs behind `examples/train_referit.py`.

Names load on first use: the config and its flags without TensorFlow, for
the `lbie` command's parsers.
"""

import importlib

_EXPORTS = {
    "CoSaLTrainingConfig": "cosal_training_config",
    "add_training_arguments": "cosal_training_config",
    "num_direct_list": "cosal_training_config",
    "distribution_strategy": "distribution",
    "fit": "distribution",
    "train_cosal": "cosal_training",
    "evaluate_cosal": "cosal_training",
    "metric_values": "cosal_training",
    "CoSaLSplit": "cosal_split",
    "cosal_train_splits": "cosal_split",
    "cosal_test_splits": "cosal_split",
    "PAPER_TABLE3": "referit_evaluation",
    "evaluate_referit": "referit_evaluation",
    "evaluate_referit_predictions": "referit_evaluation",
    "format_table3": "referit_evaluation",
    "whole_image_prediction": "referit_evaluation",
    "category_oracle_prediction": "referit_evaluation",
    "ReferItTrainingConfig": "referit_training_config",
    "add_referit_training_arguments": "referit_training_config",
    "train_referit": "referit_training",
    "evaluate_referit_run": "referit_training",
    "evaluate_referit_baselines": "referit_training",
    "write_referit_results": "referit_training",
    "write_cosal_referit_data": "referit_training",
    "write_scene_referit_data": "referit_training",
    "true_tile_prediction": "referit_training",
    "run_label": "referit_training",
    "benchmark_referit_paper": "referit_training",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
