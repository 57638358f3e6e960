"""Measures this machine's attainable matmul FLOP/s, fp32 and bf16.

Usage: python benchmarks/peak.py [--sizes 2048,4096] [--repeats 5] [--json]

Times square `tf.matmul`s of each size in a `tf.function`, with and
without XLA, and reports the best of `--repeats` calls (after one untimed
call) in GFLOP/s, 2 n^3 FLOPs each. The best fp32 figure is the "peak" the
throughput tables divide by. bf16 is reported as natively supported only
when the CPU has AVX512-BF16 or AMX-BF16; without them TensorFlow emulates
it and the figure only shows what bf16 costs here.
"""

import argparse
import json
import os
import platform
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

from keras_lbie.utils.hardware import BF16_FLAGS  # noqa: E402
from keras_lbie.utils.hardware import bf16_native  # noqa: E402
from keras_lbie.utils.hardware import cpu_flags  # noqa: E402
from keras_lbie.utils.hardware import cpuinfo_lines  # noqa: E402

DTYPES = ("float32", "bfloat16")


def measure_peak(size=(2048, 4096), repeats=5, dtypes=DTYPES):
    """Best matmul GFLOP/s per dtype, with and without XLA.

    Args:
        size: int, the square matrices' size, or several (the best is
            kept).
        repeats: timed calls per setting (after one untimed call).
        dtypes: dtype names.

    Returns:
        A dict: `"gflops"` `{dtype: {"xla": .., "no_xla": ..}}` (best over
        sizes), `"peak_gflops"` `{dtype: best of both}`, `"sizes"`,
        `"repeats"`, `"bf16_native"` and `"machine"` (`machine_info()`).
    """
    sizes = (size,) if isinstance(size, int) else tuple(size)
    gflops = {
        dtype: {
            name: max(
                _matmul_gflops(size, dtype, jit, repeats) for size in sizes
            )
            for name, jit in (("no_xla", False), ("xla", True))
        }
        for dtype in dtypes
    }
    return {
        "gflops": gflops,
        "peak_gflops": {dtype: max(gflops[dtype].values()) for dtype in gflops},
        "sizes": list(sizes),
        "repeats": repeats,
        "bf16_native": bf16_native(),
        "machine": machine_info(),
    }


def _matmul_gflops(size, dtype, jit_compile, repeats):
    a = tf.random.stateless_normal((size, size), (1, 2), dtype=dtype)
    b = tf.random.stateless_normal((size, size), (3, 4), dtype=dtype)
    matmul = tf.function(tf.matmul, jit_compile=jit_compile)
    matmul(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def machine_info():
    """CPU model, logical cores and library versions, for the tables."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpuinfo_lines()
            if line.startswith("model name")
        ),
        platform.processor() or platform.machine(),
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "vector_flags": sorted(
            cpu_flags() & {"avx2", "fma", "avx512f", *BF16_FLAGS}
        ),
        "tensorflow": tf.__version__,
        "python": platform.python_version(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2048,4096")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    result = measure_peak(sizes, args.repeats)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['machine']}; bf16 native: {result['bf16_native']}")
    for dtype, by_xla in result["gflops"].items():
        print(
            f"{dtype}: {by_xla['no_xla']:.1f} GFLOP/s without XLA, "
            f"{by_xla['xla']:.1f} with XLA"
        )


if __name__ == "__main__":
    main()
