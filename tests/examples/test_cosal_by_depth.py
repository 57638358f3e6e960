import cosal_by_depth
import numpy as np
import pytest

from keras_lbie.datasets import cosal


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
    assert perfect[0] == (30 * 8, 1.0, None)
    # One relational sentence: its colour is always the tile's.
    assert perfect[1] == (30, 1.0, 1.0)
    background = cosal_by_depth.score_by_depth(
        np.zeros_like(data["label"]), data
    )
    assert all(accuracy == 0.0 for _, accuracy, _ in background.values())


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
    chances = [chance for _, _, chance in scores.values() if chance]
    tiles = [tiles for depth, (tiles, _, _) in scores.items() if depth]
    assert np.average(chances, weights=tiles) == pytest.approx(expected)
