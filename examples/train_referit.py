"""Train and evaluate a ReferIt segmenter (paper Section 4.2, Table 3).

On CoSaL scenes written in the ReferIt layout (no real ReferIt data here;
4,320 expressions, 2,592 for training; 10-20 minutes on 2 CPU cores),
writing `results/referit_cosal.md`:

    python examples/train_referit.py --data-dir runs/referit_cosal_data \\
        --make-cosal-data 160 --preset referit_small --epochs 4 \\
        --batch-size 32 --learning-rate 2e-3 --object-weight 10 \\
        --output-dir runs/referit_small

On the real ReferIt release (text_objseg's layout), the paper's model:

    python examples/train_referit.py --data-dir referit \\
        --preset referit_paper --encoder-weights imagenet \\
        --batch-size 10 --epochs 2 --output-dir runs/referit_paper \\
        --results results/referit.md

The parameter count and step times of `referit_paper` at 512 × 512
(written to `results/referit_paper_cost.json`):

    python examples/train_referit.py --benchmark

With `--make-cosal-data N` the script first writes N CoSaL scenes as a
ReferIt-format folder into `--data-dir` (`referit.write_referit_format`:
9 objects per image, 3 expressions each, images split 60/20/20 into
train/val/test, stretched to `--cosal-size`), plus `cosal_source.json`
recording how. It then trains the preset's backbone on the train split
with `fit` (text tokenised in the tf.data pipeline, so the step can be
XLA-compiled and distributed with `--strategy mirrored`), with per-epoch
checkpoints (`checkpoints/`), a backup that resumes an interrupted run
with the same `--output-dir` (`backup/`) and the Gumbel temperature
schedule (`--object-weight` weights object pixels in the loss: objects
cover about 2% of a CoSaL-derived image, the whole-image baseline's IoU),
saves `model.keras` (for `lbie evaluate --model ... --referit-dir
...`) and scores the test split at the original image sizes
(`keras_lbie.training.evaluate_referit`). It writes `--results` (a
markdown table in the layout of the paper's Table 3, the paper's rows
beside ours) and the same stem `.json` with every number, including two
baselines scored by the same code:

- whole image: every pixel of the image predicted as the object (no
  information; its IoU is the object's share of the image);
- true tile (CoSaL folders only): every pixel of the grid tile that holds
  the object, found from its ground-truth box: an oracle location with no
  shape, the score of a model that finds the right tile but not the shape.
"""

import argparse
import json
import os
import time

import keras
import numpy as np
import tensorflow as tf

from keras_lbie.callbacks import GumbelTemperatureScheduler
from keras_lbie.callbacks import exponential_temperature_schedule
from keras_lbie.datasets import cosal
from keras_lbie.datasets import referit
from keras_lbie.models import ReferItSegmenter
from keras_lbie.models import available_referit_presets
from keras_lbie.tokenizers.referit_tokenizer import SPECIAL_TOKENS
from keras_lbie.training import PAPER_TABLE3
from keras_lbie.training import evaluate_referit
from keras_lbie.training import evaluate_referit_predictions
from keras_lbie.training import format_table3
from keras_lbie.training import whole_image_prediction

COSAL_SOURCE_FILE = "cosal_source.json"
# text_objseg's ReferIt vocabulary has 8803 words: the benchmark builds the
# paper model with a placeholder vocabulary of that size.
REFERIT_VOCABULARY_SIZE = 8803


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data-dir", help="a ReferIt-format folder")
    parser.add_argument(
        "--make-cosal-data",
        type=int,
        metavar="N",
        help="first write N CoSaL scenes as a ReferIt folder in --data-dir",
    )
    parser.add_argument(
        "--cosal-size",
        default="96x128",
        metavar="HxW",
        help="size of the written CoSaL images (default: 96x128)",
    )
    parser.add_argument(
        "--preset",
        default="referit_small",
        choices=sorted(available_referit_presets()),
    )
    parser.add_argument(
        "--encoder-weights",
        help="initial weights of referit_paper's VGG-16, e.g. imagenet",
    )
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument(
        "--temperature-decay",
        type=float,
        default=1e-4,
        help="per-step rate of the Gumbel temperature decay (floor 0.5)",
    )
    parser.add_argument(
        "--object-weight",
        type=float,
        default=1.0,
        help="weight of object pixels in the pixel loss (default 1: the "
        "paper's unweighted loss)",
    )
    parser.add_argument(
        "--strategy", choices=("one_device", "mirrored"), default="one_device"
    )
    parser.add_argument("--jit-compile", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--max-test-queries",
        type=int,
        help="score only the first N test queries (default: all)",
    )
    parser.add_argument("--output-dir", default="runs/referit")
    parser.add_argument(
        "--results",
        default="results/referit_cosal.md",
        help="the markdown table to write; the JSON goes beside it",
    )
    parser.add_argument(
        "--benchmark",
        action="store_true",
        help="only print referit_paper's parameter count and step times",
    )
    parser.add_argument(
        "--benchmark-image-size",
        type=int,
        default=512,
        help="image size of --benchmark (default: the paper's 512)",
    )
    parser.add_argument(
        "--benchmark-output",
        default="results/referit_paper_cost.json",
        help="the JSON file --benchmark writes",
    )
    args = parser.parse_args(argv)
    if not args.benchmark and not args.data_dir:
        parser.error("--data-dir is required (unless --benchmark)")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.benchmark:
        return benchmark(args.benchmark_image_size, args.benchmark_output)
    keras.utils.set_random_seed(args.seed)
    if args.make_cosal_data:
        make_cosal_data(args)
    segmenter, training = train(args)
    results = evaluate(args, segmenter)
    results["training"] = training
    write_results(args, results)
    return results


