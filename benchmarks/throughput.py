"""Measures a preset's training or inference throughput.

Usage: python benchmarks/throughput.py --preset cosal --mode train|infer
    [--batch-size 32] [--jit-compile] [--mixed-precision bfloat16]
    [--steps 20] [--repeats 5] [--warmup 3] [--image-size S]
    [--max-steps T] [--max-sentences L] [--early-exit] [--weights PATH]
    [--json]

Training runs Keras's own train function (`make_train_function`, what
`fit` runs) on one batch held in a `tf.data` iterator; inference calls the
model with `training=False` in a `tf.function(jit_compile=...)` that
returns only the timed output. The first `--warmup` steps (tracing, XLA
compilation) are excluded; then `--repeats` runs of `--steps` steps each
are timed and the median run is reported. FLOPs per example are counted
from the traced graph (`flops.py`), peak memory is the process's maximum
resident set size (see benchmarks/README.md).
"""

import argparse
import contextlib
import json
import os
import resource
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from flops import count_flops  # noqa: E402
from workloads import BENCHMARKS  # noqa: E402

MODES = ("train", "infer")
PRECISIONS = {None: "float32", "bfloat16": "mixed_bfloat16"}
# CLI flag → preset override; absent flags keep the preset's value.
_OVERRIDE_FLAGS = ("image_size", "max_steps", "max_sentences", "early_exit")


def measure(
    preset,
    mode,
    batch_size,
    jit_compile=False,
    mixed_precision=None,
    steps=20,
    repeats=5,
    warmup=3,
    weights=None,
    **overrides,
):
    """Times one preset configuration; returns a JSON-ready dict.

    Args:
        preset: a name from `workloads.BENCHMARKS`.
        mode: `"train"` or `"infer"`.
        batch_size: examples per step.
        jit_compile: bool, XLA-compile the step.
        mixed_precision: None (float32) or `"bfloat16"`
            (`mixed_bfloat16`: bfloat16 compute, float32 weights).
        steps: steps per timed run.
        repeats: timed runs; the median is reported.
        warmup: untimed steps first (at least 1: tracing, compilation).
        weights: optional weights file for the model.
        **overrides: preset overrides (`max_steps`, `image_size`, ...).

    Returns:
        A dict: the configuration, `examples_per_s` and `step_ms` (median
        run), `step_ms_runs` (every run), `first_step_s` (tracing and
        compilation included), `flops_per_example`, `gflops_per_s`
        (achieved), `uncounted_loops`, `peak_rss_mb` and `rss_delta_mb`.
    """
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {MODES}. Received: {mode!r}")
    if preset not in BENCHMARKS:
        raise ValueError(
            f"Unknown preset {preset!r}. Available: {sorted(BENCHMARKS)}"
        )
    if mixed_precision not in PRECISIONS:
        raise ValueError(
            "`mixed_precision` must be None or 'bfloat16'. Received: "
            f"{mixed_precision!r}"
        )
    with _dtype_policy(PRECISIONS[mixed_precision]):
        rss_before = max_rss_mb()
        workload = BENCHMARKS[preset].build(weights=weights, **overrides)
        x, y = tf.nest.map_structure(
            tf.constant, workload.make_batch(batch_size, 0)
        )
        runner = _RUNNERS[mode](workload, x, y, jit_compile)
        first_step_s, runs = _time_runs(runner.step, steps, repeats, warmup)
        flops, uncounted = count_flops(runner.concrete_function())
    peak_rss_mb = max_rss_mb()
    step_s = statistics.median(runs)
    flops_per_example = flops / batch_size
    return {
        "preset": preset,
        "mode": mode,
        "batch_size": batch_size,
        "jit_compile": runner.jit_compile,
        "precision": PRECISIONS[mixed_precision],
        "trained_weights": workload.trained,
        **workload.settings,
        "steps": steps,
        "repeats": repeats,
        "warmup": warmup,
        "examples_per_s": batch_size / step_s,
        "step_ms": 1000 * step_s,
        "step_ms_runs": [1000 * run for run in runs],
        "first_step_s": first_step_s,
        "flops_per_example": flops_per_example,
        "gflops_per_s": flops_per_example * batch_size / step_s / 1e9,
        "uncounted_loops": uncounted,
        "peak_rss_mb": peak_rss_mb,
        "rss_delta_mb": peak_rss_mb - rss_before,
    }


