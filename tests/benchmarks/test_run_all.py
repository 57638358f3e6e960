import report
import run_all
from workloads import BENCHMARKS

PEAK = {
    "gflops": {"float32": {"no_xla": 50.0, "xla": 60.0}},
    "peak_gflops": {"float32": 60.0},
    "sizes": [2048],
    "repeats": 5,
    "bf16_native": False,
    "machine": {
        "cpu": "Test CPU",
        "cores": 2,
        "vector_flags": ["avx2", "fma"],
        "tensorflow": "2.21.0",
        "python": "3.11.7",
    },
}


def _result(examples_per_s, jit, mode="train"):
    return {
        "batch_size": 32,
        "mode": mode,
        "jit_compile": jit,
        "precision": "float32",
        "examples_per_s": examples_per_s,
        "step_ms": 32000 / examples_per_s,
        "flops_per_example": 1e6,
        "gflops_per_s": examples_per_s / 1000,
        "peak_rss_mb": 900.0,
    }


def _section():
    results = {
        ("cosal", "train", False, "float32"): _result(100.0, False),
        ("cosal", "train", True, "float32"): _result(200.0, True),
        ("cosal_paper", "train", False, "float32"): _result(100.0, False),
        ("cosal_paper", "train", True, "float32"): _result(120.0, True),
        ("cosal", "infer", False, "float32"): {"error": "boom"},
    }
    early_exit = [
        {
            "max_steps": 4,
            "weights": "random",
            "identical": True,
            "timings": [{"jit_compile": False, "speedup": 2.0}],
        }
    ]
    return run_all.section(
        PEAK, results, early_exit, BENCHMARKS, False, "run_all.py"
    )


def test_section_names_the_hardware_and_tabulates_every_run():
    body = _section()
    assert "Test CPU, 2 logical cores" in body
    assert "TensorFlow 2.21.0" in body
    assert "| cosal | train | on | float32 | 32 | 200.0 |" in body
    assert "failed: boom" in body
    # 0.2 GFLOP/s of a 60 GFLOP/s peak.
    assert "| 0.3% |" in body


def test_section_states_each_target_with_its_numbers():
    body = _section()
    assert "`cosal`: 2.00× (200.0 vs 100.0 examples/s), **met**" in body
    assert "`cosal_paper`: 1.20× (120.0 vs 100.0 examples/s), **missed**" in (
        body
    )
    assert "`referit_paper` forward pass" in body
    assert "`referit_paper` forward pass at 512×512 ≥ 40% of the fp32 " in body
    assert "peak: failed to measure" in body
    assert "T=4 2.00×" in body and "not assessed" in body


def test_section_goes_between_the_markers_and_keeps_the_prose(tmp_path):
    path = tmp_path / "README.md"
    start, end = report.markers(run_all.SECTION)
    path.write_text(f"# Benchmarks\n\nHow to run.\n\n{start}\n{end}\n\nMore.\n")
    report.write_section(str(path), run_all.SECTION, _section())
    text = path.read_text()
    assert text.startswith("# Benchmarks\n\nHow to run.\n\n")
    assert text.endswith(f"{end}\n\nMore.\n")
    inside = text.split(start)[1].split(end)[0]
    assert "Test CPU" in inside and "**Targets**" in inside


def _grid(quick):
    return dict(run_all.grid(BENCHMARKS, ["float32"], ["--steps", "20"], quick))


def test_grid_runs_every_preset_mode_and_xla_setting():
    assert len(_grid(quick=False)) == 4 * len(BENCHMARKS)


def test_grid_gives_slow_presets_their_own_timing():
    args = _grid(quick=False)[("referit_paper", "train", True, "float32")]
    assert args[args.index("--batch-size") + 1] == "1"
    # argparse keeps the last value given: the preset's own steps win.
    assert args.index("--steps=2") > args.index("--steps")
    cosal = _grid(quick=False)[("cosal", "infer", False, "float32")]
    assert not any(arg.startswith("--steps=") for arg in cosal)


def test_quick_grid_keeps_the_quick_timing():
    args = _grid(quick=True)[("referit_paper", "train", False, "float32")]
    assert not any(arg.startswith("--steps=") for arg in args)


def test_training_loop_lines_give_the_real_over_bare_target():
    loops = {
        "cosal_paper": {
            "real_examples_per_s": 470.0,
            "bare_examples_per_s": 500.0,
            "real_over_bare": 0.94,
        },
        "cosal": {"error": "boom"},
    }
    body = "\n\n".join(run_all.training_loop_lines(loops))
    assert "| cosal_paper | 470.0 | 500.0 | 94% |" in body
    assert "bare step on `cosal_paper`: 94%, **met**." in body
    assert "on `cosal`: failed to measure." in body
    assert run_all.training_loop_lines({}) == []
