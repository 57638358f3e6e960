"""Checks and times early-exit inference against running all T steps.

Usage: python benchmarks/early_exit.py [--preset cosal] [--max-steps 4,8]
    [--num-examples 512] [--batch-size 32] [--repeats 5] [--weights PATH]
    [--quick] [--readme PATH] [--json]

For each T, builds the preset twice with the same weights, with
`early_exit=False` and `True`, and runs both at inference on
`--num-examples` generated CoSaL examples: the outputs must be identical
(logits allclose, stop steps equal), and the mean number of fusion steps
the early-exit loop ran (steps whose `log_stop_probabilities` are all
`-inf` did not run) is reported with the speed-up (median of `--repeats`
passes over all examples, after one untimed pass), XLA off and on.

Weights: `--weights PATH` (a backbone checkpoint of the preset), else the
preset's shipped weights file when it has one, loaded at every T (the
gate and C-GRU weights do not depend on T, so T=8 runs the T=4-trained
model for 8 steps), else random initialisation: then the speed-up says
how often random gates decide early, not what the trained model does.
"""

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from report import add_report_arguments  # noqa: E402
from report import publish  # noqa: E402
from report import table  # noqa: E402
from throughput import median_seconds  # noqa: E402
from workloads import BENCHMARKS  # noqa: E402

from keras_lbie.models import LBIESegmenter  # noqa: E402
from keras_lbie.utils.preset_utils import WEIGHTS_DIR  # noqa: E402

SECTION = "early-exit"
_COMPARED = ("logits", "stop_step", "log_stop_probabilities")


def build_pair(preset, max_steps, weights=None, **overrides):
    """The fixed-T and early-exit workloads of `preset`, same weights."""
    build = BENCHMARKS[preset].build
    fixed = build(weights=weights, max_steps=max_steps, **overrides)
    early = build(max_steps=max_steps, early_exit=True, **overrides)
    early.model.set_weights(fixed.model.get_weights())
    return fixed, early


def make_batches(workload, num_examples, batch_size):
    """`num_examples` inputs in batches of `batch_size`, as tensors."""
    return [
        _as_tensors(workload.make_batch(min(batch_size, num_examples - at), at))
        for at in range(0, num_examples, batch_size)
    ]


def _as_tensors(batch):
    x, _ = batch
    return tf.nest.map_structure(tf.constant, x)


def compare_outputs(fixed_model, early_model, batches):
    """Runs both models; returns whether and how their outputs agree.

    Returns:
        A dict: `"identical"` (logits allclose and stop steps equal on every
        batch), `"max_abs_logit_diff"`, `"stop_steps_equal"` and
        `"mean_steps_run"` (fusion steps the early-exit loop ran, averaged
        over batches: the loop stops for a whole batch at once).
    """
    fixed_fn, early_fn = map(_outputs_function, (fixed_model, early_model))
    close, stop_equal, max_diff, steps_run = True, True, 0.0, []
    for x in batches:
        fixed, early = fixed_fn(x), early_fn(x)
        fixed_logits, early_logits = fixed["logits"], early["logits"]
        close &= np.allclose(fixed_logits, early_logits, rtol=1e-5, atol=1e-5)
        diff = np.max(np.abs(fixed_logits - early_logits))
        max_diff = max(max_diff, float(diff))
        stop_equal &= np.array_equal(fixed["stop_step"], early["stop_step"])
        steps_run.append(steps_that_ran(early["log_stop_probabilities"]))
    return {
        "identical": bool(close and stop_equal),
        "max_abs_logit_diff": max_diff,
        "stop_steps_equal": bool(stop_equal),
        "mean_steps_run": float(np.mean(steps_run)),
    }


def outputs_identical(fixed_model, early_model, batches):
    """Whether early exit gives the fixed-T outputs on every batch."""
    return compare_outputs(fixed_model, early_model, batches)["identical"]


def steps_that_ran(log_stop_probabilities):
    """Steps with a finite log stop probability: `(batch, T, H, W)`."""
    finite = np.isfinite(np.asarray(log_stop_probabilities))
    return int(finite.any(axis=(0, 2, 3)).sum())


def _outputs_function(model):
    """The compared outputs, as numpy arrays."""
    compared = tf.function(
        lambda x: {
            key: value
            for key, value in model(x, training=False).items()
            if key in _COMPARED
        }
    )
    return lambda x: {k: v.numpy() for k, v in compared(x).items()}


def time_pass(model, batches, jit_compile, repeats):
    """Median seconds of one inference pass over `batches` (logits only)."""
    logits = tf.function(
        lambda x: model(x, training=False)["logits"], jit_compile=jit_compile
    )

    def run():
        for x in batches:
            logits(x).numpy()

    run()
    return median_seconds(run, repeats)


def shipped_weights(preset):
    """The preset's trained weights file, or None."""
    presets = LBIESegmenter.presets
    name = presets[preset]["weights"] if preset in presets else None
    return None if name is None else os.path.join(WEIGHTS_DIR, name)


def measure_early_exit(
    preset,
    max_steps,
    num_examples=512,
    batch_size=32,
    repeats=5,
    weights=None,
    jit_compile=(False, True),
    **overrides,
):
    """Checks identity and times both loops at one T; a JSON-ready dict."""
    weights = weights or shipped_weights(preset)
    fixed, early = build_pair(preset, max_steps, weights, **overrides)
    batches = make_batches(fixed, num_examples, batch_size)
    result = {
        "preset": preset,
        "max_steps": max_steps,
        "weights": os.path.basename(weights) if weights else "random",
        "num_examples": num_examples,
        "batch_size": batch_size,
        **compare_outputs(fixed.model, early.model, batches),
        "timings": [],
    }
    for jit in jit_compile:
        fixed_s, early_s = (
            time_pass(workload.model, batches, jit, repeats)
            for workload in (fixed, early)
        )
        result["timings"].append(
            {
                "jit_compile": jit,
                "fixed_ms_per_example": 1000 * fixed_s / num_examples,
                "early_ms_per_example": 1000 * early_s / num_examples,
                "speedup": fixed_s / early_s,
            }
        )
    return result


def markdown(results):
    """The README section: one row per T and XLA setting."""
    rows = [
        [
            result["max_steps"],
            result["weights"],
            f"{result['num_examples']} / {result['batch_size']}",
            "on" if timing["jit_compile"] else "off",
            "yes" if result["identical"] else "**no**",
            f"{result['mean_steps_run']:.2f}",
            f"{timing['fixed_ms_per_example']:.3f}",
            f"{timing['early_ms_per_example']:.3f}",
            f"{timing['speedup']:.2f}×",
        ]
        for result in results
        for timing in result["timings"]
    ]
    header = [
        "T",
        "weights",
        "examples / batch",
        "XLA",
        "identical",
        "mean steps run",
        "fixed ms/example",
        "early ms/example",
        "speed-up",
    ]
    return f"Preset `{results[0]['preset']}`.\n\n" + table(header, rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="cosal", choices=sorted(BENCHMARKS))
    parser.add_argument("--max-steps", default="4,8")
    parser.add_argument("--num-examples", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--weights", help="backbone weights to load")
    add_report_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.num_examples, args.batch_size, args.repeats = 16, 8, 1
    results = [
        measure_early_exit(
            args.preset,
            int(steps),
            num_examples=args.num_examples,
            batch_size=args.batch_size,
            repeats=args.repeats,
            weights=args.weights,
        )
        for steps in args.max_steps.split(",")
    ]
    publish(args, SECTION, markdown(results), results)


if __name__ == "__main__":
    main()
