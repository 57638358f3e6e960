"""Cost of a preset versus T, image size, description length and batch.

Usage: python benchmarks/scaling.py [--preset cosal] [--modes train,infer]
    [--steps 20] [--repeats 5] [--warmup 3] [--jit-compile] [--quick]
    [--readme PATH] [--plot PATH] [--json]

From the base setting (batch 32, T = 4, 48 px, 9 sentences) one
parameter is swept at a time: max steps T = 1..8, image size 48, 96, 192,
`max_sentences` 1, 3, 9, 18 (descriptions repeated to fill them) and batch
size 1..64. Each point is a `throughput.measure` in this process, so peak
memory is not reported. The table gives ms per example (the cost), FLOPs
per example, and both relative to the base; T and pixels also get a
least-squares line `cost = fixed + slope · x`. Full runs write the table
into benchmarks/README.md and the plot to benchmarks/scaling.png; `--quick`
(a smoke run: fewer points, 2 steps) prints only, unless `--readme` or
`--plot` are given.
"""

import argparse
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from plot import COLORS  # noqa: E402
from plot import draw_panels  # noqa: E402
from report import readme_path  # noqa: E402
from report import table  # noqa: E402
from report import write_section  # noqa: E402
from throughput import measure  # noqa: E402
from workloads import BENCHMARKS  # noqa: E402

SECTION = "scaling"
PLOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scaling.png")
BASE = {"batch_size": 32, "max_steps": 4, "image_size": 48, "max_sentences": 9}
SWEEPS = {
    "max_steps": (1, 2, 3, 4, 5, 6, 7, 8),
    "image_size": (48, 96, 192),
    "max_sentences": (1, 3, 9, 18),
    "batch_size": (1, 4, 16, 32, 64),
}
QUICK_SWEEPS = {name: values[:2] for name, values in SWEEPS.items()}
# The x of the linear fit: cost should be affine in T and in pixels.
LINEAR_X = {"max_steps": lambda t: t, "image_size": lambda size: size**2}
_LABELS = {
    "max_steps": "max steps T",
    "image_size": "image size (px; x axis in pixels)",
    "max_sentences": "max sentences",
    "batch_size": "batch size (log scale)",
}


def run_sweeps(
    preset, sweeps=SWEEPS, base=BASE, modes=("train", "infer"), **options
):
    """Measures every sweep point; returns one row dict per point and mode.

    Args:
        preset: a name from `workloads.BENCHMARKS`.
        sweeps: `{parameter: values}`, each swept alone from `base`.
        base: the setting the other parameters keep.
        modes: `"train"` and/or `"infer"`.
        **options: `throughput.measure` options (`steps`, `repeats`,
            `warmup`, `jit_compile`).
    """
    rows = []
    for parameter, values in sweeps.items():
        for value in values:
            setting = {**base, parameter: value}
            for mode in modes:
                keras.utils.clear_session()
                result = measure(preset, mode, **setting, **options)
                rows.append({"sweep": parameter, "value": value, **result})
    return rows


def cost_ms(row):
    """Milliseconds per example."""
    return row["step_ms"] / row["batch_size"]


def linear_fit(rows, parameter):
    """`(fixed, slope, max relative deviation)` of cost vs x, or None."""
    to_x = LINEAR_X[parameter]
    xs = np.array([to_x(row["value"]) for row in rows], float)
    ys = np.array([cost_ms(row) for row in rows])
    if len(set(xs)) < 2:
        return None
    slope, fixed = np.polyfit(xs, ys, 1)
    deviation = np.max(np.abs(fixed + slope * xs - ys) / ys)
    return fixed, slope, float(deviation)


def _select(rows, parameter, mode):
    return [r for r in rows if r["sweep"] == parameter and r["mode"] == mode]


def markdown(rows, base=BASE, plot_link=None):
    """The README section: the plot, a table per sweep and linear fits."""
    parts = [f"![cost vs each parameter]({plot_link})"] if plot_link else []
    parts += [
        f"Preset `{rows[0]['preset']}`, XLA "
        f"{'on' if rows[0]['jit_compile'] else 'off'}, "
        f"{rows[0]['precision']}; base: "
        + ", ".join(f"{key} {value}" for key, value in base.items())
        + ". Cost = ms per example; relative to the sweep's base value."
    ]
    for parameter in _sweeps(rows):
        parts.append(_sweep_table(rows, parameter, base))
        parts.extend(_fit_lines(rows, parameter))
    return "\n\n".join(parts)


