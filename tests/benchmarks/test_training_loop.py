import pytest
import training_loop

from keras_lbie.training import CoSaLTrainingConfig


def test_real_loop_speed_leaves_the_first_epoch_out():
    config = CoSaLTrainingConfig(train_examples=640, batch_size=32, epochs=3)
    history = [
        {"epoch": 1, "train_seconds": 5.0},
        {"epoch": 2, "train_seconds": 7.0},
        {"epoch": 3, "train_seconds": 9.0},
    ]
    # Epochs 2 and 3: 2 x 640 examples in 4 s.
    speed = training_loop.real_loop_speed({"history": history}, config)
    assert speed == pytest.approx(320.0)


def test_flags_after_dashes_go_to_the_training():
    args = training_loop.parse_args(
        ["--preset", "cosal", "--", "--precision", "bfloat16"]
    )
    assert args.preset == "cosal"
    assert args.training_flags == ["--precision", "bfloat16"]
    config = training_loop._config(
        "cosal", 16, 320, 2, args.training_flags, "run"
    )
    assert (config.preset, config.batch_size) == ("cosal", 16)
    assert (config.train_examples, config.epochs) == (320, 2)
    assert config.precision == "bfloat16"


def test_one_epoch_cannot_be_timed():
    with pytest.raises(ValueError, match="`epochs` must be >= 2"):
        training_loop.measure(epochs=1)


@pytest.mark.large
def test_measure_times_the_real_loop_and_the_bare_step():
    result = training_loop.measure(
        batch_size=8, examples=32, epochs=2, repeats=1, bare_steps=2
    )
    assert result["real_examples_per_s"] > 0
    assert result["bare_examples_per_s"] > 0
    assert result["precision"] == "float32"
    assert result["jit_compile"] is False
    assert 0 <= result["cosal_region_iou"] <= 1
