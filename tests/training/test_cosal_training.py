"""Tests for the CoSaL training run and its evaluation."""

import json
import os

import pytest

from keras_lbie.metrics import ColorMeanIoU
from keras_lbie.metrics import CoSaLRegionIoU
from keras_lbie.models import LBIESegmenter
from keras_lbie.training import CoSaLTrainingConfig
from keras_lbie.training import evaluate_cosal
from keras_lbie.training import metric_values
from keras_lbie.training import train_cosal

# What examples/cosal_table2.py reads from each run's results.json.
TABLE_KEYS = ("metrics", "train_steps", "train_seconds", "batch_size")


@pytest.mark.large
def test_train_cosal_writes_results_and_weights(tmp_path):
    config = CoSaLTrainingConfig(
        max_steps=2,
        num_direct=(4, 6),
        train_examples=64,
        test_examples=20,
        epochs=1,
        batch_size=16,
        cosine_decay=True,
        history_examples=20,
    )
    segmenter, results = train_cosal(config, tmp_path, verbose=0)
    assert isinstance(segmenter, LBIESegmenter)
    with open(tmp_path / "results.json") as f:
        saved = json.load(f)
    for key in TABLE_KEYS:
        assert key in saved
    assert saved["train_steps"] == 2 * 2 == config.train_steps
    assert saved["num_direct"] == [4, 6]
    assert saved["overrides"] == {"seed": 0, "max_steps": 2}
    assert set(saved["metrics_by_num_direct"]) == {"4", "6"}
    assert 0 <= saved["metrics"]["cosal_region_iou"] <= 1
    for name in ("model.weights.h5", "checkpoints/epoch_1.weights.h5"):
        assert os.path.isfile(tmp_path / name)
    assert os.path.isdir(tmp_path / "logs")

    # One epoch scored on the whole test split: the final numbers.
    (epoch,) = saved["history"]
    assert epoch["epoch"] == 1
    assert 0 < epoch["train_seconds"] <= saved["train_seconds"]
    for num_direct in (4, 6):
        assert epoch["cosal_region_iou"][str(num_direct)] == pytest.approx(
            results["metrics_by_num_direct"][num_direct]["cosal_region_iou"]
        )

    # Evaluating the returned model again gives the run's numbers.
    overall, by_num_direct = evaluate_cosal(
        segmenter, (4, 6), 20, seed=config.seed
    )
    assert overall == pytest.approx(results["metrics"])
    assert by_num_direct[6] == pytest.approx(
        results["metrics_by_num_direct"][6]
    )


@pytest.mark.large
def test_single_setting_results_keep_an_int_num_direct(tmp_path):
    config = CoSaLTrainingConfig(
        max_steps=1,
        train_examples=16,
        test_examples=4,
        epochs=1,
        batch_size=16,
        data_dir=str(tmp_path / "data"),
    )
    _, results = train_cosal(config, tmp_path / "run", verbose=0)
    assert results["num_direct"] == 4
    assert results["train_steps"] == 1
    # The missing splits were written for the next run to read.
    assert sorted(os.listdir(tmp_path / "data")) == [
        "test_nd4-00000-of-00001.tfrecord",
        "train_nd4-00000-of-00001.tfrecord",
    ]


def test_evaluate_cosal_without_the_split_on_disk(tmp_path):
    segmenter = LBIESegmenter.from_preset("cosal_paper", max_steps=1)
    with pytest.raises(FileNotFoundError, match="num_direct=4"):
        evaluate_cosal(segmenter, (4,), 4, data_dir=str(tmp_path))


def test_metric_values_are_floats_with_both_metrics():
    values = metric_values(CoSaLRegionIoU(), ColorMeanIoU())
    assert {"cosal_region_iou", "color_mean_iou"} <= set(values)
    assert all(isinstance(v, float) for v in values.values())