def make_cosal_data(args):
    """Writes the CoSaL-derived ReferIt folder and its `cosal_source.json`."""
    if os.path.exists(os.path.join(args.data_dir, referit.VOCABULARY_FILE)):
        raise SystemExit(
            f"{args.data_dir} already holds a ReferIt folder: drop "
            "--make-cosal-data to reuse it, or choose another --data-dir."
        )
    height, width = (int(side) for side in args.cosal_size.split("x"))
    start = time.time()
    referit.write_referit_format(
        args.data_dir,
        args.make_cosal_data,
        seed=args.seed,
        image_size=(height, width),
    )
    source = {
        "num_images": args.make_cosal_data,
        "seed": args.seed,
        "scene_size": 48,
        "image_size": [height, width],
    }
    with open(os.path.join(args.data_dir, COSAL_SOURCE_FILE), "w") as f:
        json.dump(source, f, indent=2)
    print(f"Wrote {args.data_dir} in {time.time() - start:.0f} s")


def train(args):
    """Trains the preset's backbone; returns the segmenter and a summary."""
    strategy = (
        tf.distribute.MirroredStrategy()
        if args.strategy == "mirrored"
        else tf.distribute.OneDeviceStrategy("/cpu:0")
    )
    overrides = {}
    if args.encoder_weights:
        overrides["encoder_weights"] = args.encoder_weights
    with strategy.scope():
        segmenter = ReferItSegmenter.from_preset(
            args.preset,
            vocabulary=os.path.join(args.data_dir, referit.VOCABULARY_FILE),
            **overrides,
        )
        segmenter.backbone.compile(
            optimizer=keras.optimizers.Adam(args.learning_rate),
            jit_compile=args.jit_compile,
        )
    train_data = referit.as_dataset(
        args.data_dir,
        "train",
        args.batch_size,
        image_size=segmenter.image_size,
        shuffle=True,
        seed=args.seed,
        drop_remainder=True,
    )
    if args.object_weight != 1.0:

        def with_pixel_weights(x, y):
            # The backbone's loss is the weighted mean over pixels.
            extra = args.object_weight - 1.0
            return x, y, 1.0 + extra * tf.cast(y, "float32")

        train_data = train_data.map(with_pixel_weights)
    train_data = segmenter.tokenize_dataset(train_data)
    steps_per_epoch = int(train_data.cardinality())
    os.makedirs(args.output_dir, exist_ok=True)
    callbacks = [
        keras.callbacks.ModelCheckpoint(
            os.path.join(
                args.output_dir, "checkpoints", "epoch_{epoch}.weights.h5"
            ),
            save_weights_only=True,
        ),
        keras.callbacks.BackupAndRestore(
            os.path.join(args.output_dir, "backup")
        ),
    ]
    backbone = segmenter.backbone
    if backbone.max_steps > 1 and backbone.termination_mode == "gumbel":
        callbacks.append(
            GumbelTemperatureScheduler(
                exponential_temperature_schedule(
                    initial=backbone.temperature,
                    rate=args.temperature_decay,
                    minimum=0.5,
                )
            )
        )
    start = time.time()
    history = backbone.fit(
        train_data, epochs=args.epochs, callbacks=callbacks, verbose=2
    )
    train_seconds = time.time() - start
    model_path = os.path.join(args.output_dir, "model.keras")
    segmenter.save(model_path)
    print(f"Wrote {model_path}")
    return segmenter, {
        "preset": args.preset,
        "parameters": segmenter.count_params(),
        "encoder_weights": args.encoder_weights,
        "train_queries": len(
            referit.load_index(args.data_dir, "train").examples
        ),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "steps_per_epoch": steps_per_epoch,
        "train_steps": steps_per_epoch * args.epochs,
        "learning_rate": args.learning_rate,
        "object_weight": args.object_weight,
        "strategy": args.strategy,
        "jit_compile": args.jit_compile,
        "seed": args.seed,
        "train_seconds": round(train_seconds, 1),
        "loss": [float(value) for value in history.history["loss"]],
    }


