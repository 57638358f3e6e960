"""Tests for the ReferIt training run behind examples/train_referit.py."""

import dataclasses
import json
import os

import numpy as np
import pytest

from keras_lbie.datasets import referit
from keras_lbie.training import ReferItTrainingConfig
from keras_lbie.training import evaluate_referit_baselines
from keras_lbie.training import evaluate_referit_run
from keras_lbie.training import run_label
from keras_lbie.training import train_referit
from keras_lbie.training import true_tile_prediction
from keras_lbie.training import write_cosal_referit_data
from keras_lbie.training import write_referit_results
from keras_lbie.training import write_scene_referit_data


def _written_folder(tmp_path_factory, write, **fields):
    root = str(tmp_path_factory.mktemp("referit"))
    config = ReferItTrainingConfig(data_dir=root, **fields)
    write(config)
    return config


@pytest.fixture(scope="module")
def cosal_folder(tmp_path_factory):
    return _written_folder(
        tmp_path_factory,
        write_cosal_referit_data,
        make_cosal_data=5,
        cosal_size=(48, 48),
    )


def test_cosal_folder_records_its_source(cosal_folder):
    with open(os.path.join(cosal_folder.data_dir, "cosal_source.json")) as f:
        source = json.load(f)
    assert source["num_images"] == 5
    assert source["image_size"] == [48, 48]
    with pytest.raises(FileExistsError, match="already holds"):
        write_cosal_referit_data(cosal_folder)


def test_true_tile_prediction_covers_the_objects_tile(cosal_folder):
    example = referit.load_index(cosal_folder.data_dir, "test").examples[0]
    prediction = true_tile_prediction(48)(example)
    assert prediction.shape == (example.height, example.width)
    # One 16-px tile of the 48-px scene, shown at the same size.
    assert prediction.sum() == 16 * 16
    x1, y1, x2, y2 = example.bbox
    assert prediction[int((y1 + y2) // 2), int((x1 + x2) // 2)]


@pytest.mark.large
@pytest.mark.parametrize(
    "strategy, replicas", [("auto", None), ("mirrored", 2)]
)
def test_train_evaluate_and_write_results(
    cosal_folder, tmp_path, strategy, replicas
):
    config = ReferItTrainingConfig(
        data_dir=cosal_folder.data_dir,
        epochs=1,
        batch_size=8,
        strategy=strategy,
        replicas=replicas,
        max_test_queries=8,
    )
    segmenter, training = train_referit(config, str(tmp_path), verbose=0)
    assert os.path.isfile(tmp_path / "model.keras")
    assert training["train_steps"] == training["steps_per_epoch"]
    assert training["replicas"] == (replicas or 1)
    results = evaluate_referit_run(config, segmenter)
    assert set(results["test"]) == {"ours", "whole_image", "true_tile"}
    results["training"] = training
    path = str(tmp_path / "table.md")
    write_referit_results(results, path, config.data_dir)
    assert "Table 3" in open(path).read()
    assert np.isfinite(
        json.load(open(tmp_path / "table.json"))["training"]["loss"][0]
    )


@pytest.fixture(scope="module")
def scene_folder(tmp_path_factory):
    return _written_folder(
        tmp_path_factory,
        write_scene_referit_data,
        make_scene_data=10,
        scene_sides=(48, 64),
    )


def test_scene_folder_records_its_source(scene_folder):
    with open(os.path.join(scene_folder.data_dir, referit.SOURCE_FILE)) as f:
        source = json.load(f)
    assert source["arguments"]["num_images"] == 10
    assert source["arguments"]["min_size"] == 48
    assert source["arguments"]["max_size"] == 64
    with pytest.raises(FileExistsError, match="--make-scene-data"):
        write_scene_referit_data(scene_folder)


def test_baselines_alone_make_a_table(scene_folder, tmp_path):
    results = evaluate_referit_baselines(scene_folder)
    assert set(results["test"]) == {"whole_image", "category_only"}
    assert results["scene_source"]["arguments"]["num_images"] == 10
    assert results["cosal_source"] is None
    path = str(tmp_path / "baselines.md")
    write_referit_results(results, path, scene_folder.data_dir)
    text = open(path).read()
    assert "| Oracle: category only (test) |" in text
    assert "Ours" not in text
    assert "Training:" not in text


@pytest.mark.large
def test_train_with_blank_text(scene_folder, tmp_path):
    config = dataclasses.replace(
        scene_folder,
        make_scene_data=None,
        epochs=1,
        batch_size=8,
        max_test_queries=8,
        blank_text=True,
    )
    segmenter, training = train_referit(config, str(tmp_path), verbose=0)
    assert training["blank_text"]
    results = evaluate_referit_run(config, segmenter)
    assert list(results["test"]) == ["ours", "whole_image", "category_only"]
    results["training"] = training
    path = str(tmp_path / "table.md")
    write_referit_results(results, path, config.data_dir)
    assert "text blanked on scenes (test)" in open(path).read()


def test_run_label_names_the_model_trained():
    assert run_label({"preset": "referit_small"}) == "`referit_small`, T=3"
    training = {
        "preset": "referit_paper",
        "model_overrides": {"max_steps": 1, "spatial_features": False},
        "blank_text": True,
    }
    assert run_label(training) == "`referit_paper`, T=1, text blanked"
