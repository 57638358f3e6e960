"""Runs every benchmark and writes the results into benchmarks/README.md.

Usage: python benchmarks/run_all.py [--quick] [--readme PATH] [--bf16]
    [--skip-scaling] [--skip-early-exit] [--skip-xla-parts]
    [--skip-training-loop]

Runs `peak.py`, then `throughput.py` for every preset of
`workloads.BENCHMARKS` × {train, infer} × {XLA off, on} × {float32,
bfloat16 where the CPU has native bf16 (`--bf16` forces it)}, each in its
own process (peak memory is per process, and no run inherits another's
compiled functions), then `early_exit.py`, `scaling.py` and
`xla_parts.py`, and `training_loop.py` (the real training loop beside
the bare step) for `TRAINING_LOOP_PRESETS`. Writes the results section
(hardware, peak, the table, the real loop and the targets, met or
missed) between its markers in benchmarks/README.md; the other three
scripts write their own sections. `--quick` is a smoke run (tiny
matrices, 2 steps, few examples) that prints the section and writes
nothing unless `--readme` is given.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys

from report import readme_path
from report import table
from report import write_section
from workloads import BENCHMARKS

HERE = os.path.dirname(os.path.abspath(__file__))
SECTION = "results"
MODES = ("train", "infer")
FULL = {
    "peak": ["--sizes", "2048,4096", "--repeats", "5"],
    "throughput": ["--steps", "20", "--repeats", "5", "--warmup", "3"],
    "early_exit": [],
    "scaling": [],
    "xla_parts": [],
    "training_loop": [],
}
QUICK = {
    "peak": ["--sizes", "256", "--repeats", "1"],
    "throughput": ["--steps", "2", "--repeats", "1", "--warmup", "1"],
    "early_exit": ["--quick"],
    "scaling": ["--quick"],
    "xla_parts": ["--quick"],
    "training_loop": ["--examples", "64", "--epochs", "2", "--repeats", "1"],
}
QUICK_BATCH_SIZE = 4
# Targets of the benchmark issue.
XLA_TRAIN_SPEEDUP = 1.5
REFERIT_PRESET, REFERIT_PEAK_FRACTION = "referit_paper", 0.40
EARLY_EXIT_SPEEDUP, EARLY_EXIT_PRESET = 1.3, "cosal"
TRAINING_LOOP_PRESETS, REAL_OVER_BARE = ("cosal_paper", "cosal"), 0.9


def run_script(name, args):
    """Runs `benchmarks/NAME.py ARGS --json`; its last stdout line, parsed.

    A failed run gives `{"error": last stderr line, "command": ...}`.
    """
    command = [sys.executable, os.path.join(HERE, f"{name}.py"), *args]
    process = subprocess.run(
        [*command, "--json"], capture_output=True, text=True, check=False
    )
    if process.returncode:
        lines = process.stderr.strip().splitlines() or ["no output"]
        return {"error": lines[-1], "command": " ".join(command)}
    return json.loads(process.stdout.strip().splitlines()[-1])


def grid(presets, precisions, options, quick):
    """Every throughput configuration: `(preset, mode, xla, precision)`."""
    for preset, entry in presets.items():
        batch_size = QUICK_BATCH_SIZE if quick else entry.batch_size
        timing = [] if quick else _timing_options(entry.timing)
        for mode in MODES:
            for jit in (False, True):
                for precision in precisions:
                    args = ["--preset", preset, "--mode", mode]
                    args += ["--batch-size", str(batch_size), *options]
                    args += timing
                    args += ["--jit-compile"] if jit else []
                    if precision == "bfloat16":
                        args += ["--mixed-precision", "bfloat16"]
                    yield (preset, mode, jit, precision), args


def _timing_options(timing):
    """`throughput.py` flags of a preset's own timing; later flags win."""
    return [f"--{name}={value}" for name, value in timing.items()]


def run_grid(presets, precisions, options, quick):
    """`{(preset, mode, xla, precision): throughput result}`."""
    results = {}
    for key, args in grid(presets, precisions, options, quick):
        results[key] = run_script("throughput", args)
        print(key, _summary(results[key]), flush=True)
    return results


def _summary(result):
    if "error" in result:
        return f"failed: {result['error']}"
    return f"{result['examples_per_s']:,.1f} examples/s"


def peak_fraction(result, peak):
    """Achieved GFLOP/s over the measured peak of the run's precision."""
    dtype = "bfloat16" if result["precision"] == "mixed_bfloat16" else "float32"
    return result["gflops_per_s"] / peak["peak_gflops"][dtype]


