"""Trains the `cosal_colorizer` GAN on CoSaL colorization and scores it.

The evidence of the colorizer (issue 5, the paper's Table 4 idea made
measurable): train the small preset with the paper's GAN + L1 objective on
`keras_lbie.datasets.cosal_colorization` (gray silhouettes of one
lightness, so colours follow from the caption only), then score it on a
held-out split: caption-following accuracy
(`cosal_colorization.caption_accuracy`), PSNR of the sRGB image and the
mean |ab| error in Lab units. `--blank-text` trains and scores the same
model with every caption empty: the no-text baseline.

    python examples/train_cosal_colorizer.py --output-dir runs/colorizer_text
    python examples/train_cosal_colorizer.py --blank-text \
        --output-dir runs/colorizer_no_text

Each run writes `metrics.json`, the generator's weights
`colorizer.weights.h5`, a per-epoch `history.json` (validation caption
accuracy) and sample grids. `examples/cosal_colorization_report.py`
turns two runs into the results table and figures.
"""

import sys

from keras_lbie.utils.tensorflow_logs import add_verbose_argument
from keras_lbie.utils.tensorflow_logs import quiet_tensorflow_logs

if __name__ == "__main__":
    # Before TensorFlow loads: hide its log lines unless --verbose.
    quiet_tensorflow_logs(sys.argv[1:])

import argparse
import json
import os
import time

import keras

from keras_lbie.callbacks import ColorizationSamples
from keras_lbie.datasets import cosal_colorization
from keras_lbie.models import LBIEColorizerGAN
from keras_lbie.training import distribution_strategy
from keras_lbie.training import fit
from keras_lbie.training.cosal_training_config import add_strategy_arguments
from keras_lbie.training.distribution import check_batch_size

# Seeds of the splits: disjoint random streams.
TRAIN_SEED = 0
VALIDATION_SEED = 1
TEST_SEED = 2


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--blank-text", action="store_true")
    parser.add_argument("--train", type=int, default=20_000)
    parser.add_argument("--validation", type=int, default=500)
    parser.add_argument("--test", type=int, default=2_000)
    parser.add_argument("--num-direct", type=int, default=9)
    parser.add_argument(
        "--num-described",
        type=int,
        help="name only this many shapes in each caption; the others stay "
        "gray (default: all nine)",
    )
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--max-words",
        type=int,
        default=56,
        help="caption length; all-direct paragraphs have at most 52 words",
    )
    parser.add_argument("--g-learning-rate", type=float, default=1e-3)
    parser.add_argument("--d-learning-rate", type=float, default=2e-4)
    parser.add_argument(
        "--adam-epsilon",
        type=float,
        default=1e-7,
        help="Adam's epsilon for both optimizers (Keras's default 1e-7; "
        "the caption attention's gradients are ~1e-8 at initialisation)",
    )
    parser.add_argument("--gan-weight", type=float, default=1.0)
    parser.add_argument("--l1-weight", type=float, default=100.0)
    parser.add_argument(
        "--l2-weight",
        type=float,
        default=0.0,
        help="weight of an L2 term (not in the paper; see LBIEColorizerGAN)",
    )
    parser.add_argument("--seed", type=int, default=0)
    add_strategy_arguments(parser)
    add_verbose_argument(parser)
    return parser.parse_args(argv)


def captions(data, blank_text):
    return ["" if blank_text else str(t) for t in data["text"]]


def score(colorizer, data, blank_text):
    ab = colorizer.predict_ab(data["image_l"], captions(data, blank_text))
    return cosal_colorization.colorization_scores(ab, data)


class ValidationAccuracy(keras.callbacks.Callback):
    """Records the validation caption accuracy and wall-clock per epoch."""

    def __init__(self, colorizer, data, blank_text):
        super().__init__()
        self.colorizer = colorizer
        self.data = data
        self.blank_text = blank_text
        self.history = []

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        accuracy = score(self.colorizer, self.data, self.blank_text)
        accuracy["epoch"] = epoch + 1
        accuracy["minutes"] = (time.perf_counter() - self.start) / 60.0
        self.history.append(accuracy)
        print(f"\nvalidation after epoch {epoch + 1}: {accuracy}", flush=True)


def main(argv=None):
    args = parse_args(argv)
    # Before any TensorFlow op: `--replicas` splits the CPU.
    strategy = distribution_strategy(args.strategy, args.replicas)
    check_batch_size(args.batch_size, strategy)
    keras.utils.set_random_seed(args.seed)
    os.makedirs(args.output_dir, exist_ok=True)
    splits = {
        name: cosal_colorization.generate(
            size,
            num_direct=args.num_direct,
            seed=seed,
            num_described=args.num_described,
        )
        for name, size, seed in (
            ("train", args.train, TRAIN_SEED),
            ("validation", args.validation, VALIDATION_SEED),
            ("test", args.test, TEST_SEED),
        )
    }
    with strategy.scope():
        gan = LBIEColorizerGAN.from_preset(
            "cosal_colorizer",
            gan_weight=args.gan_weight,
            l1_weight=args.l1_weight,
            l2_weight=args.l2_weight,
            load_weights=False,
            max_words=args.max_words,
        )
        gan.compile(
            g_optimizer=keras.optimizers.Adam(
                args.g_learning_rate, beta_1=0.5, epsilon=args.adam_epsilon
            ),
            d_optimizer=keras.optimizers.Adam(
                args.d_learning_rate, beta_1=0.5, epsilon=args.adam_epsilon
            ),
        )
    colorizer = gan.generator
    train = colorizer.tokenize_dataset(
        cosal_colorization.as_dataset(
            splits["train"],
            args.batch_size,
            shuffle=True,
            seed=args.seed,
            blank_text=args.blank_text,
        )
    )
    samples = splits["validation"]
    validation = ValidationAccuracy(
        colorizer, splits["validation"], args.blank_text
    )
    callbacks = [
        validation,
        ColorizationSamples(
            samples["image_l"][:4],
            captions(samples, args.blank_text)[:4],
            samples["ab"][:4],
            os.path.join(args.output_dir, "samples"),
        ),
    ]
    start = time.perf_counter()
    fit(gan, train, epochs=args.epochs, callbacks=callbacks, verbose=2)
    minutes = (time.perf_counter() - start) / 60.0
    colorizer.backbone.save_weights(
        os.path.join(args.output_dir, "colorizer.weights.h5")
    )
    metrics = score(colorizer, splits["test"], args.blank_text)
    metrics.update(
        {
            "arguments": vars(args),
            "steps": int(gan.optimizer.iterations.numpy()),
            "strategy": args.strategy,
            "replicas": strategy.num_replicas_in_sync,
            "training_minutes": minutes,
        }
    )
    for name, payload in (
        ("metrics", metrics),
        ("history", validation.history),
    ):
        path = os.path.join(args.output_dir, f"{name}.json")
        with open(path, "w") as file:
            json.dump(payload, file, indent=2)
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
