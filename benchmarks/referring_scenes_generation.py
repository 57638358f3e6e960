"""Measures how fast `referit.write_referring_scenes` writes a folder.

Usage: python benchmarks/referring_scenes_generation.py [--num_images 2000]
    [--repeats 2]

Writes `--num_images` images with `write_referring_scenes` (64-128 px
sides, 3-6 objects) and, side by side in the same run, with the CoSaL
writer `write_referit_format` at 96 × 128 px (9 objects), each into a
temporary folder, and prints the best of `--repeats` runs of each in
images a minute, their ratio and the CPU's vector flags. Everything a
writer does counts: drawing, JPEG and mask files, the JSON files.
"""

import argparse
import tempfile
import time

from keras_lbie.datasets import referit
from keras_lbie.utils.hardware import vector_flags


def _images_per_minute(write, num_images, repeats):
    best = float("inf")
    for seed in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            write(folder, num_images, seed=seed)
            best = min(best, time.perf_counter() - start)
    return 60 * num_images / best, best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num_images", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    writers = {
        "write_referring_scenes": referit.write_referring_scenes,
        "write_referit_format (CoSaL, 96x128)": lambda folder, n, seed: (
            referit.write_referit_format(
                folder, n, seed=seed, image_size=(96, 128)
            )
        ),
    }
    rates = {}
    for name, write in writers.items():
        rate, seconds = _images_per_minute(write, args.num_images, args.repeats)
        rates[name] = rate
        print(
            f"{name}: {args.num_images} images in {seconds:.1f} s: "
            f"{rate:,.0f} images/min"
        )
    first, second = rates.values()
    print(f"ratio (scenes / CoSaL writer): {first / second:.2f}")
    print(f"CPU flags: {' '.join(vector_flags()) or 'none'}")


if __name__ == "__main__":
    main()
