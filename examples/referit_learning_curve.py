"""Learning curves of ReferIt training runs, from their epoch checkpoints.

Scores every `checkpoints/epoch_<k>.weights.h5` of each run (written by
`examples/train_referit.py`) on the first `--max-queries` test queries of
`--data-dir`, with the same code as the run's own score
(`keras_lbie.training.evaluate_referit`, text blanked for runs trained
so), and draws precision@0.5 and overall IoU against training steps, one
line per run, beside the baselines of a results JSON (dashed). Writes
`--output`.png, `--output`.json (every point) and `--output`.md: each
run's own score on the whole test split (from its results JSON) beside
the baselines, in the layout of the paper's Table 3:

    python examples/referit_learning_curve.py \\
        --data-dir runs/referit_scenes_data \\
        --run runs/referit_small_scenes results/referit_scenes.json \\
        --run runs/referit_small_scenes_t1 results/referit_scenes_t1.json \\
        --baselines results/referit_scenes_baselines.json \\
        --output results/referit_scenes_curve

Each `--run` is a run's `--output-dir` and the results JSON it wrote
(which holds its steps per epoch, preset, T and text blanking).
"""

import sys

from keras_lbie.utils.tensorflow_logs import add_verbose_argument
from keras_lbie.utils.tensorflow_logs import quiet_tensorflow_logs

if __name__ == "__main__":
    # Before TensorFlow loads: hide its log lines unless --verbose.
    quiet_tensorflow_logs(sys.argv[1:])

import argparse
import glob
import json
import os
import re

from keras_lbie.cli.common import load_keras_file
from keras_lbie.models import ReferItSegmenter
from keras_lbie.training import evaluate_referit
from keras_lbie.training import format_table3
from keras_lbie.training import run_label
from keras_lbie.utils.atomic_files import write_json_atomically

sys.path.insert(
    0,
    os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks"
    ),
)
from plot import COLORS  # noqa: E402
from plot import draw_panels  # noqa: E402

METRICS = (("precision@0.5", "precision@0.5"), ("overall_iou", "overall IoU"))
# Greys for the baselines, apart from the runs' colours.
BASELINE_COLORS = ((90, 90, 90), (160, 160, 160))
BASELINE_LABELS = {
    "whole_image": "whole image",
    "category_only": "category-only oracle",
    "true_tile": "true tile oracle",
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data-dir", required=True)
    parser.add_argument(
        "--run",
        nargs=2,
        action="append",
        required=True,
        metavar=("OUTPUT_DIR", "RESULTS_JSON"),
    )
    parser.add_argument("--baselines", help="a results JSON with baselines")
    parser.add_argument("--max-queries", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--output", default="results/referit_curve")
    add_verbose_argument(parser)
    return parser.parse_args(argv)


def checkpoints(output_dir):
    """`[(epoch, path), ...]` of a run's epoch checkpoints, in order."""
    paths = glob.glob(os.path.join(output_dir, "checkpoints", "*.weights.h5"))
    found = []
    for path in paths:
        match = re.fullmatch(
            r"epoch_(\d+)\.weights\.h5", os.path.basename(path)
        )
        if match:
            found.append((int(match.group(1)), path))
    if not found:
        raise SystemExit(f"{output_dir}/checkpoints holds no epoch checkpoint")
    return sorted(found)


def score_run(output_dir, results_json, args):
    """The run's label, its points `[{"step", "epoch", metrics...}, ...]`
    and its own score on the whole test split (from its results JSON)."""
    with open(results_json) as f:
        results = json.load(f)
    training = results["training"]
    segmenter = load_keras_file(
        os.path.join(output_dir, "model.keras"), ReferItSegmenter
    )
    points = []
    for epoch, path in checkpoints(output_dir):
        segmenter.backbone.load_weights(path)
        metrics = evaluate_referit(
            segmenter,
            args.data_dir,
            batch_size=args.batch_size,
            max_queries=args.max_queries,
            blank_text=bool(training.get("blank_text")),
        )
        step = epoch * training["steps_per_epoch"]
        points.append({"epoch": epoch, "step": step, **metrics})
        print(
            f"{run_label(training)} step {step}: precision@0.5 "
            f"{metrics['precision@0.5']:.4f}, overall IoU "
            f"{metrics['overall_iou']:.4f}"
        )
    return run_label(training), points, results["test"]["ours"]


def baseline_scores(path):
    if not path:
        return {}
    with open(path) as f:
        test = json.load(f)["test"]
    return {name: test[name] for name in BASELINE_LABELS if name in test}


def table(final_scores, baselines):
    """The runs' and baselines' whole-test-split scores as Table 3."""
    rows = {f"Ours: {label}": score for label, score in final_scores.items()}
    for name, scores in baselines.items():
        rows[f"Baseline: {BASELINE_LABELS[name]}"] = scores
    return format_table3(rows)


def draw(curves, baselines, path):
    last_step = max(p["step"] for points in curves.values() for p in points)
    panels = []
    for metric, title in METRICS:
        series = [
            {
                "label": label.replace("`", ""),
                "color": COLORS[index % len(COLORS)],
                "points": [(p["step"], p[metric]) for p in points],
            }
            for index, (label, points) in enumerate(curves.items())
        ]
        for index, (name, scores) in enumerate(baselines.items()):
            series.append(
                {
                    "label": BASELINE_LABELS[name],
                    "color": BASELINE_COLORS[index % len(BASELINE_COLORS)],
                    "points": [
                        (0, scores[metric]),
                        (last_step, scores[metric]),
                    ],
                    "dashed": True,
                }
            )
        panels.append(
            {
                "title": f"test {title}",
                "x_label": "training steps",
                "y_label": title,
                "x_ticks": [(0, "0"), (last_step, str(last_step))],
                "log_x": False,
                "series": series,
            }
        )
    draw_panels(panels, path)


def main(argv=None):
    args = parse_args(argv)
    scored = [score_run(run, results, args) for run, results in args.run]
    curves = {label: points for label, points, _ in scored}
    final_scores = {label: score for label, _, score in scored}
    baselines = baseline_scores(args.baselines)
    draw(curves, baselines, args.output + ".png")
    with open(args.output + ".md", "w") as f:
        f.write(table(final_scores, baselines))
    write_json_atomically(
        args.output + ".json",
        {
            "data_dir": args.data_dir,
            "max_queries": args.max_queries,
            "curves": curves,
            "final_scores": final_scores,
            "baselines": baselines,
        },
    )
    print(f"Wrote {args.output}.png, .md and .json")
    return curves


if __name__ == "__main__":
    main()