def max_rss_mb():
    """The process's peak resident memory so far, in MiB (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_seconds(run, repeats):
    """The median wall time of `repeats` calls of `run()`."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _time_runs(step, steps, repeats, warmup):
    """`(first step's seconds, seconds per step of each timed run)`."""
    start = time.perf_counter()
    step()
    first_step_s = time.perf_counter() - start
    for _ in range(warmup - 1):
        step()
    return first_step_s, [_time_steps(step, steps) for _ in range(repeats)]


def _time_steps(step, steps):
    """Seconds per step over `steps` consecutive steps."""
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


@contextlib.contextmanager
def _dtype_policy(name):
    previous = keras.config.dtype_policy().name
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


class _TrainRunner:
    """Keras's train function on one batch repeated by `tf.data`."""

    def __init__(self, workload, x, y, jit_compile):
        self.model = workload.model
        workload.compile_for_training(jit_compile)
        self.model.make_train_function()
        self.jit_compile = bool(self.model.jit_compile)
        self.loss = workload.loss
        self.batch = (x, y)
        self.iterator = iter(tf.data.Dataset.from_tensors(self.batch).repeat())

    def step(self):
        # Reading the loss waits for the step, as `fit`'s logs do.
        return float(self.model.train_function(self.iterator)[self.loss])

    def concrete_function(self):
        # The step `make_train_function` wraps, traced after warm-up so the
        # optimizer's variables exist; tracing runs nothing.
        spec = tf.nest.map_structure(tf.TensorSpec.from_tensor, self.batch)
        return tf.function(self.model.train_step).get_concrete_function(spec)


class _InferRunner:
    """`model(x, training=False)[output]` in a `tf.function`."""

    def __init__(self, workload, x, y, jit_compile):
        model, output = workload.inference_model, workload.output
        self.function = tf.function(
            lambda x: model(x, training=False)[output],
            jit_compile=jit_compile,
        )
        self.jit_compile = jit_compile
        self.x = x

    def step(self):
        return self.function(self.x).numpy()

    def concrete_function(self):
        spec = tf.nest.map_structure(tf.TensorSpec.from_tensor, self.x)
        return self.function.get_concrete_function(spec)


_RUNNERS = {"train": _TrainRunner, "infer": _InferRunner}


def describe(result):
    """One human-readable line of a `measure` result."""
    return (
        f"{result['preset']} {result['mode']} batch {result['batch_size']} "
        f"XLA {'on' if result['jit_compile'] else 'off'} "
        f"{result['precision']}: {result['examples_per_s']:,.1f} examples/s, "
        f"{result['step_ms']:.1f} ms/step, "
        f"{result['flops_per_example'] / 1e6:,.2f} MFLOP/example, "
        f"{result['gflops_per_s']:.2f} GFLOP/s, "
        f"peak RSS {result['peak_rss_mb']:,.0f} MiB "
        f"(+{result['rss_delta_mb']:,.0f})"
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True, choices=sorted(BENCHMARKS))
    parser.add_argument("--mode", required=True, choices=MODES)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--jit-compile", action="store_true")
    parser.add_argument("--mixed-precision", choices=["bfloat16"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--image-size", type=int)
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--max-sentences", type=int)
    parser.add_argument("--early-exit", action="store_true", default=None)
    parser.add_argument("--weights", help="weights file to load")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON line"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    overrides = {
        flag: getattr(args, flag)
        for flag in _OVERRIDE_FLAGS
        if getattr(args, flag) is not None
    }
    result = measure(
        args.preset,
        args.mode,
        args.batch_size or BENCHMARKS[args.preset].batch_size,
        jit_compile=args.jit_compile,
        mixed_precision=args.mixed_precision,
        steps=args.steps,
        repeats=args.repeats,
        warmup=args.warmup,
        weights=args.weights,
        **{**BENCHMARKS[args.preset].overrides, **overrides},
    )
    print(json.dumps(result) if args.json else describe(result))


if __name__ == "__main__":
    main()
