"""Measures CoSaL generation speed.

Usage: python benchmarks/cosal_generation.py [--num_examples 50000]
    [--image_size 48] [--num_direct 4] [--repeats 3]

Prints the best of `--repeats` runs of `cosal.generate(...)` in examples/s.
"""

import argparse
import time

from keras_lbie.datasets import cosal


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num_examples", type=int, default=50_000)
    parser.add_argument("--image_size", type=int, default=48)
    parser.add_argument("--num_direct", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    best = float("inf")
    for seed in range(args.repeats):
        start = time.perf_counter()
        cosal.generate(
            args.num_examples,
            num_direct=args.num_direct,
            image_size=args.image_size,
            seed=seed,
        )
        best = min(best, time.perf_counter() - start)
    print(
        f"cosal.generate: {args.num_examples} examples at {args.image_size} px "
        f"in {best:.2f} s: {args.num_examples / best:,.0f} examples/s"
    )


if __name__ == "__main__":
    main()
