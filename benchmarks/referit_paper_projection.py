"""Projects the time of the paper's ReferIt training on one GPU.

The paper (Chen et al., CVPR 2018, Section 4.2) states no training
schedule for ReferIt. text_objseg (Hu et al., ECCV 2016), the ReferIt
code the paper compares with and whose data layout and vocabulary we
read, trains 30,000 iterations at stride-32 labels, then 18,000 at full
resolution, both at batch 10 on 512 × 512 images
(`exp-referit/exp_train_referit_seg_lowres.py` and `_highres.py` in
github.com/ronghanghu/text_objseg): 480,000 training examples. We take
that as the recipe of a Table 3 row.

This script times `referit_paper`'s training step on this machine
(`throughput.measure`: Keras's train function, batch 1, float32, XLA
off) and counts its floating-point operations per example from the
traced graph (`flops.py`), then divides the recipe's total by GPU peaks
quoted from the vendors' data sheets. Real training reaches a fraction
of peak: the table gives the time at 100% (a lower bound) and at 50%
(this step reaches 53-64% of the matmul peak on a CPU,
benchmarks/README.md). Writes `--output` (markdown) and its `.json`:

    python benchmarks/referit_paper_projection.py \\
        --output results/referit_paper_projection.md
"""

import argparse
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from throughput import measure  # noqa: E402

from keras_lbie.utils.hardware import vector_flags  # noqa: E402

RECIPE = {
    "source": "text_objseg exp_train_referit_seg_lowres.py (30,000 "
    "iterations) and exp_train_referit_seg_highres.py (18,000), batch 10",
    "steps": 30_000 + 18_000,
    "batch_size": 10,
}
# Dense float32 peaks, TFLOP/s, from NVIDIA's data sheets (V100: "Tesla
# V100 GPU accelerator" data sheet, SXM2; A100: "NVIDIA A100 Tensor Core
# GPU" data sheet, SXM; TF32 is the A100's tensor-core float32 mode
# without sparsity, which TensorFlow uses for float32 matmuls by default).
GPU_PEAKS = {
    "V100 SXM2, FP32": 15.7,
    "A100 SXM, FP32": 19.5,
    "A100 SXM, TF32 tensor cores": 156.0,
}
UTILIZATIONS = (1.0, 0.5)


def project(flops_per_example, recipe=RECIPE, peaks=GPU_PEAKS):
    """The recipe's total FLOPs and hours per GPU and utilisation."""
    total = flops_per_example * recipe["steps"] * recipe["batch_size"]
    hours = {
        gpu: {
            f"{utilization:.0%}": total / (peak * 1e12 * utilization) / 3600
            for utilization in UTILIZATIONS
        }
        for gpu, peak in peaks.items()
    }
    return total, hours


def markdown(result):
    cpu_days = result["cpu_seconds_per_example"] * result["examples"] / 86400
    lines = [
        "# `referit_paper`: the paper's ReferIt training, projected",
        "",
        "Written by `python benchmarks/referit_paper_projection.py`. "
        f"Recipe: {result['recipe']['source']}: "
        f"{result['examples']:,} examples of 512 × 512. `referit_paper` "
        f"(T = 3) trains on {result['flops_per_example'] / 1e9:,.1f} GFLOP "
        "per example (counted from the traced training step, "
        "benchmarks/flops.py): "
        f"{result['total_flops']:.3g} FLOP in all.",
        "",
        "| GPU (peak, TFLOP/s) | hours at 100% of peak | hours at 50% |",
        "| --- | --- | --- |",
    ]
    for gpu, hours in result["gpu_hours"].items():
        lines.append(
            f"| {gpu} ({GPU_PEAKS[gpu]}) | {hours['100%']:.1f} | "
            f"{hours['50%']:.1f} |"
        )
    lines += [
        "",
        f"On this machine ({os.cpu_count()} cores; "
        f"{' '.join(result['cpu_flags']) or 'no AVX2/AVX-512 flags'}) one "
        f"training step at batch 1 took {result['step_ms'] / 1000:.1f} s "
        f"({result['gflops_per_s']:.1f} GFLOP/s, load average "
        f"{result['load_average']:.1f} while timed): the recipe would take "
        f"{cpu_days:,.0f} days.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", default="results/referit_paper_projection.md"
    )
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args(argv)
    timing = measure(
        "referit_paper", "train", 1, steps=args.steps, repeats=1, warmup=1
    )
    total, hours = project(timing["flops_per_example"])
    examples = RECIPE["steps"] * RECIPE["batch_size"]
    result = {
        "recipe": RECIPE,
        "examples": examples,
        "flops_per_example": timing["flops_per_example"],
        "total_flops": total,
        "gpu_peaks_tflops": GPU_PEAKS,
        "gpu_hours": hours,
        "step_ms": timing["step_ms"],
        "gflops_per_s": timing["gflops_per_s"],
        "cpu_seconds_per_example": timing["step_ms"] / 1000,
        "cpu_flags": vector_flags(),
        "load_average": os.getloadavg()[0],
    }
    with open(args.output, "w") as f:
        f.write(markdown(result))
    with open(os.path.splitext(args.output)[0] + ".json", "w") as f:
        json.dump(result, f, indent=2)
    print(markdown(result))
    return result


if __name__ == "__main__":
    main()
