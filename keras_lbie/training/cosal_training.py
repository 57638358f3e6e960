"""Training and evaluating LBIE segmenters on CoSaL (paper Section 4.1)."""

import dataclasses
import json
import os
import shutil

import keras
import tensorflow as tf

from keras_lbie.callbacks import TrainingBackup
from keras_lbie.datasets import cosal
from keras_lbie.datasets.cosal.pipeline import concatenated
from keras_lbie.datasets.cosal.pipeline import epoch_seed
from keras_lbie.metrics import ColorMeanIoU
from keras_lbie.metrics import CoSaLRegionIoU
from keras_lbie.models import LBIESegmenter
from keras_lbie.training.cosal_split import cosal_test_splits
from keras_lbie.training.cosal_split import cosal_train_splits
from keras_lbie.training.distribution import check_batch_size
from keras_lbie.training.distribution import distribution_strategy
from keras_lbie.training.distribution import fit
from keras_lbie.training.epoch_record import EpochRecord
from keras_lbie.training.training_utils import checkpoint_callback
from keras_lbie.training.training_utils import compile_for_training
from keras_lbie.training.training_utils import learning_rate
from keras_lbie.training.training_utils import object_weighting
from keras_lbie.training.training_utils import precision_policy
from keras_lbie.training.training_utils import resolve_precision
from keras_lbie.training.training_utils import temperature_callbacks
from keras_lbie.utils.atomic_files import atomic_path
from keras_lbie.utils.atomic_files import write_json_atomically

# Test examples per forward pass of `evaluate_cosal`.
EVALUATION_BATCH_SIZE = 100
# What a run writes to its output folder: another run's are refused.
RUN_FILES = (
    "results.json",
    "model.weights.h5",
    "model.keras",
    "checkpoints",
    "backup",
    "logs",
)


