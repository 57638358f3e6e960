"""ReferIt training and scoring runs (paper Section 4.2, Table 3).

The run behind `examples/train_referit.py`: `write_cosal_referit_data`
and `write_scene_referit_data` (optional synthetic data in the ReferIt
layout), `train_referit`, `evaluate_referit_run` (ours and the baselines
by the same metric code),
`write_referit_results` (the paper's Table 3 layout), and
`benchmark_referit_paper` (the paper model's size and step times).
"""

import json
import os
import time

import keras
import numpy as np
import tensorflow as tf

from keras_lbie.datasets import cosal
from keras_lbie.datasets import referit
from keras_lbie.models import ReferItSegmenter
from keras_lbie.tokenizers.referit_tokenizer import SPECIAL_TOKENS
from keras_lbie.training.distribution import check_batch_size
from keras_lbie.training.distribution import distribution_strategy
from keras_lbie.training.distribution import fit
from keras_lbie.training.referit_evaluation import PAPER_TABLE3
from keras_lbie.training.referit_evaluation import category_oracle_prediction
from keras_lbie.training.referit_evaluation import evaluate_referit
from keras_lbie.training.referit_evaluation import evaluate_referit_predictions
from keras_lbie.training.referit_evaluation import format_table3
from keras_lbie.training.referit_evaluation import whole_image_prediction
from keras_lbie.training.training_utils import checkpoint_callback
from keras_lbie.training.training_utils import learning_rate
from keras_lbie.training.training_utils import object_weighting
from keras_lbie.training.training_utils import temperature_callbacks

COSAL_SOURCE_FILE = "cosal_source.json"
# text_objseg's ReferIt vocabulary has 8803 words: the benchmark builds the
# paper model with a placeholder vocabulary of that size.
REFERIT_VOCABULARY_SIZE = 8803


def write_cosal_referit_data(config):
    """Writes the CoSaL-derived ReferIt folder and its `cosal_source.json`.

    `config.make_cosal_data` CoSaL scenes at `config.cosal_size`, seeded by
    `config.seed`, into `config.data_dir` (`referit.write_referit_format`).

    Raises:
        FileExistsError: `config.data_dir` already holds a ReferIt folder.
    """
    _require_new_folder(config.data_dir, "--make-cosal-data")
    height, width = config.cosal_size
    start = time.time()
    referit.write_referit_format(
        config.data_dir,
        config.make_cosal_data,
        seed=config.seed,
        image_size=(height, width),
    )
    source = {
        "num_images": config.make_cosal_data,
        "seed": config.seed,
        "scene_size": 48,
        "image_size": [height, width],
    }
    with open(os.path.join(config.data_dir, COSAL_SOURCE_FILE), "w") as f:
        json.dump(source, f, indent=2)
    print(f"Wrote {config.data_dir} in {time.time() - start:.0f} s")


def write_scene_referit_data(config):
    """Writes `config.make_scene_data` synthetic referring scenes.

    `referit.write_referring_scenes` into `config.data_dir`, seeded by
    `config.seed`, image sides in `config.scene_sides` (it writes its own
    `referit.SOURCE_FILE`).

    Raises:
        FileExistsError: `config.data_dir` already holds a ReferIt folder.
    """
    _require_new_folder(config.data_dir, "--make-scene-data")
    low, high = config.scene_sides
    start = time.time()
    source = referit.write_referring_scenes(
        config.data_dir,
        config.make_scene_data,
        seed=config.seed,
        min_size=low,
        max_size=high,
    )
    print(
        f"Wrote {config.data_dir} ({source['queries']} objects with "
        f"expressions) in {time.time() - start:.0f} s"
    )


def _require_new_folder(data_dir, flag):
    if os.path.exists(os.path.join(data_dir, referit.VOCABULARY_FILE)):
        raise FileExistsError(
            f"{data_dir} already holds a ReferIt folder: drop {flag} to "
            "reuse it, or choose another --data-dir."
        )