def _sweep_table(rows, parameter, base):
    body = []
    for mode in _modes(rows):
        selected = _select(rows, parameter, mode)
        reference = next(
            (r for r in selected if r["value"] == base[parameter]), selected[0]
        )
        body.extend(_sweep_row(row, reference) for row in selected)
    header = [
        parameter,
        "mode",
        "examples/s",
        "ms/example",
        "relative cost",
        "MFLOP/example",
        "relative FLOPs",
    ]
    return f"**{_LABELS[parameter]}**\n\n" + table(header, body)


def _sweep_row(row, reference):
    flops = row["flops_per_example"]
    return [
        row["value"],
        row["mode"],
        f"{row['examples_per_s']:,.1f}",
        f"{cost_ms(row):.3f}",
        f"{cost_ms(row) / cost_ms(reference):.2f}",
        f"{flops / 1e6:,.2f}",
        f"{flops / reference['flops_per_example']:.2f}",
    ]


def _modes(rows):
    return list(dict.fromkeys(row["mode"] for row in rows))


def _sweeps(rows):
    return list(dict.fromkeys(row["sweep"] for row in rows))


def _fit_lines(rows, parameter):
    if parameter not in LINEAR_X:
        return []
    lines = []
    for mode in _modes(rows):
        fit = linear_fit(_select(rows, parameter, mode), parameter)
        if fit is not None:
            x = "T" if parameter == "max_steps" else "pixels"
            lines.append(
                f"Linear fit, {mode}: ms/example ≈ {fit[0]:.4g} "
                f"{'+' if fit[1] >= 0 else '−'} {abs(fit[1]):.3g} · {x} "
                f"(largest deviation {fit[2]:.0%})."
            )
    return lines


def plot(rows, path):
    """Cost vs each swept parameter, train and infer, as a PNG.

    T and pixels also get their linear fits, dashed.
    """
    panels = []
    for parameter in _sweeps(rows):
        to_x = LINEAR_X.get(parameter, lambda value: value)
        values = sorted({r["value"] for r in rows if r["sweep"] == parameter})
        series = []
        for index, mode in enumerate(_modes(rows)):
            selected = _select(rows, parameter, mode)
            points = [(to_x(r["value"]), cost_ms(r)) for r in selected]
            series.append(
                {"label": mode, "color": COLORS[index], "points": points}
            )
            series.extend(_fit_series(selected, parameter, mode, COLORS[index]))
        panels.append(
            {
                "title": f"cost vs {parameter}",
                "x_label": _LABELS[parameter],
                "y_label": "ms per example",
                "x_ticks": [(to_x(value), str(value)) for value in values],
                "log_x": parameter == "batch_size",
                "series": series,
            }
        )
    draw_panels(panels, path)


def _fit_series(selected, parameter, mode, color):
    fit = linear_fit(selected, parameter) if parameter in LINEAR_X else None
    if fit is None:
        return []
    xs = [LINEAR_X[parameter](row["value"]) for row in selected]
    ends = (min(xs), max(xs))
    points = [(x, fit[0] + fit[1] * x) for x in ends]
    return [
        {
            "label": f"{mode} fit",
            "color": color,
            "points": points,
            "dashed": True,
        }
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="cosal", choices=sorted(BENCHMARKS))
    parser.add_argument("--modes", default="train,infer")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--jit-compile", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--readme")
    parser.add_argument("--plot")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    # Every sweep point builds new tf.functions: TF warns of "retracing".
    tf.get_logger().setLevel("ERROR")
    sweeps, base, options = _settings(args)
    rows = run_sweeps(
        args.preset, sweeps, base, tuple(args.modes.split(",")), **options
    )
    readme = readme_path(args)
    plot_path = args.plot or (None if args.quick else PLOT)
    if plot_path:
        plot(rows, plot_path)
    if readme:
        folder = os.path.dirname(os.path.abspath(readme))
        link = plot_path and os.path.relpath(plot_path, folder)
        write_section(readme, SECTION, markdown(rows, base, link))
    print(json.dumps(rows) if args.json else markdown(rows, base))


def _settings(args):
    """`(sweeps, base, measure options)` of a full or `--quick` run."""
    options = {
        "steps": args.steps,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "jit_compile": args.jit_compile,
    }
    if not args.quick:
        return SWEEPS, BASE, options
    quick = {"steps": 2, "repeats": 1, "warmup": 1}
    return QUICK_SWEEPS, {**BASE, "batch_size": 4}, {**options, **quick}


if __name__ == "__main__":
    main()