def train_cosal(
    config, output_dir, verbose="auto", resume=False, overwrite=False
):
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
    `checkpoints/epoch_{epoch}.weights.h5`, TensorBoard `logs/` and, until
    the results are written, `backup/`: the weights, optimizer state and
    per-epoch records at every epoch end (and every
    `config.save_every_steps` steps). `model.weights.h5` and
    `results.json` are written to a temporary file then renamed, so a
    kill never leaves them truncated.

    A killed run resumes with `resume=True` and the same config (another
    one is refused, `save_every_steps` aside): from the
    backup's step, with the data order, learning-rate schedule, Gumbel
    temperature and per-epoch `history` it would have had, so its final
    weights equal an uninterrupted run's. Each epoch's shuffle is seeded by
    the seed and the epoch's number: resuming mid-epoch first reads that
    epoch's batches before the backup's step (no training on them).

    Args:
        config: a `CoSaLTrainingConfig`.
        output_dir: str or path-like.
        verbose: `fit`'s verbosity.
        resume: continue the run in `output_dir` from its backup (a fresh
            run if it holds none yet).
        overwrite: delete the run files already in `output_dir` first.

    Returns:
        `(segmenter, results)`: the trained `LBIESegmenter` and a dict of
        the configuration, training budget (`train_steps`,
        `train_seconds`, ...), `metrics` over every test split and
        `metrics_by_num_direct` per setting (see `metric_values`).

    Raises:
        ValueError: `output_dir` holds another run and neither `resume`
            nor `overwrite` is set, or both are; it holds a finished run
            and `resume` is set; the backup is of a run of other settings;
            `config.data_dir` holds splits of other
            sizes than the config's (an error naming both sizes).
    """
    # First: `--replicas` configures devices TensorFlow has not set up yet.
    strategy = distribution_strategy(config.strategy, config.replicas)
    check_batch_size(config.batch_size, strategy)
    prepare_output_dir(output_dir, resume, overwrite)
    if config.data_dir is not None:
        _check_split_sizes(config)
    keras.utils.set_random_seed(config.seed)
    precision = resolve_precision(config.precision)
    with (
        strategy.scope(),
        precision_policy(precision),
    ):
        segmenter = LBIESegmenter.from_preset(
            config.preset, load_weights=False, **config.overrides()
        )
        compile_for_training(
            segmenter.backbone,
            keras.optimizers.Adam(
                learning_rate(
                    config.learning_rate,
                    config.cosine_decay,
                    config.train_steps,
                )
            ),
            config.jit_compile,
        )
        backup = TrainingBackup(
            os.path.join(output_dir, "backup"),
            save_freq=config.save_every_steps or "epoch",
        )
        done = backup.restore(segmenter.backbone) if backup.exists else 0
    _keep_settings(config, backup)
    backbone_config = segmenter.backbone.get_config()
    record = EpochRecord(
        config,
        backup.backup_dir,
        done // _steps_per_epoch(config),
        lambda sources: _evaluate_splits(segmenter, sources)[1],
    )
    callbacks = [
        record,
        backup,
        checkpoint_callback(output_dir),
        keras.callbacks.TensorBoard(os.path.join(output_dir, "logs")),
        *temperature_callbacks(
            backbone_config, config.temperature_decay, initial_step=done
        ),
    ]
    _fit_from(segmenter, config, done, callbacks, verbose)
    with atomic_path(os.path.join(output_dir, "model.weights.h5")) as path:
        segmenter.backbone.save_weights(path)
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
        "replicas": strategy.num_replicas_in_sync,
        "jit_compile": config.jit_compile,
        "precision": precision,
        "train_seconds": round(record.train_seconds, 1),
        "final_loss": record.losses[-1],
        "metrics": metrics,
        "metrics_by_num_direct": metrics_by_num_direct,
        "history_examples": config.history_examples,
        "history": record.history,
    }
    write_json_atomically(os.path.join(output_dir, "results.json"), results)
    backup.delete()
    return segmenter, results


def prepare_output_dir(output_dir, resume=False, overwrite=False):
    """Creates `output_dir`; refuses another run's files unless told.

    Args:
        output_dir: str or path-like, a run's output folder.
        resume: keep the run files there (the run continues).
        overwrite: delete the run files there (`RUN_FILES`).

    Raises:
        ValueError: both flags; `output_dir` holds run files and neither
            flag is set; `resume` and the run there is finished.
    """
    if resume and overwrite:
        raise ValueError("Pass --resume or --overwrite, not both.")
    os.makedirs(output_dir, exist_ok=True)
    found = [
        name
        for name in RUN_FILES
        if os.path.exists(os.path.join(output_dir, name))
    ]
    if overwrite:
        for name in found:
            path = os.path.join(output_dir, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
    elif resume:
        if "results.json" in found and "backup" not in found:
            raise ValueError(
                f"{output_dir} holds a finished run (results.json, no "
                "backup): nothing to resume; pass --overwrite to train "
                "again."
            )
    elif found:
        raise ValueError(
            f"{output_dir} already holds a training run ({', '.join(found)}):"
            " pass --resume to continue it or --overwrite to replace it."
        )


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


def metric_values(region_iou, color_iou):
    """`{name: float}`: the region IoU's results, and `"color_mean_iou"`.

    `"cosal_region_iou"` is the paper's metric; `"cosal_region_iou_<region>"`
    the IoU of each region (the background and the nine shapes).
    """
    results = {key: float(value) for key, value in region_iou.result().items()}
    results["color_mean_iou"] = float(color_iou.result())
    return results


def _callbacks(config, backbone_config, output_dir):
    return [
        checkpoint_callback(output_dir),
        keras.callbacks.TensorBoard(os.path.join(output_dir, "logs")),
        *temperature_callbacks(backbone_config, config.temperature_decay),
    ]


def _keep_settings(config, backup):
    """Records the run's settings in its backup; refuses to resume others.

    Raises:
        ValueError: the backup was taken by a run of other settings
            (`save_every_steps` aside), which it would not resume.
    """
    path = os.path.join(backup.backup_dir, "settings.json")
    settings = json.loads(json.dumps(dataclasses.asdict(config)))
    if backup.exists and os.path.isfile(path):
        with open(path) as f:
            saved = json.load(f)
        changed = [
            f"{name} {saved.get(name)!r} → {value!r}"
            for name, value in settings.items()
            if saved.get(name) != value and name != "save_every_steps"
        ]
        if changed:
            raise ValueError(
                f"{backup.backup_dir} backs up a run of other settings "
                f"({', '.join(changed)}): resume it with the same flags, "
                "or pass --overwrite."
            )
    os.makedirs(backup.backup_dir, exist_ok=True)
    write_json_atomically(path, settings)


def _check_split_sizes(config):
    """Refuses `config.data_dir` splits of other sizes than the run's."""
    splits = cosal_train_splits(
        config.num_direct,
        config.train_examples,
        config.seed,
        **config.augmentation,
    ) + cosal_test_splits(config.num_direct, config.test_examples, config.seed)
    for split in splits:
        split.check_size(config.data_dir)


