import json

import pytest
import throughput

RESULT_KEYS = {
    "preset",
    "mode",
    "batch_size",
    "jit_compile",
    "precision",
    "trained_weights",
    "image_size",
    "max_steps",
    "max_sentences",
    "early_exit",
    "steps",
    "repeats",
    "warmup",
    "examples_per_s",
    "step_ms",
    "step_ms_runs",
    "first_step_s",
    "flops_per_example",
    "gflops_per_s",
    "uncounted_loops",
    "peak_rss_mb",
    "rss_delta_mb",
}


@pytest.mark.large
def test_train_measure_reports_every_key():
    result = throughput.measure(
        "cosal_paper", "train", 2, steps=2, repeats=2, warmup=1, max_steps=1
    )
    assert set(result) == RESULT_KEYS
    assert result["max_steps"] == 1
    assert len(result["step_ms_runs"]) == 2
    for key in ("examples_per_s", "step_ms", "flops_per_example"):
        assert result[key] > 0
    assert result["peak_rss_mb"] >= result["rss_delta_mb"] >= 0


def test_cli_prints_one_json_line(capsys):
    throughput.main(
        [
            "--preset=cosal_paper",
            "--mode=infer",
            "--batch-size=2",
            "--steps=2",
            "--repeats=1",
            "--warmup=1",
            "--max-steps=2",
            "--early-exit",
            "--json",
        ]
    )
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert set(result) == RESULT_KEYS
    assert result["mode"] == "infer"
    assert result["early_exit"] is True
    assert result["gflops_per_s"] > 0
