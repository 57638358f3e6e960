import json
import os

import cosal_by_depth
import numpy as np
import pytest

from keras_lbie.datasets import cosal
from keras_lbie.models import LBIESegmenter


@pytest.mark.parametrize("num_direct", [1, 4, 8])
def test_tile_depths_follow_the_generated_tree(num_direct):
    data = cosal.generate(40, num_direct=num_direct, seed=3)
    for text, shapes, colours in zip(
        data["text"], data["tile_shapes"], data["tile_colors"], strict=True
    ):
        depths, stated = cosal_by_depth.tile_depths(text, shapes)
        assert sorted(depths) == list(range(9))
        assert list(depths.values()).count(0) == num_direct
        for tile, colour in stated.items():
            assert colour == cosal.COLOR_NAMES[colours[tile] - 1]
        for tile, depth in depths.items():
            if depth:
                row, col = divmod(tile, 3)
                neighbours = [
                    depths[r * 3 + c]
                    for r, c in ((row - 1, col), (row + 1, col))
                    + ((row, col - 1), (row, col + 1))
                    if 0 <= r < 3 and 0 <= c < 3
                ]
                assert depth - 1 in neighbours


def test_tile_depths_do_not_depend_on_sentence_order():
    ordered = cosal.generate(40, num_direct=4, seed=4)
    shuffled = cosal.generate(40, num_direct=4, seed=4, shuffle_sentences=True)
    for k in range(40):
        shapes = ordered["tile_shapes"][k]
        assert cosal_by_depth.tile_depths(
            shuffled["text"][k], shapes
        ) == cosal_by_depth.tile_depths(ordered["text"][k], shapes)


def test_tile_depths_of_a_written_example():
    text = (
        "The circle is red. The shape below the circle is blue. "
        "The shape right of the diamond is grey."
    )
    # circle at tile 0, diamond (below it) at tile 3.
    shapes = [9, 1, 2, 8, 3, 4, 5, 6, 7]
    depths, colours = cosal_by_depth.tile_depths(text, shapes)
    assert depths == {0: 0, 3: 1, 4: 2}
    assert colours == {0: "red", 3: "blue", 4: "grey"}


def test_score_by_depth_of_perfect_and_empty_predictions():
    data = cosal.generate(30, num_direct=8, seed=5)
    perfect = cosal_by_depth.score_by_depth(data["label"], data)
    assert set(perfect) == {0, 1}
    assert perfect[0] == (30 * 8, 1.0, None, None)
    # One relational sentence: its colour is always the tile's.
    assert perfect[1] == (30, 1.0, 1.0, None)
    background = cosal_by_depth.score_by_depth(
        np.zeros_like(data["label"]), data
    )
    assert all(score[1] == 0.0 for score in background.values())


def test_stop_steps_by_depth_are_shares_of_the_tile_regions():
    data = cosal.generate(10, num_direct=8, seed=6)
    steps = np.ones((10, 6, 6), "int64")
    # Every region of the relational tile stops at step 3.
    for k, text in enumerate(data["text"]):
        depths, _ = cosal_by_depth.tile_depths(text, data["tile_shapes"][k])
        (tile,) = [t for t, depth in depths.items() if depth]
        row, col = divmod(tile, 3)
        steps[k, 2 * row : 2 * row + 2, 2 * col : 2 * col + 2] = 3
    scores = cosal_by_depth.score_by_depth(data["label"], data, steps)
    assert scores[0][3] == (1.0,)
    assert scores[1][3] == (0.0, 0.0, 1.0)


def test_relational_chance_is_the_share_of_matching_colours():
    data = cosal.generate(1, num_direct=7, seed=0)
    depths, colours = cosal_by_depth.tile_depths(
        data["text"][0], data["tile_shapes"][0]
    )
    relational = [colours[t] for t in colours if depths[t]]
    scores = cosal_by_depth.score_by_depth(data["label"], data)
    expected = np.mean(
        [relational.count(c) / len(relational) for c in relational]
    )
    chances = [score[2] for score in scores.values() if score[2]]
    tiles = [score[0] for depth, score in scores.items() if depth]
    assert np.average(chances, weights=tiles) == pytest.approx(expected)


def write_run(output_dir, num_direct):
    """A finished `train_cosal.py` run: results.json, final weights and an
    epoch-1 checkpoint holding different weights."""
    overrides = {"seed": 0, "max_steps": 1, "encoder_filters": [2] * 9}
    overrides["pool_every"] = 3
    segmenter = LBIESegmenter.from_preset(
        "cosal_paper", load_weights=False, **overrides
    )
    os.makedirs(output_dir / "checkpoints")
    segmenter.backbone.save_weights(output_dir / "model.weights.h5")
    kernel = segmenter.backbone.trainable_weights[0]
    kernel.assign(kernel + 1.0)
    segmenter.backbone.save_weights(
        output_dir / "checkpoints" / "epoch_1.weights.h5"
    )
    with open(output_dir / "results.json", "w") as f:
        json.dump(
            {
                "preset": "cosal_paper",
                "overrides": overrides,
                "num_direct": num_direct,
            },
            f,
        )
    return kernel.numpy()


def test_run_models_load_a_run_or_its_checkpoint(tmp_path):
    epoch_1_kernel = write_run(tmp_path / "run", [4, 6])
    models = cosal_by_depth.run_models(
        [f"final={tmp_path / 'run'}", f"a=b={tmp_path / 'run'}@1"]
    )
    assert list(models) == ["final", "a=b"]
    final, settings = models["final"]
    assert settings == (4, 6)
    assert final.backbone.encoder_filters == (2,) * 9
    checkpoint, _ = models["a=b"]
    np.testing.assert_array_equal(
        checkpoint.backbone.trainable_weights[0].numpy(), epoch_1_kernel
    )
    assert not np.array_equal(
        final.backbone.trainable_weights[0].numpy(), epoch_1_kernel
    )


@pytest.mark.parametrize("value", ["{run}", "={run}", "x={run}@7", "x=nope"])
def test_run_models_rejects_bad_runs(tmp_path, value):
    write_run(tmp_path / "run", 4)
    with pytest.raises(ValueError, match="`--run` must be label=output_dir"):
        cosal_by_depth.run_models([value.format(run=tmp_path / "run")])


def test_main_scores_runs_and_names_its_command(tmp_path):
    write_run(tmp_path / "run", 8)
    output = tmp_path / "depth.md"
    argv = ["--examples", "4", "--run", f"tiny={tmp_path / 'run'}"]
    cosal_by_depth.main([*argv, "--output", str(output)])
    text = output.read_text()
    assert f"--run tiny={tmp_path / 'run'}" in text
    # num_direct=8: 32 direct tiles and 4 relational ones.
    assert "| tiny | 8 | 0 | 32 |" in text
    assert "| tiny | 8 | 1 | 4 |" in text
