"""`lbie evaluate` (`keras_lbie.cli.evaluate`)."""

import json

from keras_lbie.datasets import referit
from tests.cli.runner import assert_one_error
from tests.cli.runner import assert_quiet
from tests.cli.runner import run_lbie


def test_evaluate_prints_both_metrics_of_a_saved_model(trained_run):
    run, _ = trained_run
    result = run_lbie(
        run.parent, "evaluate", "--model", "run/model.keras",
        "--data-dir", "data",
    )  # fmt: skip
    with open(run / "results.json") as f:
        metrics = json.load(f)["metrics"]
    assert result.stdout.strip() == (
        f"num_direct=4: region IoU {metrics['cosal_region_iou']:.4f}, "
        f"colour mean IoU {metrics['color_mean_iou']:.4f}"
    )
    assert_quiet(result.stderr)


def test_evaluate_a_referit_preset_on_a_referit_folder(tmp_path):
    referit.write_referit_format(
        tmp_path / "referit", 3, seed=0, image_size=(48, 64)
    )
    result = run_lbie(
        tmp_path, "evaluate", "--model", "referit_small",
        "--referit-dir", "referit", "--max-queries", 5, "--batch-size", 4,
    )  # fmt: skip
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2, result.stdout
    assert lines[0].startswith("ReferIt test, 5 queries: overall IoU 0.")
    assert ", mean IoU 0." in lines[0]
    assert lines[1].startswith("precision@0.5 0.")
    assert lines[1].count("precision@") == 5
    assert "preset 'referit_small' has no trained weights" in result.stderr
    assert_quiet(result.stderr)


def test_evaluate_rejects_options_of_the_other_data_set(tmp_path):
    result = run_lbie(
        tmp_path, "evaluate", "--referit-dir", "referit",
        "--num-direct", "6", status=1,
    )  # fmt: skip
    assert_one_error(result, "--num-direct and --seed apply to CoSaL")
    result = run_lbie(
        tmp_path, "evaluate", "--max-queries", 5, "--split", "val", status=1
    )
    assert_one_error(result, "--split, --max-queries apply to ReferIt")