def train_referit(config, output_dir, verbose=2, strategy=None):
    """Trains a preset's backbone on the folder's train split.

    `fit` on the tokenized `tf.data` pipeline (so the step can be
    XLA-compiled and distributed), with per-epoch checkpoints
    (`output_dir/checkpoints/`), a backup that resumes an interrupted run
    with the same `output_dir` (`output_dir/backup/`) and the Gumbel
    temperature schedule; saves `output_dir/model.keras`.

    Args:
        config: a `ReferItTrainingConfig`.
        output_dir: str, the run's folder.
        verbose: `fit`'s verbosity.
        strategy: None, or the run's `distribution_strategy` if the caller
            made it already (before any other TensorFlow op, as
            `config.replicas` needs).

    Returns:
        `(segmenter, summary)`: the trained `ReferItSegmenter` and a dict
        of the run's settings, size, time and per-epoch loss.
    """
    if strategy is None:
        strategy = distribution_strategy(config.strategy, config.replicas)
    check_batch_size(config.batch_size, strategy)
    with strategy.scope():
        segmenter = ReferItSegmenter.from_preset(
            config.preset,
            vocabulary=os.path.join(config.data_dir, referit.VOCABULARY_FILE),
            **config.overrides(),
        )
    train_data = referit.as_dataset(
        config.data_dir,
        "train",
        config.batch_size,
        image_size=segmenter.image_size,
        shuffle=True,
        seed=config.seed,
        drop_remainder=True,
        blank_text=config.blank_text,
    )
    if config.object_weight != 1.0:
        train_data = train_data.map(object_weighting(config.object_weight))
    train_data = segmenter.tokenize_dataset(train_data)
    steps_per_epoch = int(train_data.cardinality())
    with strategy.scope():
        segmenter.backbone.compile(
            optimizer=keras.optimizers.Adam(
                learning_rate(
                    config.learning_rate,
                    config.cosine_decay,
                    steps_per_epoch * config.epochs,
                )
            ),
            jit_compile=config.jit_compile,
        )
    os.makedirs(output_dir, exist_ok=True)
    backbone = segmenter.backbone
    callbacks = [
        checkpoint_callback(output_dir),
        keras.callbacks.BackupAndRestore(os.path.join(output_dir, "backup")),
        *temperature_callbacks(backbone.get_config(), config.temperature_decay),
    ]
    start = time.time()
    history = fit(
        backbone,
        train_data,
        epochs=config.epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
    train_seconds = time.time() - start
    model_path = os.path.join(output_dir, "model.keras")
    segmenter.save(model_path)
    print(f"Wrote {model_path}")
    return segmenter, {
        "preset": config.preset,
        "parameters": segmenter.count_params(),
        "encoder_weights": config.encoder_weights,
        "train_queries": len(
            referit.load_index(config.data_dir, "train").examples
        ),
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "steps_per_epoch": steps_per_epoch,
        "train_steps": steps_per_epoch * config.epochs,
        "learning_rate": config.learning_rate,
        "cosine_decay": config.cosine_decay,
        "model_overrides": config.overrides(),
        "object_weight": config.object_weight,
        "blank_text": config.blank_text,
        "strategy": config.strategy,
        "replicas": strategy.num_replicas_in_sync,
        "jit_compile": config.jit_compile,
        "seed": config.seed,
        "train_seconds": round(train_seconds, 1),
        "loss": [float(value) for value in history.history["loss"]],
    }


def evaluate_referit_run(config, segmenter):
    """Ours and the baselines on the test split, by the same metric code.

    The model is scored by `evaluate_referit` (with `config.blank_text`,
    on empty expressions, as it was trained), the baselines by
    `evaluate_referit_baselines`.

    Returns:
        `evaluate_referit_baselines`' dict with the row `"ours"` first in
        `"test"`, and `"evaluation_seconds"` (the model's scoring time).
    """
    start = time.time()
    ours = evaluate_referit(
        segmenter,
        config.data_dir,
        "test",
        batch_size=config.batch_size,
        max_queries=config.max_test_queries,
        blank_text=config.blank_text,
    )
    evaluation_seconds = time.time() - start
    _print_row("ours", ours)
    results = evaluate_referit_baselines(config)
    results["test"] = {"ours": ours, **results["test"]}
    results["evaluation_seconds"] = round(evaluation_seconds, 1)
    return results


def evaluate_referit_baselines(config):
    """The baselines of a folder's test split, with no model.

    *Whole image* (every pixel of the image predicted as the object); for
    folders of `write_cosal_referit_data`, *true tile*
    (`true_tile_prediction`); for folders with `referit.OBJECTS_FILE`
    (`write_scene_referit_data`), the *category-only* oracle
    (`category_oracle_prediction`).

    Returns:
        A dict: `"data_dir"`, `"cosal_source"` and `"scene_source"` (None
        for other folders) and `"test"` (the metric values of each row).
    """
    rules = {"whole_image": whole_image_prediction}
    source = _read_json_if_present(
        os.path.join(config.data_dir, COSAL_SOURCE_FILE)
    )
    if source:
        rules["true_tile"] = true_tile_prediction(source["scene_size"])
    if os.path.isfile(os.path.join(config.data_dir, referit.OBJECTS_FILE)):
        rules["category_only"] = category_oracle_prediction(config.data_dir)
    rows = {}
    for name, predict in rules.items():
        rows[name] = evaluate_referit_predictions(
            config.data_dir, "test", predict, config.max_test_queries
        )
        _print_row(name, rows[name])
    return {
        "data_dir": os.path.abspath(config.data_dir),
        "cosal_source": source,
        "scene_source": _read_json_if_present(
            os.path.join(config.data_dir, referit.SOURCE_FILE)
        ),
        "test": rows,
    }


def _print_row(name, values):
    print(
        f"{name}: overall IoU {values['overall_iou']:.4f}, mean IoU "
        f"{values['mean_iou']:.4f}, precision@0.5 "
        f"{values['precision@0.5']:.4f} ({values['num_queries']} queries)"
    )


def _read_json_if_present(path):
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def true_tile_prediction(scene_size):
    """The oracle-tile baseline for folders of `write_referit_format`.

    The writer enlarges each `scene_size` CoSaL scene to the image size by
    nearest-neighbour sampling (pixel y shows scene row `y * scene_size //
    height`), so a pixel's tile is its scene pixel's; the object's tile is
    the one holding the centre of its ground-truth box.
    """
    tile_size = scene_size // cosal.GRID_SIZE

    def predict(example):
        rows = np.arange(example.height) * scene_size // example.height
        cols = np.arange(example.width) * scene_size // example.width
        x1, y1, x2, y2 = example.bbox
        centre_row = rows[int((y1 + y2) // 2)] // tile_size
        centre_col = cols[int((x1 + x2) // 2)] // tile_size
        return (rows[:, None] // tile_size == centre_row) & (
            cols[None, :] // tile_size == centre_col
        )

    return predict


def write_referit_results(results, path, data_dir):
    """Writes the Table 3 markdown at `path`, the JSON beside it.

    Args:
        results: `evaluate_referit_run`'s dict with `"training"`, the
            summary of `train_referit`; or `evaluate_referit_baselines`'
            dict (without `"training"`: a table of the baselines alone).
        path: str, the markdown file; the JSON has its stem.
        data_dir: str, the folder scored, named for non-CoSaL folders.
    """
    training = results.get("training")
    test = results["test"]
    data, rows = _data_and_rows(results, data_dir)
    scored = "Every row of ours is" if training else "Every row is"
    lines = [
        "# ReferIt segmentation, in the layout of the paper's Table 3",
        "",
        f"Written by `python examples/train_referit.py` on {data}. The "
        "paper's rows are on the real ReferIt test set with the full model; "
        "the other rows are on a different, synthetic data set: compare "
        f"ours with the baselines, not with the paper. {scored} scored by "
        "`keras_lbie.training.evaluate_referit(_predictions)` at the "
        "original image size, on "
        f"{test['whole_image']['num_queries']} test queries.",
        "",
        format_table3(rows),
        "Mean per-query IoU (not in the paper): "
        + ", ".join(
            f"{name} {values['mean_iou']:.4f}" for name, values in test.items()
        )
        + ".",
        "",
        (_training_summary(training) + " " if training else "") + "Baselines: "
        "*whole image* predicts every pixel of the image as the object; "
        "*true tile* (CoSaL) predicts the whole grid tile that holds the "
        "object, located from its ground-truth box (an oracle location "
        "without the shape); *category only* (synthetic scenes) predicts "
        "every object of the referent's category, from the ground truth "
        "(what the category word alone gives). A *text blanked* row is a "
        "model trained and scored with every expression empty "
        "(`--blank-text`).",
        "",
    ]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines))
    json_path = os.path.splitext(path)[0] + ".json"
    with open(json_path, "w") as f:
        json.dump(results, f, indent=2)
    print(f"Wrote {path} and {json_path}")


def _training_summary(training):
    minutes = training["train_seconds"] / 60
    return (
        f"Training: {training['train_queries']} train queries, "
        f"{training['epochs']} epoch(s) × {training['steps_per_epoch']} "
        f"steps at batch {training['batch_size']} ({training['train_steps']} "
        f"steps), Adam {training['learning_rate']:g}, object pixels weighted "
        f"{training['object_weight']:g} in the loss, "
        f"{training['parameters']:,} parameters, {minutes:.1f} min on "
        f"{os.cpu_count()} CPU cores ({training['strategy']})."
    )


def _data_and_rows(results, data_dir):
    """The data set's description and the table's rows of a run."""
    training = results.get("training")
    test = results["test"]
    cosal_source = results["cosal_source"]
    scene_source = results.get("scene_source")
    if cosal_source:
        size = cosal_source["image_size"]
        data = (
            f"CoSaL scenes in the ReferIt layout ({cosal_source['num_images']}"
            f" images of {size[0]}×{size[1]} px, seed "
            f"{cosal_source['seed']}, written by `--make-cosal-data`)"
        )
        name = "on CoSaL "
    elif scene_source:
        arguments = scene_source["arguments"]
        data = (
            "synthetic referring scenes "
            f"({arguments['num_images']} images, sides "
            f"{arguments['min_size']}-{arguments['max_size']} px, seed "
            f"{arguments['seed']}, written by `--make-scene-data`)"
        )
        name = "on scenes "
    else:
        data = f"the ReferIt-format folder `{data_dir}`"
        name = ""
    rows = dict(PAPER_TABLE3)
    if training:
        rows[f"Ours: {run_label(training)} {name}(test)"] = test["ours"]
    rows["Baseline: whole image (test)"] = test["whole_image"]
    if "true_tile" in test:
        rows["Oracle: the object's true tile (test)"] = test["true_tile"]
    if "category_only" in test:
        rows["Oracle: category only (test)"] = test["category_only"]
    return data, rows


def run_label(training):
    """The model of a run, e.g. "`referit_small`, T=3, text blanked".

    Args:
        training: the summary `train_referit` returns.
    """
    overrides = training.get("model_overrides", {})
    preset = ReferItSegmenter.presets[training["preset"]]
    steps = overrides.get("max_steps", preset["config"]["max_steps"])
    parts = [f"`{training['preset']}`", f"T={steps}"]
    if overrides.get("spatial_features"):
        parts.append("spatial features")
    if training.get("blank_text"):
        parts.append("text blanked")
    return ", ".join(parts)


def benchmark_referit_paper(image_size, output):
    """Writes referit_paper's parameter count and forward/train step times.

    One warm-up call (tracing) and one timed call each, batch 1: on a busy
    machine the times are noisy; rerun for better numbers.
    """
    vocabulary = [*SPECIAL_TOKENS] + [
        f"word{i}" for i in range(REFERIT_VOCABULARY_SIZE - len(SPECIAL_TOKENS))
    ]
    start = time.time()
    segmenter = ReferItSegmenter.from_preset(
        "referit_paper", vocabulary=vocabulary, image_size=image_size
    )
    build_seconds = time.time() - start
    backbone = segmenter.backbone
    counts = {
        layer.name: layer.count_params()
        for layer in backbone.layers
        if layer.count_params()
    }
    rng = np.random.default_rng(0)
    x = {
        "image": rng.uniform(0, 255, (1, image_size, image_size, 3)).astype(
            "float32"
        ),
        "token_ids": segmenter.tokenizer(["the man on the left"]).numpy(),
    }
    y = (rng.uniform(size=(1, image_size, image_size)) < 0.2).astype("int32")

    @tf.function
    def forward(x):
        return backbone(x, training=False)["logits"]

    forward(x)
    start = time.time()
    forward(x).numpy()
    forward_seconds = time.time() - start
    backbone.compile(optimizer=keras.optimizers.Adam(1e-4))
    backbone.train_on_batch(x, y)
    start = time.time()
    backbone.train_on_batch(x, y)
    train_seconds = time.time() - start
    results = {
        "preset": "referit_paper",
        "image_size": image_size,
        "vocabulary_size": REFERIT_VOCABULARY_SIZE,
        "parameters": segmenter.count_params(),
        "parameters_by_part": counts,
        "build_seconds": round(build_seconds, 1),
        "forward_seconds_batch_1": round(forward_seconds, 2),
        "train_step_seconds_batch_1": round(train_seconds, 2),
        "cpu_count": os.cpu_count(),
    }
    os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
    with open(output, "w") as file:
        json.dump(results, file, indent=2)
    print(json.dumps(results, indent=2))
    return results