def hardware_line(peak):
    machine = peak["machine"]
    flags = ", ".join(machine["vector_flags"]) or "none listed"
    bf16 = "native bf16" if peak["bf16_native"] else "no native bf16"
    return (
        f"**Hardware:** {machine['cpu']}, {machine['cores']} logical cores "
        f"(vector flags: {flags}; {bf16}); TensorFlow "
        f"{machine['tensorflow']}, Python {machine['python']}."
    )


def peak_table(peak):
    rows = [
        [
            dtype,
            f"{by_xla['no_xla']:.1f}",
            f"{by_xla['xla']:.1f}",
        ]
        for dtype, by_xla in peak["gflops"].items()
    ]
    sizes = ", ".join(str(size) for size in peak["sizes"])
    return (
        f"Matmul peak (`peak.py`: square matmuls of size {sizes}, best of "
        f"{peak['repeats']}), GFLOP/s:\n\n"
        + table(["dtype", "XLA off", "XLA on"], rows)
    )


def results_table(results, peak):
    header = [
        "preset",
        "mode",
        "XLA",
        "precision",
        "batch",
        "examples/s",
        "step ms",
        "MFLOP/example",
        "GFLOP/s",
        "% of peak",
        "peak RSS MiB",
    ]
    rows = [_result_row(key, result, peak) for key, result in results.items()]
    return table(header, rows)


def _result_row(key, result, peak):
    preset, mode, jit, precision = key
    cells = [preset, mode, "on" if jit else "off", precision]
    if "error" in result:
        return [*cells, "—", f"failed: {result['error']}", *["—"] * 5]
    return [
        *cells,
        result["batch_size"],
        f"{result['examples_per_s']:,.1f}",
        f"{result['step_ms']:.1f}",
        f"{result['flops_per_example'] / 1e6:,.2f}",
        f"{result['gflops_per_s']:.2f}",
        f"{100 * peak_fraction(result, peak):.1f}%",
        f"{result['peak_rss_mb']:,.0f}",
    ]


def target_lines(results, peak, presets, early_exit):
    """One line per target of the issue: met, missed or not measured."""
    lines = [
        _xla_target(results, preset)
        for preset in presets
        if presets[preset].family == "cosal"
    ]
    lines.append(_referit_target(results, peak))
    lines.append(_early_exit_target(early_exit))
    return [f"- {line}" for line in lines]


def _verdict(met):
    return "**met**" if met else "**missed**"


def _ok(result):
    return result is not None and "error" not in result


def _xla_target(results, preset):
    goal = (
        f"XLA training step ≥ {XLA_TRAIN_SPEEDUP}× the non-XLA step on "
        f"`{preset}`"
    )
    off = results.get((preset, "train", False, "float32"))
    on = results.get((preset, "train", True, "float32"))
    if not (_ok(off) and _ok(on)):
        return f"{goal}: failed to measure (see the table)."
    speedup = on["examples_per_s"] / off["examples_per_s"]
    return (
        f"{goal}: {speedup:.2f}× ({on['examples_per_s']:,.1f} vs "
        f"{off['examples_per_s']:,.1f} examples/s), "
        f"{_verdict(speedup >= XLA_TRAIN_SPEEDUP)}."
    )


def _referit_target(results, peak):
    goal = (
        f"`{REFERIT_PRESET}` forward pass at 512×512 ≥ "
        f"{REFERIT_PEAK_FRACTION:.0%} of the fp32 matmul peak"
    )
    runs = [
        results.get((REFERIT_PRESET, "infer", jit, "float32"))
        for jit in (False, True)
    ]
    runs = [run for run in runs if _ok(run)]
    if not runs:
        return f"{goal}: failed to measure (see the table)."
    best = max(runs, key=lambda run: run["gflops_per_s"])
    fraction = peak_fraction(best, peak)
    return (
        f"{goal}: {fraction:.1%} ({best['gflops_per_s']:.1f} of "
        f"{peak['peak_gflops']['float32']:.1f} GFLOP/s, XLA "
        f"{'on' if best['jit_compile'] else 'off'}), "
        f"{_verdict(fraction >= REFERIT_PEAK_FRACTION)}."
    )


