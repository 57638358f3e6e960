import json

import cosal_relational
import numpy as np
import pytest

from keras_lbie.datasets import cosal
from keras_lbie.models import LBIESegmenter


def test_tile_scores_of_perfect_and_wrong_predictions():
    data = cosal.generate(20, num_direct=4, seed=5)
    steps = np.ones((20, 6, 6), "int32")
    perfect = cosal_relational.tile_scores(data["label"], steps, data)
    assert perfect == {"direct": (1.0, 1.0), "relational": (1.0, 1.0)}
    # Every pixel predicted as background: no shape pixel is right.
    steps[:, :2, :2] = 3
    blank = cosal_relational.tile_scores(
        np.zeros_like(data["label"]), steps, data
    )
    assert blank["direct"][0] == blank["relational"][0] == 0.0
    # Only tile 0's regions stopped at step 3: the means lie between.
    assert 1.0 < blank["direct"][1] + blank["relational"][1] < 6.0


def test_tile_scores_without_relational_tiles():
    data = cosal.generate(5, num_direct=9, seed=6)
    scores = cosal_relational.tile_scores(
        data["label"], np.ones((5, 6, 6), "int32"), data
    )
    assert scores["relational"] == (None, None)


def test_region_iou_of_the_labels_is_one():
    data = cosal.generate(10, num_direct=4, seed=7)
    assert cosal_relational.region_iou(data["label"], data) == 1.0


def test_score_run_reports_every_column(tmp_path):
    segmenter = LBIESegmenter.from_preset(
        "cosal_paper", load_weights=False, relation_kernel_size=3, seed=0
    )
    row = cosal_relational.score_run(segmenter, 4, 4, 0, robustness=True)
    assert set(row) == {
        "region_iou",
        "direct",
        "relational",
        "shuffled",
        "integer",
    }
    for steps in (row["direct"][1], row["relational"][1]):
        assert 1.0 <= steps <= 4.0
    line = cosal_relational.format_row("x", 4, "1k ex, 1 min", row)
    assert line.count("|") == 10


def test_budget_reads_the_run(tmp_path):
    (tmp_path / "results.json").write_text(
        json.dumps({"train_steps": 100, "batch_size": 32, "train_seconds": 90})
    )
    assert cosal_relational.budget(str(tmp_path)) == "3k ex, 2 min"
    assert cosal_relational.budget(f"{tmp_path}@3") == "3k ex, 2 min"


def test_a_missing_run_is_a_named_error(tmp_path):
    with pytest.raises(ValueError, match="--run"):
        cosal_relational.main(["--run", f"x={tmp_path}"])


@pytest.mark.parametrize(
    "metrics, expected",
    [
        (
            {"metrics_by_num_direct": {"4": {"cosal_region_iou": 0.5}}},
            "| old design | 4 | 32k ex, 10 min | **0.5000**",
        ),
        # results.json of older versions: one setting's metrics.
        (
            {"num_direct": 6, "metrics": {"cosal_region_iou": 0.25}},
            "| old design | 6 | 32k ex, 10 min | **0.2500**",
        ),
    ],
)
def test_logged_rows_come_from_the_results(tmp_path, metrics, expected):
    path = tmp_path / "results.json"
    budget = {
        "train_steps": 1000,
        "batch_size": 32,
        "train_seconds": 600,
        "test_examples": 2000,
    }
    path.write_text(json.dumps({**budget, **metrics}))
    row = cosal_relational.logged_row(f"old design={path}")
    assert row.startswith(expected)
    with pytest.raises(ValueError, match="--logged"):
        cosal_relational.logged_row(f"x={tmp_path / 'missing.json'}")
