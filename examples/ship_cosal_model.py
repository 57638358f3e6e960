"""Ship a trained `cosal` run as the preset's weights, with its results table.

    python examples/train_cosal.py --preset cosal --num-direct 4,6,8 \\
        --relation-kernel-size 5 --train 150000 --epochs 5 --cosine-decay \\
        --shuffle-sentences --jitter 2 --integer-coordinates 0.5 \\
        --output-dir runs/cosal_mixed
    python examples/ship_cosal_model.py --run-dir runs/cosal_mixed

Copies the run's backbone weights into the package
(`keras_lbie/models/weights/cosal.weights.h5`, which the `cosal` preset
loads) and its `results.json` to `results/cosal_preset.json`, and writes
`results/cosal_preset.md`: the region IoU on each setting's 10,000 test
examples against the 0.95 target and the paper's T=4 row. The run must
have trained the preset's own configuration (its overrides match the
preset's config), so that `LBIESegmenter.from_preset("cosal")` rebuilds the
network the weights belong to.
"""

import argparse
import json
import os
import shutil

from keras_lbie.models.lbie_segmenter.lbie_segmenter_presets import PRESETS

WEIGHTS_PATH = os.path.join(
    "keras_lbie", "models", "weights", "cosal.weights.h5"
)
RESULTS_JSON = os.path.join("results", "cosal_preset.json")
RESULTS_TABLE = os.path.join("results", "cosal_preset.md")
TARGET = 0.95
# The paper's Table 2, T=4 with attention.
PAPER_T4 = {"4": 0.5033, "6": 0.5313, "8": 0.7017}


def table(results):
    by_setting = results["metrics_by_num_direct"]
    rows = "".join(
        f"| {n} | **{by_setting[n]['cosal_region_iou']:.4f}** | "
        f"{by_setting[n]['color_mean_iou']:.4f} | {PAPER_T4[n]} | "
        + (
            "met"
            if by_setting[n]["cosal_region_iou"] >= TARGET
            else "**missed**"
        )
        + " |\n"
        for n in sorted(by_setting)
    )
    return (
        "# The shipped `cosal` preset: CoSaL region IoU\n\n"
        "One model trained on num_direct 4, 6 and 8 together "
        f"({results['train_examples']:,} training examples in equal parts"
        + _augmentation(results)
        + ", "
        f"{results['epochs']} epochs, {results['train_steps']:,} steps × "
        f"batch {results['batch_size']}, Adam {results['learning_rate']}"
        + (" with cosine decay" if results.get("cosine_decay") else "")
        + f"; {results['train_seconds'] / 60:.0f} min on 2 CPU cores, "
        "shared with other jobs), evaluated on each setting's 10,000 test "
        "examples. Written by `python examples/ship_cosal_model.py`; the "
        "training command is in its docstring.\n\n"
        "| num_direct | region IoU | colour mean IoU | paper, T=4 | "
        f"target ≥ {TARGET} |\n"
        "| --- | --- | --- | --- | --- |\n" + rows
    )


def _augmentation(results):
    """How the training examples were augmented, as a phrase."""
    options = results.get("augmentation") or {}
    parts = []
    if options.get("shuffle_sentences"):
        parts.append("sentences in random order")
    if options.get("jitter"):
        parts.append(f"shapes moved by up to {options['jitter']} px")
    if options.get("integer_coordinates"):
        parts.append(
            f"{options['integer_coordinates']:.0%} rasterised with integer "
            "coordinates"
        )
    return f", augmented: {', '.join(parts)}" if parts else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-dir", default="runs/cosal_mixed")
    args = parser.parse_args()
    with open(os.path.join(args.run_dir, "results.json")) as f:
        results = json.load(f)
    if results["preset"] != "cosal":
        raise SystemExit(f"{args.run_dir} trained {results['preset']!r}")
    preset = PRESETS["cosal"]["config"]
    differing = {
        name: value
        for name, value in results["overrides"].items()
        if name != "seed" and preset[name] != value
    }
    if differing:
        raise SystemExit(
            f"{args.run_dir} overrides the preset's {differing}: set them "
            "in the `cosal` preset first."
        )
    shutil.copy(os.path.join(args.run_dir, "model.weights.h5"), WEIGHTS_PATH)
    shutil.copy(os.path.join(args.run_dir, "results.json"), RESULTS_JSON)
    text = table(results)
    with open(RESULTS_TABLE, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
