"""The real training loop of this checkout against an older one, in one run.

Usage: python benchmarks/training_speedup.py --baseline DIR
    [--presets cosal_paper,cosal] [--repeats 3] [--examples 4800]
    [--accuracy-examples 20000] [--accuracy-epochs 2] [--quick]
    [--readme PATH] [--json]

`DIR` is a checkout of the package to compare with (e.g. `git worktree
add --detach ../baseline COMMIT`). For each preset, `training_loop.py`
times the real loop (and the bare step) of the baseline and of this
checkout (its defaults: float32, no XLA; and `--precision auto`), one
repeat each in turn, A/B/C/A/B/C..., in fresh processes, so that all
see the same machine load; the speed-up is the ratio of the medians.
Then each trains once for `--accuracy-examples` examples ×
`--accuracy-epochs` epochs with `examples/train_cosal.py` (same seed,
same data) and is scored on 1,000 test examples, so that the speed-ups
are read at equal accuracy. Writes its section of benchmarks/README.md
on a full run.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from report import publish
from report import table

from keras_lbie.utils.hardware import cpu_flags

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SECTION = "training-speedup"
# (name, checkout, `lbie train` flags); None: the `--baseline` checkout.
VARIANTS = (
    ("baseline", None, []),
    ("this", ROOT, []),
    ("this, --precision auto", ROOT, ["--precision", "auto"]),
)
ACCURACY_TEST_EXAMPLES = 1000
REPORTED_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


def run_python(checkout, args):
    """Runs `python ARGS` with `checkout` first on the path; its stdout."""
    env = {**os.environ, "PYTHONPATH": checkout}
    process = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=HERE,
    )
    if process.returncode:
        lines = process.stderr.strip().splitlines() or ["no output"]
        raise RuntimeError(f"{' '.join(args)} failed: {lines[-1]}")
    return process.stdout


def time_variant(checkout, flags, preset, examples):
    """One `training_loop.py` repeat: its JSON result."""
    stdout = run_python(
        checkout,
        [
            os.path.join(HERE, "training_loop.py"),
            *("--preset", preset, "--examples", str(examples)),
            *("--repeats", "1", "--json", "--", *flags),
        ],
    )
    return json.loads(stdout.strip().splitlines()[-1])


def train_accuracy(checkout, flags, preset, examples, epochs):
    """Region IoU and wall-clock of one `examples/train_cosal.py` run."""
    with tempfile.TemporaryDirectory() as output_dir:
        run_python(
            checkout,
            [
                os.path.join(ROOT, "examples", "train_cosal.py"),
                *("--preset", preset, "--train", str(examples)),
                *("--epochs", str(epochs), "--history-examples", "0"),
                *("--test", str(ACCURACY_TEST_EXAMPLES)),
                *("--output-dir", output_dir, *flags),
            ],
        )
        with open(os.path.join(output_dir, "results.json")) as file:
            results = json.load(file)
    return {
        "cosal_region_iou": results["metrics"]["cosal_region_iou"],
        "train_seconds": results["train_seconds"],
    }


def measure(
    baseline,
    presets,
    repeats,
    examples,
    accuracy_examples,
    epochs,
    variants=VARIANTS,
):
    """Rows, one per preset and variant (`VARIANTS` or some of them)."""
    rows = []
    for preset in presets:
        runs = {name: [] for name, _, _ in variants}
        for _ in range(repeats):
            for name, checkout, flags in variants:
                result = time_variant(
                    checkout or baseline, flags, preset, examples
                )
                runs[name].append(result)
                print(name, json.dumps(result), flush=True)
        base = statistics.median(
            run["real_examples_per_s"] for run in runs["baseline"]
        )
        for name, checkout, flags in variants:
            accuracy = train_accuracy(
                checkout or baseline, flags, preset, accuracy_examples, epochs
            )
            rows.append(_row(preset, name, runs[name], base, accuracy))
            print(json.dumps(rows[-1]), flush=True)
    return rows


def _row(preset, name, runs, base, accuracy):
    real = statistics.median(run["real_examples_per_s"] for run in runs)
    return {
        "preset": preset,
        "variant": name,
        "precision": runs[0]["precision"],
        "jit_compile": runs[0]["jit_compile"],
        "batch_size": runs[0]["batch_size"],
        "real_examples_per_s": real,
        "bare_examples_per_s": statistics.median(
            run["bare_examples_per_s"] for run in runs
        ),
        "real_over_bare": statistics.median(
            run["real_over_bare"] for run in runs
        ),
        "speedup": real / base,
        "real_runs": [run["real_examples_per_s"] for run in runs],
        **accuracy,
    }


def markdown(rows, args, command):
    flags = ", ".join(sorted(cpu_flags() & set(REPORTED_FLAGS))) or "none"
    body = [
        [
            row["preset"],
            row["variant"],
            row["precision"],
            row["jit_compile"],
            row["batch_size"],
            f"{row['real_examples_per_s']:,.1f}",
            f"{row['bare_examples_per_s']:,.1f}",
            f"{row['real_over_bare']:.0%}",
            f"**{row['speedup']:.2f}×**",
            f"{row['cosal_region_iou']:.4f}",
        ]
        for row in rows
    ]
    header = [
        "preset",
        "version",
        "precision",
        "XLA",
        "batch",
        "real loop examples/s",
        "bare step examples/s",
        "real / bare",
        "real loop vs baseline",
        "region IoU",
    ]
    return (
        f"Written by `{command}` against the baseline "
        f"`{os.path.basename(os.path.abspath(args.baseline))}`; CPU flags: "
        f"{flags}; {os.cpu_count()} logical cores. Medians of "
        f"{args.repeats} alternated repeats of `training_loop.py` "
        f"({args.examples} examples per epoch, 3 epochs, the first not "
        "timed); region IoU after training "
        f"{args.accuracy_examples:,} examples × {args.accuracy_epochs} "
        f"epochs, on {ACCURACY_TEST_EXAMPLES:,} test examples "
        "(num_direct=4, seed 0).\n\n" + table(header, body)
    )


def _flags(args):
    """The command line, with `DIR` for the baseline and no `--readme`."""
    flags, skip = [], False
    for arg in sys.argv[1:]:
        if skip or arg == "--readme":
            skip = not skip
            continue
        flags.append("DIR" if arg == args.baseline else arg)
    return flags


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--presets", default="cosal_paper,cosal")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--examples", type=int, default=4800)
    parser.add_argument("--accuracy-examples", type=int, default=20000)
    parser.add_argument("--accuracy-epochs", type=int, default=2)
    parser.add_argument(
        "--skip-auto",
        action="store_true",
        help="leave out the `--precision auto` variant",
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--readme")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.examples = 1, 320
        args.accuracy_examples, args.accuracy_epochs = 320, 1
    rows = measure(
        args.baseline,
        args.presets.split(","),
        args.repeats,
        args.examples,
        args.accuracy_examples,
        args.accuracy_epochs,
        VARIANTS[:2] if args.skip_auto else VARIANTS,
    )
    command = " ".join(["python benchmarks/training_speedup.py", *_flags(args)])
    body = markdown(rows, args, command)
    publish(args, SECTION, body, rows)


if __name__ == "__main__":
    main()
