"""Reproduce the paper's Table 2 (CoSaL average IoU) and write it as markdown.

    python examples/cosal_table2.py --train-missing --epochs 10
    python examples/cosal_table2.py            # only rewrite the table

Every cell is one run of `examples/train_cosal.py` on the full 50,000/10,000
splits of one `num_direct` setting; its checkpoints and logs stay in
`--runs-dir/<cell>/` and its `results.json` is copied to
`results/cosal_table2/<cell>.json`, which is committed. With
`--train-missing`, cells without results are trained first, the paper's T=4
row first (each takes 30-50 minutes on 2 CPU cores); the table is then
written from every result found, with the paper's numbers beside ours, the
training budget of each cell, and whether the issue's targets are met.

Cells can also train side by side, one process and one thread each (the
small `cosal_paper` model keeps two threads only partly busy):

    python examples/cosal_table2.py --train-missing --threads 1 \\
        --cells t1_no_attention_nd4,t1_no_attention_nd6 &
    python examples/cosal_table2.py --train-missing --threads 1 \\
        --cells t4_attention_expected_nd4 &
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
import shutil

import tensorflow as tf
import train_cosal

NUM_DIRECT = (4, 6, 8)
RESULTS_DIR = os.path.join("results", "cosal_table2")
# The weights of these settings' cells are committed too (0.6 MB each), for
# examples/cosal_by_depth.py: with num_direct=4 most tiles are described by
# relational sentences.
KEEP_WEIGHTS_FOR = (4,)
# Row name → (label, train_cosal overrides, paper's numbers per num_direct).
ROWS = {
    "t1_no_attention": (
        "T=1, no attention",
        ["--max-steps", "1", "--no-attention"],
        (0.2107, 0.2499, 0.3186),
    ),
    "t1_attention": (
        "T=1, attention",
        ["--max-steps", "1"],
        (0.4030, 0.5220, 0.7097),
    ),
    "t4_attention_gumbel": (
        "T=4, attention, Gumbel-softmax (paper)",
        ["--max-steps", "4", "--termination-mode", "gumbel"],
        (0.5033, 0.5313, 0.7017),
    ),
    "t4_attention_expected": (
        "T=4, attention, expected loss (released code)",
        ["--max-steps", "4", "--termination-mode", "expected"],
        (0.5033, 0.5313, 0.7017),
    ),
    # Ours: the paper's model with `RelationalTextAttention`.
    "t4_relational_expected": (
        "T=4, relational attention (ours), expected loss",
        [
            "--max-steps", "4", "--termination-mode", "expected",
            "--relation-kernel-size", "5",
        ],
        (0.5033, 0.5313, 0.7017),
    ),
}  # fmt: skip


# The targets hinge on the T=4 rows and on T=1 at num_direct=4: train those
# first so a partial run answers the most.
TRAINING_ORDER = (
    [("t4_attention_gumbel", n) for n in NUM_DIRECT]
    + [("t1_attention", 4), ("t4_attention_expected", 4)]
    + [("t1_no_attention", n) for n in NUM_DIRECT]
    + [("t1_attention", 6), ("t1_attention", 8)]
    + [("t4_attention_expected", 6), ("t4_attention_expected", 8)]
    + [("t4_relational_expected", n) for n in NUM_DIRECT]
)


def cell_name(row, num_direct):
    return f"{row}_nd{num_direct}"


def result_path(row, num_direct):
    return os.path.join(RESULTS_DIR, cell_name(row, num_direct) + ".json")


def load_results():
    results = {}
    for row in ROWS:
        for num_direct in NUM_DIRECT:
            path = result_path(row, num_direct)
            if os.path.exists(path):
                with open(path) as f:
                    results[row, num_direct] = json.load(f)
    return results


def cells_to_train(names=None):
    """The untrained `(row, num_direct)` cells, in `TRAINING_ORDER`.

    Args:
        names: None for every cell, else a list of cell names
            (`cell_name`), e.g. to train two cells side by side in two
            processes.

    Raises:
        ValueError: a name in `names` is not a cell of the table.
    """
    if names is not None:
        known = {cell_name(row, n): (row, n) for row, n in TRAINING_ORDER}
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise ValueError(
                f"`--cells` must name cells of the table, like "
                f"{next(iter(known))}. Unknown: {unknown}"
            )
    return [
        (row, num_direct)
        for row, num_direct in TRAINING_ORDER
        if (names is None or cell_name(row, num_direct) in names)
        and not os.path.exists(result_path(row, num_direct))
    ]


def train_missing(args):
    os.makedirs(RESULTS_DIR, exist_ok=True)
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    for row, num_direct in cells_to_train(args.cells):
        output_dir = os.path.join(args.runs_dir, cell_name(row, num_direct))
        train_cosal.main(
            [
                "--preset", args.preset,
                "--num-direct", str(num_direct),
                "--epochs", str(args.epochs),
                "--output-dir", output_dir,
                *ROWS[row][1],
            ]
        )  # fmt: skip
        save_cell_result(output_dir, row, num_direct, args.threads)


def save_cell_result(output_dir, row, num_direct, threads=None):
    """Copies a run's results.json into the table, with its thread count,
    and its weights too for the settings in `KEEP_WEIGHTS_FOR`.

    Args:
        output_dir: the run's `train_cosal` output folder.
        row, num_direct: the cell.
        threads: None if the run had the machine to itself, else the
            intra-op threads it was limited to (another cell ran beside
            it, so its minutes are not those of a lone run).
    """
    with open(os.path.join(output_dir, "results.json")) as f:
        result = json.load(f)
    if threads:
        result["intra_op_threads"] = threads
    path = result_path(row, num_direct)
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    if num_direct in KEEP_WEIGHTS_FOR:
        shutil.copy(
            os.path.join(output_dir, "model.weights.h5"),
            path.replace(".json", ".weights.h5"),
        )


def cell(result, paper):
    if result is None:
        return f"not run ({paper:.4f})"
    ours = result["metrics"]["cosal_region_iou"]
    return f"**{ours:.4f}** ({paper:.4f})"


def budget(results, row):
    runs = [results[row, n] for n in NUM_DIRECT if (row, n) in results]
    if not runs:
        return "—"
    steps = {r["train_steps"] for r in runs}
    minutes = ", ".join(
        f"{r['train_seconds'] / 60:.0f}" + ("*" if _shared(r) else "")
        for r in runs
    )
    return (
        f"{'/'.join(str(s) for s in sorted(steps))} steps × batch "
        f"{runs[0]['batch_size']}; {minutes} min"
    )


def _shared(result):
    return "intra_op_threads" in result


def target_lines(results):
    lines = []
    paper_row = ROWS["t4_attention_gumbel"][2]
    for row in (
        "t4_attention_gumbel",
        "t4_attention_expected",
        "t4_relational_expected",
    ):
        cells = [results.get((row, n)) for n in NUM_DIRECT]
        below = [
            f"num_direct={n}: {r['metrics']['cosal_region_iou']:.4f} < {p}"
            for n, r, p in zip(NUM_DIRECT, cells, paper_row, strict=True)
            if r is not None and r["metrics"]["cosal_region_iou"] < p
        ]
        if below:
            verdict = f"**missed** ({'; '.join(below)})"
        elif None in cells:
            verdict = "not every cell has run yet"
        else:
            verdict = "met"
        lines.append(
            f"- {ROWS[row][0]} at or above the paper's T=4 row in every "
            f"cell: {verdict}."
        )
    t1, t4 = (
        results.get(("t1_attention", 4)),
        results.get(("t4_attention_gumbel", 4)),
    )
    if t1 and t4:
        met = (
            t4["metrics"]["cosal_region_iou"]
            >= t1["metrics"]["cosal_region_iou"]
        )
        lines.append(
            "- T=4 ≥ T=1 on num_direct=4: " + ("met." if met else "**missed**.")
        )
    lines.append(time_to_paper_line(results.get(("t4_attention_gumbel", 8))))
    return lines


def time_to_paper_line(result):
    """When the T=4 num_direct=8 run first matched the paper's number."""
    paper = ROWS["t4_attention_gumbel"][2][NUM_DIRECT.index(8)]
    label = (
        "- Wall-clock to reach the paper's T=4 number on num_direct=8 "
        f"({paper})"
    )
    if result is None or not result.get("history"):
        return f"{label}: not recorded yet (needs a run with its history)."
    steps_per_epoch = result["train_steps"] // result["epochs"]
    examples = result.get("history_examples", "the first")
    for epoch in result["history"]:
        if epoch["cosal_region_iou"]["8"] >= paper:
            return (
                f"{label}: {epoch['train_seconds'] / 60:.0f} min, after epoch "
                f"{epoch['epoch']} ({epoch['epoch'] * steps_per_epoch} steps "
                f"× batch {result['batch_size']}; region IoU "
                f"{epoch['cosal_region_iou']['8']:.4f} on {examples} test "
                "examples, scored after every epoch)."
            )
    return f"{label}: not reached in {result['train_steps']} steps."


