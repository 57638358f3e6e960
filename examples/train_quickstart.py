"""Train the paper's CoSaL segmenter from scratch, briefly.

The second example, after `examples/quickstart.py` (which edits images
with the shipped, trained models). Generates CoSaL data (paper Section
4.1), builds the paper's model from the `cosal_paper` preset, trains it
for a few minutes, prints the paper's region IoU and shows which sentence
each fusion step attends to.

    python examples/train_quickstart.py [--train 5000] [--epochs 4] \
        [--steps 2] [--verbose]

About 3 minutes on 2 CPU cores. The short run is a smoke test of the
training loop, not a result: it reaches a region IoU of about 0.26, where
full runs reach 0.5-0.7 and the shipped `cosal` preset 0.71-0.99 (README,
Results). The segmenter takes raw strings; training runs on its backbone
with the text tokenised in the tf.data pipeline.
"""

import sys

from keras_lbie.utils.tensorflow_logs import add_verbose_argument
from keras_lbie.utils.tensorflow_logs import quiet_tensorflow_logs

if __name__ == "__main__":
    # Before TensorFlow loads: hide its log lines unless --verbose.
    quiet_tensorflow_logs(sys.argv[1:])

import argparse

import keras
import numpy as np

from keras_lbie.callbacks import GumbelTemperatureScheduler
from keras_lbie.datasets import cosal
from keras_lbie.metrics import ColorMeanIoU
from keras_lbie.metrics import CoSaLRegionIoU
from keras_lbie.models import LBIESegmenter


def print_attention(segmenter, image, text):
    """Per step, the sentence with the most attention over all regions."""
    _, details = segmenter.edit(image, text, return_details=True)
    sentences = details["sentences"][0]
    print(f"\nDescription: {text}")
    for step, weights in enumerate(details["attention"][0]):
        per_sentence = weights.mean(axis=(0, 1))
        best = int(np.argmax(per_sentence))
        print(
            f"  step {step + 1}: attends most to sentence {best + 1} "
            f"({per_sentence[best]:.2f}): {sentences[best]!r}"
        )
    steps, counts = np.unique(details["stop_step"][0] + 1, return_counts=True)
    print(
        "  regions stopping at each step: "
        + ", ".join(
            f"step {s}: {c}" for s, c in zip(steps, counts, strict=True)
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", type=int, default=5000)
    parser.add_argument("--test", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=2, help="max steps T")
    parser.add_argument("--num-direct", type=int, default=8)
    add_verbose_argument(parser)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)

    train = cosal.generate(args.train, num_direct=args.num_direct, seed=0)
    test = cosal.generate(args.test, num_direct=args.num_direct, seed=1)
    segmenter = LBIESegmenter.from_preset(
        "cosal_paper", max_steps=args.steps, seed=0
    )
    backbone = segmenter.backbone
    # No `loss`: the backbone trains its own objective (pixel-wise
    # cross-entropy with Gumbel-softmax termination gates).
    backbone.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        metrics=[CoSaLRegionIoU(), ColorMeanIoU()],
    )
    backbone.fit(
        segmenter.tokenize_dataset(
            cosal.as_dataset(
                train, batch_size=32, shuffle=True, seed=0, with_shape_map=True
            )
        ),
        epochs=args.epochs,
        verbose=2,
        callbacks=[GumbelTemperatureScheduler()] if args.steps > 1 else [],
    )

    results = backbone.evaluate(
        segmenter.tokenize_dataset(
            cosal.as_dataset(test, batch_size=64, with_shape_map=True)
        ),
        return_dict=True,
        verbose=0,
    )
    print(f"\nRegion IoU (paper's metric): {results['cosal_region_iou']:.4f}")
    print(f"Colour mean IoU:             {results['color_mean_iou']:.4f}")
    print(
        f"(after {args.epochs} epochs on {args.train} examples: a smoke "
        "test; full runs reach a region IoU of 0.5-0.7, the shipped `cosal` "
        "preset 0.71-0.99)"
    )
    print_attention(segmenter, test["image"][0], str(test["text"][0]))


if __name__ == "__main__":
    main()
