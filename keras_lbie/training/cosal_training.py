"""Training and evaluating LBIE segmenters on CoSaL (paper Section 4.1)."""

import json
import os
import time

import keras
import tensorflow as tf

from keras_lbie.datasets import cosal
from keras_lbie.metrics import ColorMeanIoU
from keras_lbie.metrics import CoSaLRegionIoU
from keras_lbie.models import LBIESegmenter
from keras_lbie.training.cosal_split import cosal_test_splits
from keras_lbie.training.cosal_split import cosal_train_splits
from keras_lbie.training.training_utils import checkpoint_callback
from keras_lbie.training.training_utils import compile_for_training
from keras_lbie.training.training_utils import distribution_strategy
from keras_lbie.training.training_utils import precision_policy
from keras_lbie.training.training_utils import resolve_precision
from keras_lbie.training.training_utils import temperature_callbacks

# Test examples per forward pass of `evaluate_cosal`.
EVALUATION_BATCH_SIZE = 100


def train_cosal(config, output_dir, verbose="auto"):
    """Trains a preset's segmenter from scratch on CoSaL and evaluates it.

    Generates the splits of `config` (or reads them as TFRecords from
    `config.data_dir`, writing any that are missing), trains the backbone
    with `fit` (text tokenised in the `tf.data` pipeline, so the step can
    be XLA-compiled and distributed) under `config.strategy`, with the
    Gumbel temperature schedule when the preset's gates need it, then
    evaluates the paper's region IoU and the colour mean IoU on each
    setting's test split (`evaluate_cosal`).

    Writes to `output_dir` (created if needed): `results.json` (the
    returned results), `model.weights.h5` (the backbone's final weights),
    `checkpoints/epoch_{epoch}.weights.h5` and TensorBoard `logs/`.

    Args:
        config: a `CoSaLTrainingConfig`.
        output_dir: str or path-like.
        verbose: `fit`'s verbosity.

    Returns:
        `(segmenter, results)`: the trained `LBIESegmenter` and a dict of
        the configuration, training budget (`train_steps`,
        `train_seconds`, ...), `metrics` over every test split and
        `metrics_by_num_direct` per setting (see `metric_values`).
    """
    keras.utils.set_random_seed(config.seed)
    os.makedirs(output_dir, exist_ok=True)
    precision = resolve_precision(config.precision)
    with (
        distribution_strategy(config.strategy).scope(),
        precision_policy(precision),
    ):
        segmenter = LBIESegmenter.from_preset(
            config.preset, load_weights=False, **config.overrides()
        )
        compile_for_training(
            segmenter.backbone,
            keras.optimizers.Adam(_learning_rate(config)),
            config.jit_compile,
        )
    train = _train_dataset(config, segmenter)
    backbone_config = segmenter.backbone.get_config()
    callbacks = _callbacks(config, backbone_config, output_dir)
    iou_history = _RegionIoUHistory(segmenter, config)
    if config.history_examples:
        callbacks.append(iou_history)
    start = time.time()
    history = segmenter.backbone.fit(
        train,
        epochs=config.epochs,
        callbacks=callbacks,
        shuffle=False,
        verbose=verbose,
    )
    train_seconds = time.time() - start
    segmenter.backbone.save_weights(
        os.path.join(output_dir, "model.weights.h5")
    )
    metrics, metrics_by_num_direct = evaluate_cosal(
        segmenter,
        config.num_direct,
        config.test_examples,
        seed=config.seed,
        data_dir=config.data_dir,
        write_missing=True,
    )
    results = {
        "preset": config.preset,
        "overrides": config.overrides(),
        "backbone_config": {
            key: value
            for key, value in backbone_config.items()
            if isinstance(value, (int, float, str, bool, list, type(None)))
        },
        "num_direct": (
            config.num_direct[0]
            if len(config.num_direct) == 1
            else list(config.num_direct)
        ),
        "train_examples": config.train_examples,
        "test_examples": config.test_examples,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "train_steps": config.train_steps,
        "learning_rate": config.learning_rate,
        "cosine_decay": config.cosine_decay,
        "augmentation": config.augmentation,
        "object_weight": config.object_weight,
        "strategy": config.strategy,
        "jit_compile": config.jit_compile,
        "precision": precision,
        "train_seconds": round(train_seconds - iou_history.seconds, 1),
        "final_loss": float(history.history["loss"][-1]),
        "metrics": metrics,
        "metrics_by_num_direct": metrics_by_num_direct,
        "history_examples": config.history_examples,
        "history": iou_history.history,
    }
    with open(os.path.join(output_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    return segmenter, results


def evaluate_cosal(
    segmenter,
    num_direct=(4,),
    test_examples=10_000,
    seed=0,
    data_dir=None,
    write_missing=False,
):
    """Both CoSaL metrics over whole test splits (accumulated, not averaged).

    Args:
        segmenter: an `LBIESegmenter`.
        num_direct: tuple of ints in 1..9, the settings to test.
        test_examples: positive int, test examples per setting.
        seed: int >= 0, the seed of the training run: the test splits are
            those `train_cosal` evaluates (`cosal_test_splits`).
        data_dir: None to generate the splits, or a folder of TFRecords
            (`CoSaLSplit.source`).
        write_missing: write splits missing from `data_dir` instead of
            raising `FileNotFoundError`.

    Returns:
        `(overall, by_num_direct)`: the metrics over every split, and
        `{num_direct: metrics}` for each (see `metric_values`).
    """
    splits = cosal_test_splits(num_direct, test_examples, seed)
    return _evaluate_splits(
        segmenter,
        {
            split.num_direct: split.source(
                data_dir, write_missing=write_missing
            )
            for split in splits
        },
    )


def _evaluate_splits(segmenter, sources):
    """`evaluate_cosal` on `{num_direct: cosal.as_dataset source}`."""
    predict = tf.function(
        lambda x: segmenter.backbone(x, training=False)["logits"]
    )
    overall = (CoSaLRegionIoU(), ColorMeanIoU())
    by_num_direct = {}
    for num_direct, source in sources.items():
        dataset = cosal.as_dataset(
            source, EVALUATION_BATCH_SIZE, with_shape_map=True
        )
        metrics = (CoSaLRegionIoU(), ColorMeanIoU())
        for x, y in _tokenized(segmenter, dataset):
            logits = predict(x)
            for metric in metrics + overall:
                metric.update_state(y, logits)
        by_num_direct[num_direct] = metric_values(*metrics)
    return metric_values(*overall), by_num_direct


class _RegionIoUHistory(keras.callbacks.Callback):
    """The region IoU after every epoch, against training wall-clock.

    Scores the first `config.history_examples` examples of each test split
    (generated once); `seconds` is the time spent scoring, which the
    recorded wall-clock leaves out.
    """

    def __init__(self, segmenter, config):
        super().__init__()
        self.segmenter = segmenter
        self.config = config
        self.history = []
        self.seconds = 0.0

    def on_train_begin(self, logs=None):
        self.start = time.time()
        splits = cosal_test_splits(
            self.config.num_direct,
            self.config.history_examples,
            self.config.seed,
        )
        self.sources = {split.num_direct: split.generate() for split in splits}

    def on_epoch_end(self, epoch, logs=None):
        scoring_start = time.time()
        _, by_num_direct = _evaluate_splits(self.segmenter, self.sources)
        self.history.append(
            {
                "epoch": epoch + 1,
                "train_seconds": round(
                    scoring_start - self.start - self.seconds, 1
                ),
                "cosal_region_iou": {
                    n: metrics["cosal_region_iou"]
                    for n, metrics in by_num_direct.items()
                },
            }
        )
        self.seconds += time.time() - scoring_start


def metric_values(region_iou, color_iou):
    """`{name: float}`: the region IoU's results, and `"color_mean_iou"`.

    `"cosal_region_iou"` is the paper's metric; `"cosal_region_iou_<region>"`
    the IoU of each region (the background and the nine shapes).
    """
    results = {key: float(value) for key, value in region_iou.result().items()}
    results["color_mean_iou"] = float(color_iou.result())
    return results


def _learning_rate(config):
    if not config.cosine_decay:
        return config.learning_rate
    return keras.optimizers.schedules.CosineDecay(
        config.learning_rate, config.train_steps
    )


def _callbacks(config, backbone_config, output_dir):
    return [
        checkpoint_callback(output_dir),
        keras.callbacks.TensorBoard(os.path.join(output_dir, "logs")),
        *temperature_callbacks(backbone_config, config.temperature_decay),
    ]


def _train_dataset(config, segmenter):
    """The shuffled training split, settings of a mixed run in equal parts."""
    datasets = [
        cosal.as_dataset(
            split.source(config.data_dir),
            config.batch_size,
            shuffle=True,
            seed=config.seed,
            drop_remainder=True,
        )
        for split in cosal_train_splits(
            config.num_direct,
            config.train_examples,
            config.seed,
            **config.augmentation,
        )
    ]
    if config.object_weight != 1.0:
        datasets = [
            dataset.map(_object_weighting(config.object_weight))
            for dataset in datasets
        ]
    if len(datasets) == 1:
        return _tokenized(segmenter, datasets[0])
    choices = tf.data.Dataset.range(len(datasets)).repeat(
        config.batches_per_setting
    )
    # Whole batches of one setting, in a random order each epoch.
    choices = choices.shuffle(
        len(datasets) * config.batches_per_setting, seed=config.seed
    )
    return _tokenized(
        segmenter, tf.data.Dataset.choose_from_datasets(datasets, choices)
    )


def _object_weighting(object_weight):
    """`(x, y)` → `(x, y, w)`: shape pixels weigh `object_weight`, else 1."""

    def weigh(x, y):
        weights = tf.where(y > 0, object_weight, 1.0)
        return x, y, weights

    return weigh


def _tokenized(segmenter, dataset):
    return segmenter.tokenize_dataset(dataset).prefetch(tf.data.AUTOTUNE)
