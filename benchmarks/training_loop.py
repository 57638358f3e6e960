"""The real training loop's speed beside the bare training step, in one run.

Usage: python benchmarks/training_loop.py [--preset cosal_paper]
    [--batch-size 32] [--examples 4800] [--epochs 3] [--repeats 3]
    [--bare-steps 30] [--json] [-- TRAINING FLAGS]

The real loop is `train_cosal`, what `lbie train` and
`examples/train_cosal.py` run: data generated then fed by its `tf.data`
pipeline, `fit` with its callbacks (checkpoints, TensorBoard, the Gumbel
temperature, the region IoU history) and its progress bar. Each repeat
trains `--examples` examples per epoch for `--epochs` epochs; its speed
is the examples of every epoch after the first (tracing and the first
steps excluded) over their wall-clock, read from the run's `history`
(which leaves the per-epoch scoring out). Then the bare step, as
`throughput.py` times it: the same model's train function (the one `fit`
ran) on one batch repeated, `--bare-steps` steps after 3 untimed ones.
Repeats alternate the two, so both see the same machine load; medians are
reported. Flags after `--` go to the training's command line (e.g.
`-- --precision float32 --no-jit-compile`).

The script only uses what `train_cosal` has had from the start, so it also
times an older checkout of the package (`training_speedup.py`).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

from keras_lbie.datasets import cosal  # noqa: E402
from keras_lbie.training import CoSaLTrainingConfig  # noqa: E402
from keras_lbie.training import add_training_arguments  # noqa: E402
from keras_lbie.training import train_cosal  # noqa: E402

BARE_WARMUP = 3


def measure(
    preset="cosal_paper",
    batch_size=32,
    examples=4800,
    epochs=3,
    repeats=3,
    bare_steps=30,
    training_flags=(),
    verbose="auto",
):
    """Real-loop and bare-step examples/s of one preset, alternated.

    Args:
        preset: an `LBIESegmenter` preset.
        batch_size: positive int.
        examples: positive int, training examples per epoch.
        epochs: int >= 2; the first epoch is not timed.
        repeats: positive int, (real loop, bare step) pairs.
        bare_steps: positive int, timed bare steps per repeat.
        training_flags: further `lbie train` flags.
        verbose: `fit`'s verbosity (`lbie train`'s is "auto").

    Returns:
        A JSON-ready dict: the configuration, `real_examples_per_s` and
        `bare_examples_per_s` (medians), `real_over_bare` (the median of
        each repeat's ratio), every run, and the last run's
        `cosal_region_iou` and results fields `precision`/`jit_compile`.
    """
    if epochs < 2:
        raise ValueError(f"`epochs` must be >= 2. Received: {epochs}")
    real, bare, results = [], [], None
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as output_dir:
            config = _config(
                preset, batch_size, examples, epochs, training_flags, output_dir
            )
            segmenter, results = train_cosal(config, output_dir, verbose)
        real.append(real_loop_speed(results, config))
        bare.append(bare_step_speed(segmenter, batch_size, bare_steps))
        print(json.dumps({"real": real[-1], "bare": bare[-1]}), flush=True)
    return {
        "preset": preset,
        "batch_size": batch_size,
        "examples_per_epoch": config.batches_per_setting * batch_size,
        "epochs": epochs,
        "repeats": repeats,
        "training_flags": list(training_flags),
        "precision": results.get("precision", "float32"),
        "jit_compile": results["jit_compile"],
        "real_examples_per_s": statistics.median(real),
        "bare_examples_per_s": statistics.median(bare),
        "real_over_bare": statistics.median(
            r / b for r, b in zip(real, bare, strict=True)
        ),
        "real_runs": real,
        "bare_runs": bare,
        "cosal_region_iou": results["metrics"]["cosal_region_iou"],
    }


def _config(preset, batch_size, examples, epochs, flags, output_dir):
    parser = argparse.ArgumentParser()
    add_training_arguments(parser, default_preset=preset)
    args = parser.parse_args(
        [
            *("--batch-size", str(batch_size)),
            *("--train", str(examples)),
            *("--epochs", str(epochs)),
            # Scoring is left out of the timing; a few examples suffice.
            *("--test", "100", "--history-examples", "100"),
            *("--output-dir", output_dir),
            *flags,
        ]
    )
    return CoSaLTrainingConfig.from_args(args)


def real_loop_speed(results, config):
    """Examples/s of the epochs after the first, from `results["history"]`."""
    history = results["history"]
    seconds = history[-1]["train_seconds"] - history[0]["train_seconds"]
    examples = config.batches_per_setting * config.batch_size
    return examples * len(config.num_direct) * (len(history) - 1) / seconds


def bare_step_speed(segmenter, batch_size, steps):
    """Examples/s of the backbone's train function on one repeated batch."""
    data = cosal.generate(batch_size, num_direct=4, seed=0)
    batch = next(
        iter(segmenter.tokenize_dataset(cosal.as_dataset(data, batch_size)))
    )
    iterator = iter(tf.data.Dataset.from_tensors(batch).repeat())
    backbone = segmenter.backbone

    def step():
        # Reading the loss waits for the step, as `fit`'s logs do.
        return float(backbone.train_function(iterator)["loss"])

    for _ in range(BARE_WARMUP):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch_size / (time.perf_counter() - start)


def describe(result):
    return (
        f"{result['preset']} batch {result['batch_size']} "
        f"{result['precision']} XLA {result['jit_compile']}: real loop "
        f"{result['real_examples_per_s']:,.1f} examples/s, bare step "
        f"{result['bare_examples_per_s']:,.1f} examples/s, real/bare "
        f"{result['real_over_bare']:.0%}"
    )


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    own, flags = _split_at_dashes(argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="cosal_paper")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--examples", type=int, default=4800)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bare-steps", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(own)
    args.training_flags = flags
    return args


def _split_at_dashes(argv):
    if "--" not in argv:
        return list(argv), []
    index = argv.index("--")
    return list(argv[:index]), list(argv[index + 1 :])


def main(argv=None):
    args = parse_args(argv)
    result = measure(
        args.preset,
        args.batch_size,
        args.examples,
        args.epochs,
        args.repeats,
        args.bare_steps,
        args.training_flags,
    )
    print(json.dumps(result) if args.json else describe(result))


if __name__ == "__main__":
    main()
