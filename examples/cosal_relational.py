"""Do CoSaL models follow relational sentences, and do their gates use it?

    python examples/cosal_relational.py \\
        --run "paper attention, T=4=runs/base_t4" \\
        --run "relational attention, T=4=runs/rel5_t4" \\
        --output results/cosal_relational.md

For each `--run` (`label=output_dir[@epoch]` of an `examples/train_cosal.py`
run, as in `cosal_by_depth.py`) and each CoSaL setting it was trained on,
the script scores the first `--examples` examples of the run's test split
(the examples `train_cosal` scores) and writes one row of an ablation
table:

- the paper's region IoU;
- the share of pixels given the right colour on tiles a direct sentence
  describes, and on tiles only a relational sentence describes (all depths);
- each region's stop step (1-based, from the termination gates; 1 for a
  one-step model), averaged over the regions of direct and of relational
  tiles: if the recurrence earns its keep, relational tiles take more steps;
- with `--robustness`, the region IoU change on the same examples with the
  sentences in shuffled order, and rasterised with integer coordinates
  (`cosal.generate(..., integer_coordinates=1.0)`).

The training budget of each run (examples seen, minutes) comes from its
`results.json`; `--output` is rewritten with every run given.
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
import shlex

import numpy as np
from cosal_by_depth import predict
from cosal_by_depth import run_models
from cosal_by_depth import tile_depths

from keras_lbie.datasets import cosal
from keras_lbie.metrics import CoSaLRegionIoU
from keras_lbie.training import cosal_test_splits

_HEADER = (
    "| model | num_direct | budget | region IoU | direct px | "
    "relational px | stop step direct / relational | "
    "shuffled Δ | integer Δ |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
)


def region_iou(classes, data):
    metric = CoSaLRegionIoU()
    metric.update_state(
        np.stack([data["label"], data["shape_map"]], axis=-1), classes
    )
    return float(metric.result()["cosal_region_iou"])


def tile_scores(classes, stop_steps, data):
    """Pixel accuracy and mean stop step of direct and relational tiles.

    Returns:
        `{"direct": (accuracy, stop step), "relational": (...)}`; a kind
        with no tile gives `(None, None)`.
    """
    grid = cosal.GRID_SIZE
    cells = stop_steps.shape[1] // grid
    scores = {"direct": ([], []), "relational": ([], [])}
    for k, text in enumerate(data["text"]):
        depths, _ = tile_depths(text, data["tile_shapes"][k])
        for tile, shape in enumerate(data["tile_shapes"][k]):
            pixels = data["shape_map"][k] == shape
            row, col = divmod(tile, grid)
            steps = stop_steps[
                k,
                row * cells : (row + 1) * cells,
                col * cells : (col + 1) * cells,
            ]
            kind = "relational" if depths[tile] else "direct"
            scores[kind][0].append(
                np.mean(classes[k][pixels] == data["label"][k][pixels])
            )
            scores[kind][1].append(np.mean(steps))
    return {
        kind: tuple(float(np.mean(v)) if v else None for v in values)
        for kind, values in scores.items()
    }


def score_run(segmenter, num_direct, examples, seed, robustness):
    """One table row's numbers for one setting of a run."""
    (split,) = cosal_test_splits((num_direct,), examples, seed)
    data = split.generate()
    classes, stop_steps = predict(segmenter, data)
    row = {
        "region_iou": region_iou(classes, data),
        **tile_scores(classes, stop_steps, data),
    }
    if robustness:
        for name, option in (
            ("shuffled", {"shuffle_sentences": True}),
            ("integer", {"integer_coordinates": 1.0}),
        ):
            variant = cosal.generate(
                examples, num_direct=num_direct, seed=seed + 1, **option
            )
            variant_classes, _ = predict(segmenter, variant)
            row[name] = region_iou(variant_classes, variant) - row["region_iou"]
    return row


def budget(output_dir):
    with open(os.path.join(output_dir.partition("@")[0], "results.json")) as f:
        return budget_of(json.load(f))


def budget_of(results):
    """Training examples seen and minutes, from a run's results.json."""
    seen = results["train_steps"] * results["batch_size"]
    return f"{seen / 1000:.0f}k ex, {results['train_seconds'] / 60:.0f} min"


def format_row(label, num_direct, run_budget, row):
    def number(value, sign=False):
        if value is None:
            return "—"
        return f"{value:+.4f}" if sign else f"{value:.4f}"

    direct, relational = row["direct"], row["relational"]
    steps = f"{number(direct[1])[:4]} / {number(relational[1])[:4]}"
    return (
        f"| {label} | {num_direct} | {run_budget} | "
        f"**{number(row['region_iou'])}** | {number(direct[0])} | "
        f"{number(relational[0])} | {steps} | "
        f"{number(row.get('shuffled'), True)} | "
        f"{number(row.get('integer'), True)} |\n"
    )


def logged_row(value):
    """A table row from a run's results.json alone (`label=path`)."""
    label, _, path = value.rpartition("=")
    if not label or not os.path.isfile(path):
        raise ValueError(
            "`--logged` must be label=path of a results.json. Received: "
            f"{value!r}"
        )
    with open(path) as f:
        results = json.load(f)
    seen = results["train_steps"] * results["batch_size"]
    run_budget = (
        f"{seen / 1000:.0f}k ex, {results['train_seconds'] / 60:.0f} min"
    )
    # results.json of older versions hold one setting's metrics only.
    by_setting = results.get("metrics_by_num_direct") or {
        results["num_direct"]: results["metrics"]
    }
    return "".join(
        f"| {label} | {n} | {run_budget} | "
        f"**{metrics['cosal_region_iou']:.4f}** "
        f"({results['test_examples']} ex) | — | — | — | — | — |\n"
        for n, metrics in by_setting.items()
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--run", action="append", default=[])
    parser.add_argument(
        "--logged",
        action="append",
        default=[],
        help="label=results.json of a run whose network this version of "
        "the package no longer builds: its own region IoU only",
    )
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--robustness", action="store_true")
    parser.add_argument("--output", default="results/cosal_relational.md")
    add_verbose_argument(parser)
    args = parser.parse_args(argv)
    models = run_models(args.run)
    lines = [logged_row(value) for value in args.logged]
    for value, (label, (segmenter, settings)) in zip(
        args.run, models.items(), strict=True
    ):
        run_budget = budget(value.rpartition("=")[2])
        for num_direct in settings:
            row = score_run(
                segmenter, num_direct, args.examples, args.seed, args.robustness
            )
            lines.append(format_row(label, num_direct, run_budget, row))
            print(lines[-1], end="", flush=True)
    with open(args.output, "w") as f:
        f.write(
            "# CoSaL relational sentences: ablation\n\n"
            f"Written by `{_command(argv)}` on the first {args.examples} "
            f"test examples of each setting (seed {args.seed + 1}). "
            "Budget: training examples seen and minutes (see each run's "
            "results.json). Direct / relational px: pixels given the right "
            "colour on tiles a direct / only a relational sentence "
            "describes. Stop step: 1-based, mean over the regions of those "
            "tiles. Δ: region IoU change with shuffled sentences and with "
            "integer-coordinate rasterisation. Rows with only a region IoU "
            "are runs of earlier designs (`--logged`), scored by "
            "`train_cosal` itself on its first test examples.\n\n" + _HEADER
        )
        f.writelines(lines)


def _command(argv):
    argv = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", "examples/cosal_relational.py", *argv])


if __name__ == "__main__":
    main()
