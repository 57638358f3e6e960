"""Train and evaluate an LBIE segmenter on CoSaL (paper Section 4.1).

    python examples/train_cosal.py --preset cosal_paper --max-steps 4 \\
        --num-direct 4 --epochs 10 --output-dir runs/t4_nd4

Generates the 50,000/10,000 train/test splits of one `--num-direct` setting
(or reads TFRecords written by a previous run with `--data-dir`), trains the
preset's backbone with `fit` (tokenisation in the tf.data pipeline, so the
step can be XLA-compiled and distributed), with checkpoints, TensorBoard logs
and the Gumbel temperature schedule, then evaluates the paper's region IoU
and the colour mean IoU on the test split. Everything lands in
`--output-dir`: `results.json` (configuration, training budget, wall-clock,
metrics), `model.weights.h5`, `checkpoints/` and `logs/`.
"""

import argparse
import json
import os
import time

import keras
import tensorflow as tf

from keras_lbie.callbacks import GumbelTemperatureScheduler
from keras_lbie.callbacks import exponential_temperature_schedule
from keras_lbie.datasets import cosal
from keras_lbie.metrics import ColorMeanIoU
from keras_lbie.metrics import CoSaLRegionIoU
from keras_lbie.models import LBIESegmenter


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--preset", default="cosal_paper")
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--no-attention", action="store_true")
    parser.add_argument(
        "--termination-mode", choices=("gumbel", "expected"), default=None
    )
    parser.add_argument("--num-direct", type=int, default=4)
    parser.add_argument("--train", type=int, default=50_000)
    parser.add_argument("--test", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--data-dir",
        default=None,
        help="TFRecords folder: read if present, else generated and written",
    )
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument(
        "--temperature-decay",
        type=float,
        default=1e-4,
        help="per-step rate of the exponential Gumbel temperature schedule",
    )
    parser.add_argument(
        "--strategy", choices=("one_device", "mirrored"), default="one_device"
    )
    parser.add_argument("--jit-compile", action="store_true")
    parser.add_argument("--output-dir", required=True)
    return parser.parse_args(argv)


def preset_overrides(args):
    overrides = {"seed": args.seed}
    if args.max_steps is not None:
        overrides["max_steps"] = args.max_steps
    if args.no_attention:
        overrides["use_attention"] = False
    if args.termination_mode is not None:
        overrides["termination_mode"] = args.termination_mode
    return overrides


def make_strategy(name):
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.OneDeviceStrategy("/cpu:0")


def split_source(args, split, num_examples, seed):
    """A `generate()` dict, or TFRecord files under `--data-dir`."""
    if args.data_dir is None:
        return cosal.generate(
            num_examples, num_direct=args.num_direct, seed=seed
        )
    pattern = os.path.join(args.data_dir, f"{split}*.tfrecord*")
    if not tf.io.gfile.glob(pattern):
        data = cosal.generate(
            num_examples, num_direct=args.num_direct, seed=seed
        )
        tf.io.gfile.makedirs(args.data_dir)
        cosal.write_tfrecords(
            data, os.path.join(args.data_dir, f"{split}.tfrecord")
        )
    return pattern


def tokenized(dataset, tokenizer):
    return dataset.map(
        lambda x, y: (
            {"image": x["image"], "token_ids": tokenizer(x["text"])},
            y,
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).prefetch(tf.data.AUTOTUNE)


def evaluate(backbone, dataset):
    """Both CoSaL metrics over the whole split (accumulated, not averaged)."""
    region_iou, color_iou = CoSaLRegionIoU(), ColorMeanIoU()
    predict = tf.function(lambda x: backbone(x, training=False)["logits"])
    for x, y in dataset:
        logits = predict(x)
        region_iou.update_state(y, logits)
        color_iou.update_state(y, logits)
    results = {key: float(value) for key, value in region_iou.result().items()}
    results["color_mean_iou"] = float(color_iou.result())
    return results


def main(argv=None):
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    os.makedirs(args.output_dir, exist_ok=True)
    train_source = split_source(args, "train", args.train, args.seed)
    test_source = split_source(args, "test", args.test, args.seed + 1)

    strategy = make_strategy(args.strategy)
    with strategy.scope():
        segmenter = LBIESegmenter.from_preset(
            args.preset, load_weights=False, **preset_overrides(args)
        )
        backbone = segmenter.backbone
        backbone.compile(
            optimizer=keras.optimizers.Adam(args.learning_rate),
            jit_compile=args.jit_compile,
        )
    train = tokenized(
        cosal.as_dataset(
            train_source,
            args.batch_size,
            shuffle=True,
            seed=args.seed,
            drop_remainder=True,
        ),
        segmenter.tokenizer,
    )
    test = tokenized(
        cosal.as_dataset(test_source, 100, with_shape_map=True),
        segmenter.tokenizer,
    )
    callbacks = [
        keras.callbacks.ModelCheckpoint(
            os.path.join(
                args.output_dir, "checkpoints", "epoch_{epoch}.weights.h5"
            ),
            save_weights_only=True,
        ),
        keras.callbacks.TensorBoard(os.path.join(args.output_dir, "logs")),
    ]
    config = backbone.get_config()
    uses_gumbel = (
        config["max_steps"] > 1 and config["termination_mode"] == "gumbel"
    )
    if uses_gumbel:
        callbacks.append(
            GumbelTemperatureScheduler(
                exponential_temperature_schedule(
                    initial=config["temperature"],
                    rate=args.temperature_decay,
                    minimum=0.5,
                )
            )
        )

    start = time.time()
    history = backbone.fit(
        train, epochs=args.epochs, callbacks=callbacks, shuffle=False
    )
    train_seconds = time.time() - start
    backbone.save_weights(os.path.join(args.output_dir, "model.weights.h5"))
    metrics = evaluate(backbone, test)
    steps_per_epoch = args.train // args.batch_size
    results = {
        "preset": args.preset,
        "overrides": preset_overrides(args),
        "backbone_config": {
            key: value
            for key, value in config.items()
            if isinstance(value, (int, float, str, bool, list, type(None)))
        },
        "num_direct": args.num_direct,
        "train_examples": args.train,
        "test_examples": args.test,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "train_steps": steps_per_epoch * args.epochs,
        "learning_rate": args.learning_rate,
        "strategy": args.strategy,
        "jit_compile": args.jit_compile,
        "train_seconds": round(train_seconds, 1),
        "final_loss": float(history.history["loss"][-1]),
        "metrics": metrics,
    }
    with open(os.path.join(args.output_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results["metrics"], indent=2))
    return results


if __name__ == "__main__":
    main()
