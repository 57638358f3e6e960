"""Resuming a killed CoSaL training run, and its output folder."""

import dataclasses
import os

import keras
import numpy as np
import pytest

from keras_lbie.models import LBIESegmenter
from keras_lbie.training import CoSaLTrainingConfig
from keras_lbie.training import train_cosal
from keras_lbie.training.cosal_training import _train_dataset
from keras_lbie.training.cosal_training import prepare_output_dir

# 2 epochs of 4 steps, backed up every 3 steps: a kill after step 5 leaves
# the backup of step 3, mid-epoch 1.
CONFIG = CoSaLTrainingConfig(
    max_steps=2,
    train_examples=32,
    test_examples=8,
    epochs=2,
    batch_size=8,
    cosine_decay=True,
    history_examples=8,
    save_every_steps=3,
)


class _Kill(keras.callbacks.Callback):
    """Raises after `steps` training steps, as a kill would stop the run."""

    def __init__(self, steps):
        super().__init__()
        self.steps = steps

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations) >= self.steps:
            raise KeyboardInterrupt("killed")


@pytest.mark.large
def test_resumed_run_ends_with_the_uninterrupted_weights(tmp_path, monkeypatch):
    whole, whole_results = train_cosal(CONFIG, tmp_path / "whole", verbose=0)

    from keras_lbie.training import cosal_training

    real = cosal_training.checkpoint_callback
    monkeypatch.setattr(
        cosal_training,
        "checkpoint_callback",
        lambda output_dir: _Chain(real(output_dir), _Kill(5)),
    )
    with pytest.raises(KeyboardInterrupt):
        train_cosal(CONFIG, tmp_path / "killed", verbose=0)
    monkeypatch.setattr(cosal_training, "checkpoint_callback", real)
    assert os.path.isfile(tmp_path / "killed/backup/latest.weights.h5")
    assert not os.path.exists(tmp_path / "killed/results.json")

    resumed, results = train_cosal(
        CONFIG, tmp_path / "killed", verbose=0, resume=True
    )
    for a, b in zip(
        whole.backbone.weights, resumed.backbone.weights, strict=True
    ):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    assert [e["epoch"] for e in results["history"]] == [1, 2]
    assert results["history"][1]["cosal_region_iou"] == pytest.approx(
        whole_results["history"][1]["cosal_region_iou"]
    )
    assert results["metrics"] == pytest.approx(whole_results["metrics"])
    # The finished run keeps no backup.
    assert not os.path.exists(tmp_path / "killed/backup")


@pytest.mark.large
def test_a_backup_of_other_settings_is_not_resumed(tmp_path, monkeypatch):
    from keras_lbie.training import cosal_training

    real = cosal_training.checkpoint_callback
    monkeypatch.setattr(
        cosal_training,
        "checkpoint_callback",
        lambda output_dir: _Chain(real(output_dir), _Kill(3)),
    )
    with pytest.raises(KeyboardInterrupt):
        train_cosal(CONFIG, tmp_path, verbose=0)
    other = dataclasses.replace(CONFIG, epochs=3)
    with pytest.raises(ValueError, match="epochs 2 → 3"):
        train_cosal(other, tmp_path, verbose=0, resume=True)


class _Chain(keras.callbacks.Callback):
    def __init__(self, *callbacks):
        super().__init__()
        self.callbacks = callbacks

    def set_model(self, model):
        super().set_model(model)
        for callback in self.callbacks:
            callback.set_model(model)

    def on_train_batch_end(self, batch, logs=None):
        for callback in self.callbacks:
            callback.on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)


def test_a_folder_holding_a_run_is_refused(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    with pytest.raises(ValueError, match=f"{tmp_path} already holds"):
        prepare_output_dir(tmp_path)


def test_overwrite_deletes_the_earlier_run(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    os.makedirs(tmp_path / "checkpoints")
    (tmp_path / "notes.txt").write_text("mine")
    prepare_output_dir(tmp_path, overwrite=True)
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


def test_resume_and_overwrite_together_are_refused(tmp_path):
    with pytest.raises(ValueError, match="not both"):
        prepare_output_dir(tmp_path, resume=True, overwrite=True)


def test_resuming_a_finished_run_is_refused(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    with pytest.raises(ValueError, match="finished run"):
        prepare_output_dir(tmp_path, resume=True)


def test_the_data_from_a_step_is_the_whole_run_s_from_that_step():
    config = dataclasses.replace(CONFIG, num_direct=(4, 6), train_examples=48)
    segmenter = LBIESegmenter.from_preset("cosal_paper", max_steps=1)

    def texts(first_step):
        dataset = _train_dataset(config, segmenter, first_step)
        return [x["token_ids"].numpy().tobytes() for x, _ in dataset]

    whole = texts(0)
    steps_per_epoch = config.train_steps // config.epochs
    assert len(whole) == config.train_steps == 2 * steps_per_epoch
    assert texts(4) == whole[4:]
    assert texts(steps_per_epoch + 2) == whole[steps_per_epoch + 2 :]
    # Each epoch has its own order.
    assert whole[:steps_per_epoch] != whole[steps_per_epoch:]