def _steps_per_epoch(config):
    return config.train_steps // config.epochs


def _fit_from(segmenter, config, done, callbacks, verbose):
    """Trains from step `done` to the run's end, at its epoch boundaries.

    A run resumed mid-epoch first trains the rest of that epoch, as a
    `fit` of its own: Keras counts every epoch of one `fit` alike.
    """
    steps_per_epoch = _steps_per_epoch(config)
    epoch, batch = divmod(done, steps_per_epoch)
    if batch:
        _fit(segmenter, config, done, epoch + 1, steps_per_epoch - batch,
             callbacks, verbose)  # fmt: skip
        epoch += 1
    if epoch < config.epochs:
        _fit(segmenter, config, epoch * steps_per_epoch, config.epochs,
             steps_per_epoch, callbacks, verbose)  # fmt: skip


def _fit(segmenter, config, first_step, epochs, steps, callbacks, verbose):
    fit(
        segmenter.backbone,
        _train_dataset(config, segmenter, first_step),
        initial_epoch=first_step // _steps_per_epoch(config),
        epochs=epochs,
        steps_per_epoch=steps,
        callbacks=callbacks,
        verbose=verbose,
    )


def _train_dataset(config, segmenter, first_step=0):
    """The run's training batches from step `first_step` on.

    Every epoch of the shuffled training split (settings of a mixed run in
    equal parts) in one dataset, each epoch's order fixed by the seed and
    the epoch's number (`cosal.as_dataset(epochs=...)`): the same in a
    run resumed at `first_step`, which starts at its epoch and skips the
    batches of that epoch before it.
    """
    first_epoch, skipped = divmod(first_step, _steps_per_epoch(config))
    datasets = [
        cosal.as_dataset(
            split.source(config.data_dir),
            config.batch_size,
            shuffle=True,
            seed=config.seed,
            drop_remainder=True,
            epochs=config.epochs,
            first_epoch=first_epoch,
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
            dataset.map(object_weighting(config.object_weight))
            for dataset in datasets
        ]
    if len(datasets) == 1:
        return _tokenized(segmenter, datasets[0].skip(skipped))
    # Whole batches of one setting, in a random order each epoch.
    choices = tf.data.Dataset.range(len(datasets)).repeat(
        config.batches_per_setting
    )
    choices = concatenated(
        choices.shuffle(
            len(datasets) * config.batches_per_setting,
            seed=epoch_seed(config.seed, epoch),
            reshuffle_each_iteration=False,
        )
        for epoch in range(first_epoch, config.epochs)
    )
    mixed = tf.data.Dataset.choose_from_datasets(datasets, choices)
    return _tokenized(segmenter, mixed.skip(skipped))


def _tokenized(segmenter, dataset):
    return segmenter.tokenize_dataset(dataset).prefetch(tf.data.AUTOTUNE)