def write_table(results, path, preset):
    header = (
        "| model | num_direct=4 | num_direct=6 | num_direct=8 | budget |\n"
        "| --- | --- | --- | --- | --- |\n"
    )
    rows = "".join(
        f"| {label} | "
        + " | ".join(
            cell(results.get((row, n)), p)
            for n, p in zip(NUM_DIRECT, paper, strict=True)
        )
        + f" | {budget(results, row)} |\n"
        for row, (label, _, paper) in ROWS.items()
    )
    text = (
        f"# CoSaL, paper Table 2: average region IoU (`{preset}` preset)\n\n"
        "Ours in bold, the paper's number in brackets. Written by "
        "`python examples/cosal_table2.py`; every cell is one run of "
        "`examples/train_cosal.py` on the full 50,000/10,000 splits, "
        "evaluated on all 10,000 test examples. Budget: training steps and "
        "wall-clock minutes per cell (num_direct 4, 6, 8) on 2 CPU cores. "
        "The authors trained 200k steps at batch size 1."
        + (
            " Minutes marked * are of a cell trained beside another one "
            "(`--threads 1`: one intra-op thread each), so they are longer "
            "than a lone run's."
            if any(_shared(r) for r in results.values())
            else ""
        )
        + "\n\n"
        + header
        + rows
        + "\nTargets:\n\n"
        + "\n".join(target_lines(results))
        + "\n"
    )
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    print(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs-dir", default="runs/table2")
    parser.add_argument("--preset", default="cosal_paper")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--train-missing", action="store_true")
    parser.add_argument(
        "--cells",
        type=lambda text: text.split(","),
        help="comma-separated cells to train (default: every missing one)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="intra-op threads, to run two cells side by side on 2 cores",
    )
    parser.add_argument("--output", default="results/cosal_table2.md")
    add_verbose_argument(parser)
    args = parser.parse_args()
    if args.train_missing:
        train_missing(args)
    write_table(load_results(), args.output, args.preset)


if __name__ == "__main__":
    main()
