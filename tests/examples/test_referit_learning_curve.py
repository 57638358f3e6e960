import json
import os

import pytest
import referit_learning_curve

from keras_lbie.training import ReferItTrainingConfig
from keras_lbie.training import evaluate_referit_run
from keras_lbie.training import train_referit
from keras_lbie.training import write_referit_results
from keras_lbie.training import write_scene_referit_data


@pytest.mark.large
def test_curve_ends_at_the_run_s_own_score(tmp_path):
    data_dir = str(tmp_path / "scenes")
    write_scene_referit_data(
        ReferItTrainingConfig(
            data_dir=data_dir, make_scene_data=12, scene_sides=(48, 64)
        )
    )
    config = ReferItTrainingConfig(
        data_dir=data_dir,
        epochs=2,
        batch_size=8,
        max_steps=1,
        spatial_features=True,
        max_test_queries=10,
    )
    run_dir = str(tmp_path / "run")
    segmenter, training = train_referit(config, run_dir, verbose=0)
    results = evaluate_referit_run(config, segmenter)
    results["training"] = training
    write_referit_results(results, str(tmp_path / "run.md"), data_dir)

    output = str(tmp_path / "curve")
    curves = referit_learning_curve.main(
        [
            "--data-dir", data_dir,
            "--run", run_dir, str(tmp_path / "run.json"),
            "--baselines", str(tmp_path / "run.json"),
            "--max-queries", "10",
            "--output", output,
        ]
    )  # fmt: skip
    ((label, points),) = curves.items()
    assert label == "`referit_small`, T=1, spatial features"
    steps = training["steps_per_epoch"]
    assert [p["step"] for p in points] == [steps, 2 * steps]
    # The last checkpoint is the saved model: the same score.
    for metric in ("precision@0.5", "overall_iou", "mean_iou"):
        assert points[-1][metric] == pytest.approx(
            results["test"]["ours"][metric]
        )
    assert os.path.getsize(output + ".png") > 0
    with open(output + ".json") as f:
        written = json.load(f)
    assert set(written["baselines"]) == {"whole_image", "category_only"}
    assert written["curves"][label] == points
    assert written["final_scores"][label] == results["test"]["ours"]
    rows = open(output + ".md").read().splitlines()
    assert rows[2].startswith(f"| Ours: {label} | ")
    assert rows[4].startswith("| Baseline: category-only oracle | ")