def evaluate(args, segmenter):
    """Ours and the baselines on the test split, by the same metric code."""
    start = time.time()
    rows = {
        "ours": evaluate_referit(
            segmenter,
            args.data_dir,
            "test",
            batch_size=args.batch_size,
            max_queries=args.max_test_queries,
        )
    }
    evaluation_seconds = time.time() - start
    rows["whole_image"] = evaluate_referit_predictions(
        args.data_dir, "test", whole_image_prediction, args.max_test_queries
    )
    source_path = os.path.join(args.data_dir, COSAL_SOURCE_FILE)
    source = None
    if os.path.isfile(source_path):
        with open(source_path) as f:
            source = json.load(f)
        rows["true_tile"] = evaluate_referit_predictions(
            args.data_dir,
            "test",
            true_tile_prediction(source["scene_size"]),
            args.max_test_queries,
        )
    for name, values in rows.items():
        print(
            f"{name}: overall IoU {values['overall_iou']:.4f}, mean IoU "
            f"{values['mean_iou']:.4f}, precision@0.5 "
            f"{values['precision@0.5']:.4f} ({values['num_queries']} queries)"
        )
    return {
        "data_dir": os.path.abspath(args.data_dir),
        "cosal_source": source,
        "test": rows,
        "evaluation_seconds": round(evaluation_seconds, 1),
    }


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


def write_results(args, results):
    """The Table 3 markdown at `--results`, the JSON beside it."""
    training = results["training"]
    test = results["test"]
    source = results["cosal_source"]
    data = (
        f"CoSaL scenes in the ReferIt layout ({source['num_images']} images "
        f"of {source['image_size'][0]}×{source['image_size'][1]} px, seed "
        f"{source['seed']}, written by `--make-cosal-data`)"
        if source
        else f"the ReferIt-format folder `{args.data_dir}`"
    )
    ours = (
        f"Ours: `{training['preset']}` on CoSaL (test)"
        if source
        else f"Ours: `{training['preset']}` (test)"
    )
    rows = dict(PAPER_TABLE3)
    rows[ours] = test["ours"]
    rows["Baseline: whole image (test)"] = test["whole_image"]
    if "true_tile" in test:
        rows["Oracle: the object's true tile (test)"] = test["true_tile"]
    minutes = training["train_seconds"] / 60
    lines = [
        "# ReferIt segmentation, in the layout of the paper's Table 3",
        "",
        f"Written by `python examples/train_referit.py` on {data}. The "
        "paper's rows are on the real ReferIt test set with the full model; "
        "ours are on a different, synthetic data set: compare them with the "
        "baselines below them, not with the paper. Every row of ours is "
        "scored by `keras_lbie.training.evaluate_referit(_predictions)` at "
        "the original image size, on "
        f"{test['ours']['num_queries']} test queries.",
        "",
        format_table3(rows),
        "Mean per-query IoU (not in the paper): "
        + ", ".join(
            f"{name} {values['mean_iou']:.4f}" for name, values in test.items()
        )
        + ".",
        "",
        f"Training: {training['train_queries']} train queries, "
        f"{training['epochs']} epoch(s) × {training['steps_per_epoch']} "
        f"steps at batch {training['batch_size']} ({training['train_steps']} "
        f"steps), Adam {training['learning_rate']:g}, object pixels weighted "
        f"{training['object_weight']:g} in the loss, "
        f"{training['parameters']:,} parameters, {minutes:.1f} min on "
        f"{os.cpu_count()} CPU cores ({training['strategy']}). Baselines: "
        "*whole image* predicts every pixel of the image as the object; "
        "*true tile* predicts the whole grid tile that holds the object, "
        "located from its ground-truth box (an oracle location without the "
        "shape).",
        "",
    ]
    os.makedirs(os.path.dirname(os.path.abspath(args.results)), exist_ok=True)
    with open(args.results, "w") as f:
        f.write("\n".join(lines))
    json_path = os.path.splitext(args.results)[0] + ".json"
    with open(json_path, "w") as f:
        json.dump(results, f, indent=2)
    print(f"Wrote {args.results} and {json_path}")


def benchmark(image_size, output):
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


if __name__ == "__main__":
    main()
