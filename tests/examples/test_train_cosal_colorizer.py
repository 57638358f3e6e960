"""examples/train_cosal_colorizer.py: the colorizer GAN's training run."""

import json

import pytest
import train_cosal_colorizer


@pytest.mark.large
def test_trains_under_two_replicas_and_records_them(tmp_path):
    # In this process tests/conftest.py already split the CPU in two.
    train_cosal_colorizer.main(
        [
            "--output-dir", str(tmp_path), "--train", "32",
            "--validation", "4", "--test", "4", "--epochs", "1",
            "--batch-size", "8", "--strategy", "mirrored", "--replicas", "2",
        ]
    )  # fmt: skip
    with open(tmp_path / "metrics.json") as f:
        metrics = json.load(f)
    assert (metrics["strategy"], metrics["replicas"]) == ("mirrored", 2)
    assert metrics["steps"] == 4
    with open(tmp_path / "history.json") as f:
        assert len(json.load(f)) == 1
