"""Where XLA helps and where it does not: a segmenter's training step by part.

Usage: python benchmarks/xla_parts.py [--preset cosal] [--batch-size 32]
    [--max-steps 1,4] [--repeats 10] [--quick] [--readme PATH] [--json]

Times the forward and backward pass (the gradients of the summed output
with respect to the part's weights; no optimizer update) of each part of
an `LBIESegmenter` backbone, with XLA off and on, in a
`tf.function(jit_compile=...)`: the image encoder (the convolutions and
pooling), the text encoder (the word BiLSTM and sentence LSTM) and the
whole backbone at each T of `--max-steps`. The whole minus the two
encoders is the fusion loop and the decoder, the part that grows with T.
Writes its section of benchmarks/README.md on a full run.
"""

import argparse
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from report import add_report_arguments  # noqa: E402
from report import publish  # noqa: E402
from report import table  # noqa: E402
from throughput import median_seconds  # noqa: E402
from workloads import BENCHMARKS  # noqa: E402

from keras_lbie.models import available_presets  # noqa: E402

SECTION = "xla-parts"
TEXT_ENCODER = "text_encoder"
IMAGE_PREFIX = "image_"


def part_models(backbone):
    """`{part: (model, input key)}` of a segmenter backbone's encoders."""
    image_layers = [
        layer
        for layer in backbone.layers
        if layer.name.startswith(IMAGE_PREFIX)
        and not isinstance(layer, keras.layers.InputLayer)
    ]
    inputs = backbone.input
    return {
        "image encoder": (
            keras.Model(inputs["image"], image_layers[-1].output),
            "image",
        ),
        "text encoder": (
            keras.Model(
                inputs["token_ids"], backbone.get_layer(TEXT_ENCODER).output
            ),
            "token_ids",
        ),
    }


def gradient_step(model, output=None):
    """`x -> gradients` of the sum of `model`'s (chosen) output."""

    def step(x):
        with tf.GradientTape() as tape:
            outputs = model(x, training=True)
            if output is not None:
                outputs = outputs[output]
            loss = tf.reduce_sum(outputs)
        gradients = tape.gradient(loss, model.trainable_variables)
        # Embedding gradients are sparse; XLA and the timing want tensors.
        return [tf.convert_to_tensor(gradient) for gradient in gradients]

    return step


def time_step(step, x, jit_compile, repeats, warmup):
    """Median ms of one call of `step(x)` compiled as asked."""
    function = tf.function(step, jit_compile=jit_compile)

    def run():
        for gradient in function(x):
            gradient.numpy()

    for _ in range(warmup):
        run()
    return 1000 * median_seconds(run, repeats)


def measure(preset, batch_size, max_steps, repeats=10, warmup=2):
    """Rows `{part, max_steps, xla_off_ms, xla_on_ms}`, one per part."""
    rows = []
    for index, steps in enumerate(max_steps):
        workload = BENCHMARKS[preset].build(max_steps=steps)
        backbone = workload.model
        x, _ = workload.make_batch(batch_size, 0)
        x = tf.nest.map_structure(tf.constant, x)
        parts = {f"whole, T={steps}": (gradient_step(backbone, "logits"), x)}
        if index == 0:
            # The encoders do not depend on T: timed once.
            for name, (model, key) in part_models(backbone).items():
                parts[name] = (gradient_step(model), x[key])
        for name, (step, inputs) in parts.items():
            times = {
                jit: time_step(step, inputs, jit, repeats, warmup)
                for jit in (False, True)
            }
            rows.append(
                {
                    "part": name,
                    "max_steps": steps,
                    "xla_off_ms": times[False],
                    "xla_on_ms": times[True],
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def markdown(rows, preset, batch_size, command):
    body = [
        [
            row["part"],
            f"{row['xla_off_ms']:.1f}",
            f"{row['xla_on_ms']:.1f}",
            f"{row['xla_off_ms'] / row['xla_on_ms']:.2f}×",
        ]
        for row in rows
    ]
    return (
        f"Preset `{preset}`, batch {batch_size}, float32; written by "
        f"`{command}`. Forward and backward pass, ms per batch (median):\n\n"
        + table(["part", "XLA off", "XLA on", "XLA speed-up"], body)
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--preset", default="cosal", choices=sorted(available_presets())
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-steps", default="1,4")
    parser.add_argument("--repeats", type=int, default=10)
    add_report_arguments(parser)
    args = parser.parse_args()
    max_steps = [int(value) for value in args.max_steps.split(",")]
    batch_size, repeats = (
        (2, 1) if args.quick else (args.batch_size, args.repeats)
    )
    rows = measure(args.preset, batch_size, max_steps, repeats=repeats)
    command = "python benchmarks/xla_parts.py" + (
        " --quick" if args.quick else ""
    )
    body = markdown(rows, args.preset, batch_size, command)
    publish(args, SECTION, body, rows)


if __name__ == "__main__":
    main()
