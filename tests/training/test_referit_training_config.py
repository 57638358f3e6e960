"""Tests for the ReferIt training config and its command-line flags."""

import argparse

import pytest

from keras_lbie.models import available_referit_presets
from keras_lbie.training import ReferItTrainingConfig
from keras_lbie.training import add_referit_training_arguments


def parse(*argv):
    parser = argparse.ArgumentParser()
    add_referit_training_arguments(parser, available_referit_presets())
    return parser.parse_args(list(argv))


def test_flag_defaults_are_the_config_defaults():
    config = ReferItTrainingConfig.from_args(parse("--data-dir", "d"))
    assert config == ReferItTrainingConfig(data_dir="d")
    assert config.overrides() == {}


def test_flags_map_to_fields_and_overrides():
    config = ReferItTrainingConfig.from_args(
        parse(
            "--data-dir", "d", "--preset", "referit_paper",
            "--encoder-weights", "imagenet", "--make-cosal-data", "8",
            "--cosal-size", "48x64", "--object-weight", "10",
            "--max-test-queries", "5", "--jit-compile",
        )
    )  # fmt: skip
    assert config.preset == "referit_paper"
    assert config.cosal_size == (48, 64)
    assert config.make_cosal_data == 8
    assert config.object_weight == 10.0
    assert config.max_test_queries == 5
    assert config.jit_compile
    assert config.overrides() == {"encoder_weights": "imagenet"}


def test_model_flags_become_preset_overrides():
    config = ReferItTrainingConfig.from_args(parse("--data-dir", "d"))
    assert config.overrides() == {}
    config = ReferItTrainingConfig.from_args(
        parse("--data-dir", "d", "--max-steps", "1", "--spatial-features")
    )
    assert config.overrides() == {"max_steps": 1, "spatial_features": True}
    config = ReferItTrainingConfig.from_args(
        parse("--data-dir", "d", "--no-spatial-features")
    )
    assert config.overrides() == {"spatial_features": False}


def test_unknown_preset_is_a_usage_error():
    with pytest.raises(SystemExit):
        parse("--data-dir", "d", "--preset", "nope")


def test_scene_and_blank_text_flags():
    config = ReferItTrainingConfig.from_args(
        parse(
            "--data-dir", "d", "--make-scene-data", "20",
            "--scene-sides", "48,96", "--blank-text",
        )
    )  # fmt: skip
    assert config.make_scene_data == 20
    assert config.scene_sides == (48, 96)
    assert config.blank_text
    assert config.make_cosal_data is None


def test_one_synthetic_set_at_a_time():
    with pytest.raises(SystemExit):
        parse(
            "--data-dir", "d", "--make-scene-data", "2",
            "--make-cosal-data", "2",
        )  # fmt: skip
