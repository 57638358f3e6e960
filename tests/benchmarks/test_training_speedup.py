import argparse

import training_speedup


def _runs(real):
    return [
        {
            "precision": "float32",
            "jit_compile": False,
            "batch_size": 32,
            "real_examples_per_s": value,
            "bare_examples_per_s": 2 * value,
            "real_over_bare": 0.5,
        }
        for value in real
    ]


def test_rows_give_the_speedup_over_the_baseline_median():
    accuracy = {"cosal_region_iou": 0.5, "train_seconds": 10.0}
    row = training_speedup._row(
        "cosal_paper", "this", _runs([300.0, 500.0, 400.0]), 200.0, accuracy
    )
    assert row["real_examples_per_s"] == 400.0
    assert row["bare_examples_per_s"] == 800.0
    assert row["speedup"] == 2.0
    args = argparse.Namespace(
        baseline="/tmp/base",
        repeats=3,
        examples=3200,
        accuracy_examples=12800,
        accuracy_epochs=2,
    )
    body = training_speedup.markdown([row], args, "training_speedup.py")
    assert "| cosal_paper | this | float32 | False | 32 | 400.0 |" in body
    assert "**2.00×**" in body
    assert "baseline `base`" in body