def _early_exit_target(early_exit):
    goal = (
        f"Early-exit inference on the shipped `{EARLY_EXIT_PRESET}` model "
        f"≥ {EARLY_EXIT_SPEEDUP}× fixed T at identical outputs"
    )
    if early_exit is None:
        return f"{goal}: not measured (skipped)."
    if isinstance(early_exit, dict):
        return f"{goal}: failed to measure ({early_exit['error']})."
    measured = "; ".join(_early_exit_figure(result) for result in early_exit)
    t4 = next((r for r in early_exit if r["max_steps"] == 4), None)
    if t4 is None or t4["weights"] == "random":
        # Random gates decide after a random number of steps: the speed-up
        # then says nothing about the trained model the target is about.
        return (
            f"{goal}: {measured}; not assessed: no trained weights at T=4 "
            "(the preset ships none yet; pass early_exit.py --weights)."
        )
    speedup = max(timing["speedup"] for timing in t4["timings"])
    met = t4["identical"] and speedup >= EARLY_EXIT_SPEEDUP
    return f"{goal}: {measured}; {_verdict(met)} at T=4."


def _early_exit_figure(result):
    speedup = max(timing["speedup"] for timing in result["timings"])
    identical = "identical" if result["identical"] else "**not identical**"
    return (
        f"T={result['max_steps']} {speedup:.2f}× (best of XLA off/on), "
        f"{identical}, weights {result['weights']}"
    )


def training_loop_lines(loops):
    """A table of `training_loop.py` results and the real-loop target."""
    if not loops:
        return []
    rows, targets = [], []
    for preset, loop in loops.items():
        goal = f"Real training loop ≥ {REAL_OVER_BARE:.0%} of the bare step"
        if "error" in loop:
            rows.append([preset, "—", "—", f"failed: {loop['error']}"])
            targets.append(f"- {goal} on `{preset}`: failed to measure.")
            continue
        ratio = loop["real_over_bare"]
        rows.append(
            [
                preset,
                f"{loop['real_examples_per_s']:,.1f}",
                f"{loop['bare_examples_per_s']:,.1f}",
                f"{ratio:.0%}",
            ]
        )
        targets.append(
            f"- {goal} on `{preset}`: {ratio:.0%}, "
            f"{_verdict(ratio >= REAL_OVER_BARE)}."
        )
    header = ["preset", "real loop examples/s", "bare step examples/s"]
    return [
        "Real training loop (`training_loop.py`: `train_cosal` as `lbie "
        "train` runs it, batch 32, beside its bare train step; medians):",
        table([*header, "real / bare"], rows),
        "\n".join(targets),
    ]


def section(
    peak, results, early_exit, presets, quick, command, training_loops=None
):
    parts = [
        "**Quick smoke run: not results.**" if quick else "",
        f"Generated by `{command}` on {datetime.date.today().isoformat()}.",
        hardware_line(peak),
        peak_table(peak),
        "Throughput (`throughput.py`; median of repeats, warm-up excluded; "
        "% of the measured matmul peak of the run's precision):",
        results_table(results, peak),
        "**Targets**",
        "\n".join(target_lines(results, peak, presets, early_exit)),
        *training_loop_lines(training_loops),
    ]
    return "\n\n".join(part for part in parts if part)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--readme")
    parser.add_argument("--bf16", action="store_true", help="always run bf16")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--skip-early-exit", action="store_true")
    parser.add_argument("--skip-xla-parts", action="store_true")
    parser.add_argument("--skip-training-loop", action="store_true")
    args = parser.parse_args()
    options = QUICK if args.quick else FULL
    readme = readme_path(args)
    peak = run_script("peak", options["peak"])
    if "error" in peak:
        sys.exit(f"peak.py failed: {peak['error']}")
    precisions = ["float32"]
    if peak["bf16_native"] or args.bf16:
        precisions.append("bfloat16")
    results = run_grid(
        BENCHMARKS, precisions, options["throughput"], args.quick
    )
    # These two write their own README sections.
    to_readme = ["--readme", readme] if readme else []
    early_exit = None
    if not args.skip_early_exit:
        early_exit = run_script("early_exit", options["early_exit"] + to_readme)
    for name in ("scaling", "xla_parts"):
        if getattr(args, f"skip_{name}"):
            continue
        result = run_script(name, options[name] + to_readme)
        if "error" in result:
            print(f"{name}.py failed: {result['error']}", file=sys.stderr)
    training_loops = {}
    if not args.skip_training_loop:
        for preset in TRAINING_LOOP_PRESETS:
            training_loops[preset] = run_script(
                "training_loop",
                ["--preset", preset, *options["training_loop"]],
            )
    command = "python benchmarks/run_all.py" + (
        " --quick" if args.quick else ""
    )
    body = section(
        peak,
        results,
        early_exit,
        BENCHMARKS,
        args.quick,
        command,
        training_loops,
    )
    if readme:
        write_section(readme, SECTION, body)
    print(body)


if __name__ == "__main__":
    main()
