"""Tests for the CoSaL training config and its command-line flags."""

import argparse

import numpy as np
import pytest

from keras_lbie.models import LBIESegmenter
from keras_lbie.training import CoSaLTrainingConfig
from keras_lbie.training import add_training_arguments
from keras_lbie.training import cosal_train_splits


def parse(*argv, default_preset="cosal_paper"):
    parser = argparse.ArgumentParser()
    add_training_arguments(parser, default_preset=default_preset)
    return parser.parse_args(["--output-dir", "run", *argv])


def test_flag_defaults_are_the_config_defaults():
    assert CoSaLTrainingConfig.from_args(parse()) == CoSaLTrainingConfig()
    assert parse(default_preset="cosal").preset == "cosal"


def test_flags_map_to_fields_and_overrides():
    config = CoSaLTrainingConfig.from_args(
        parse(
            "--max-steps", "1", "--no-attention",
            "--termination-mode", "expected", "--num-direct", "4,6,8",
            "--train", "300", "--batch-size", "16", "--seed", "3",
            "--cosine-decay", "--encoder-filters", "4,4,4,8,8,8",
            "--pool-every", "3",
        )
    )  # fmt: skip
    assert config.num_direct == (4, 6, 8)
    assert config.cosine_decay
    assert config.overrides() == {
        "seed": 3,
        "max_steps": 1,
        "use_attention": False,
        "termination_mode": "expected",
        "encoder_filters": (4, 4, 4, 8, 8, 8),
        "pool_every": 3,
    }
    # 100 examples per setting: 6 whole batches of 16 each.
    assert config.examples_per_setting == 100
    assert config.batches_per_setting == 6
    assert config.train_steps == 3 * 6 * 10


def test_augmentation_and_relation_flags():
    config = CoSaLTrainingConfig.from_args(
        parse(
            "--shuffle-sentences", "--jitter", "2",
            "--integer-coordinates", "0.5", "--object-weight", "3",
            "--relation-kernel-size", "5",
        )
    )  # fmt: skip
    assert config.augmentation == {
        "shuffle_sentences": True,
        "jitter": 2,
        "integer_coordinates": 0.5,
    }
    assert config.object_weight == 3.0
    assert config.overrides() == {"seed": 0, "relation_kernel_size": 5}
    splits = cosal_train_splits((4, 8), 100, 0, **config.augmentation)
    assert all(split.jitter == 2 for split in splits)
    assert splits[0].file_prefix == "train_nd4_shuffle1_jitter2_integer0.5"
    data = splits[0].generate(0, 3)
    plain = cosal_train_splits((4, 8), 100, 0)[0].generate(0, 3)

    def sentences(text):
        return sorted(sentence.strip() for sentence in text.split("."))

    assert sentences(data["text"][0]) == sentences(plain["text"][0])
    assert not np.array_equal(data["shape_map"], plain["shape_map"])


def test_default_overrides_hold_only_the_seed():
    assert CoSaLTrainingConfig(seed=5).overrides() == {"seed": 5}


@pytest.mark.parametrize("value", ["0", "10", "4,x", "", "4,,6"])
def test_num_direct_rejects_bad_lists(value, capsys):
    with pytest.raises(SystemExit):
        parse("--num-direct", value)
    assert "expected ints in 1..9" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "4,-8", "4,x", ""])
def test_encoder_filters_rejects_bad_lists(value, capsys):
    with pytest.raises(SystemExit):
        parse("--encoder-filters", value)
    assert "expected positive ints" in capsys.readouterr().err


def test_encoder_overrides_reach_the_backbone():
    config = CoSaLTrainingConfig(encoder_filters=(4,) * 9, pool_every=3)
    backbone = LBIESegmenter.from_preset(
        "cosal_paper", load_weights=False, **config.overrides()
    ).backbone
    assert backbone.encoder_filters == (4,) * 9
    # Three poolings, as with the paper's six convolutions in pairs.
    assert backbone.upsampling_factor == 8


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"train_examples": 0}, "train_examples"),
        ({"test_examples": -1}, "test_examples"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"train_examples": 20, "batch_size": 32}, "at least one batch"),
        (
            {"train_examples": 60, "batch_size": 32, "num_direct": (4, 6)},
            "at least one batch",
        ),
    ],
)
def test_rejects_runs_without_a_batch(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CoSaLTrainingConfig(**kwargs)


def test_precision_and_jit_compile_flags():
    assert CoSaLTrainingConfig().precision == "float32"
    assert CoSaLTrainingConfig().jit_compile is False
    config = CoSaLTrainingConfig.from_args(parse("--precision", "bfloat16"))
    assert config.precision == "bfloat16"
    assert CoSaLTrainingConfig.from_args(parse("--jit-compile")).jit_compile
    fusion = CoSaLTrainingConfig.from_args(parse("--jit-compile-fusion"))
    assert fusion.jit_compile == "fusion"
    with pytest.raises(SystemExit):
        parse("--jit-compile", "--jit-compile-fusion")
    with pytest.raises(SystemExit):
        parse("--precision", "float64")


@pytest.mark.parametrize(
    "field, value",
    [("precision", "float64"), ("jit_compile", "auto"), ("jit_compile", 1)],
)
def test_bad_precision_or_jit_compile_is_named(field, value):
    with pytest.raises(ValueError, match=f"`{field}` must be one of"):
        CoSaLTrainingConfig(**{field: value})
