"""Tests for the CoSaL generator: scenes, sentences and their determinism."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_lbie.datasets import cosal
from keras_lbie.datasets.cosal.generator import _rasterise_tiles

_SHAPE = "|".join(re.escape(name) for name in cosal.SHAPE_NAMES)
_COLOUR = "|".join(re.escape(name) for name in cosal.COLOR_NAMES)
DIRECT = re.compile(rf"The ({_SHAPE}) is ({_COLOUR})\.")
RELATIONAL = re.compile(
    rf"The shape (above|below|left of|right of) the ({_SHAPE}) is ({_COLOUR})\."
)
OFFSETS = {
    "above": (-1, 0),
    "below": (1, 0),
    "left of": (0, -1),
    "right of": (0, 1),
}
SHAPE_ID = {name: k + 1 for k, name in enumerate(cosal.SHAPE_NAMES)}
CLASS_ID = {name: k + 1 for k, name in enumerate(cosal.COLOR_NAMES)}
KEYS = (
    "image",
    "target",
    "label",
    "shape_map",
    "text",
    "tile_shapes",
    "tile_colors",
)


def sentences_of(text):
    return re.split(r"(?<=\.) ", text)


def tiles_of(array):
    """Splits (H, W) into (9, s, s) tiles, row-major."""
    s = array.shape[0] // cosal.GRID_SIZE
    return array.reshape(3, s, 3, s).transpose(0, 2, 1, 3).reshape(9, s, s)


def read_silhouettes(shape_map):
    """Shape id of each tile, as the shape of its silhouette identifies it."""
    return tiles_of(shape_map).max(axis=(1, 2))


def solve(text, shape_map):
    """Recovers each tile's class id from the text and the silhouettes.

    A sentence names a shape; the silhouettes say which tile holds it, and a
    relation moves one tile from there.

    Returns:
        (9,) class id per tile, 0 where no sentence determines it; raises on
        two different colours stated for one tile.
    """
    tile_of_shape = {s: t for t, s in enumerate(read_silhouettes(shape_map))}
    colours = np.zeros(9, np.int64)
    for sentence in sentences_of(text):
        match = DIRECT.fullmatch(sentence)
        if match:
            tile = tile_of_shape[SHAPE_ID[match[1]]]
            colour = CLASS_ID[match[2]]
        else:
            match = RELATIONAL.fullmatch(sentence)
            assert match, sentence
            row, col = divmod(tile_of_shape[SHAPE_ID[match[2]]], 3)
            d_row, d_col = OFFSETS[match[1]]
            assert 0 <= row + d_row < 3 and 0 <= col + d_col < 3, sentence
            tile = (row + d_row) * 3 + col + d_col
            colour = CLASS_ID[match[3]]
        assert colours[tile] in (0, colour), f"contradiction: {text}"
        colours[tile] = colour
    return colours


def solve_all(data):
    return np.stack(
        [
            solve(t, m)
            for t, m in zip(data["text"], data["shape_map"], strict=True)
        ]
    )


def assert_equal_data(a, b):
    assert set(a) == set(b) == set(KEYS)
    for key in KEYS:
        assert a[key].dtype == b[key].dtype, key
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def concat(*parts):
    return {key: np.concatenate([p[key] for p in parts]) for key in KEYS}


# --- Solvability -----------------------------------------------------------


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("num_direct", [1, 4, 6, 8])
def test_text_and_silhouettes_determine_every_tile(num_direct, shuffle):
    data = cosal.generate(
        300, num_direct=num_direct, seed=7, shuffle_sentences=shuffle
    )
    np.testing.assert_array_equal(solve_all(data), data["tile_colors"])


def test_every_tile_is_described_exactly_once():
    data = cosal.generate(200, num_direct=3, seed=2)
    for text, shape_map in zip(data["text"], data["shape_map"], strict=True):
        described = []
        for sentence in sentences_of(text):
            described.append(np.flatnonzero(solve(sentence, shape_map)))
        assert sorted(np.concatenate(described)) == list(range(9))


@pytest.mark.parametrize("num_direct", [2, 4, 6])
def test_authors_bug_leaves_tiles_undetermined(num_direct):
    data = cosal.generate(
        300, num_direct=num_direct, seed=3, seed_from_first_direct_only=True
    )
    solved = solve_all(data)
    unknown = solved == 0
    assert unknown.any(axis=1).sum() >= 1
    # Whatever the text does state is still true.
    np.testing.assert_array_equal(
        solved[~unknown], data["tile_colors"][~unknown]
    )


def test_authors_bug_is_a_no_op_with_one_direct_sentence():
    kwargs = dict(num_direct=1, seed=4, shuffle_sentences=True)
    assert_equal_data(
        cosal.generate(50, **kwargs),
        cosal.generate(50, seed_from_first_direct_only=True, **kwargs),
    )


def test_relational_sentences_follow_tree_order():
    # Each relational sentence names a shape whose tile is already described.
    data = cosal.generate(200, num_direct=2, seed=5)
    for text, shape_map in zip(data["text"], data["shape_map"], strict=True):
        shapes = read_silhouettes(shape_map)
        described = set()
        for sentence in sentences_of(text):
            match = RELATIONAL.fullmatch(sentence)
            if match:
                anchor = int(np.flatnonzero(shapes == SHAPE_ID[match[2]])[0])
                assert anchor in described, text
            described.update(np.flatnonzero(solve(sentence, shape_map)))


# --- Sentence grammar ------------------------------------------------------


@pytest.mark.parametrize("num_direct", [1, 5, 9])
def test_sentences_match_the_templates(num_direct):
    data = cosal.generate(100, num_direct=num_direct, seed=6)
    assert data["text"].dtype == object
    for text in data["text"]:
        assert isinstance(text, str)
        sentences = sentences_of(text)
        assert " ".join(sentences) == text
        assert len(sentences) == 9
        direct = [bool(DIRECT.fullmatch(s)) for s in sentences]
        relational = [bool(RELATIONAL.fullmatch(s)) for s in sentences]
        assert all(d != r for d, r in zip(direct, relational, strict=True)), (
            text
        )
        assert direct == [True] * num_direct + [False] * (9 - num_direct)


def test_shuffled_sentences_permute_the_unshuffled_ones():
    plain = cosal.generate(100, num_direct=4, seed=8)
    shuffled = cosal.generate(100, num_direct=4, seed=8, shuffle_sentences=True)
    moved = 0
    for a, b in zip(plain["text"], shuffled["text"], strict=True):
        assert sorted(sentences_of(a)) == sorted(sentences_of(b))
        kinds = [bool(DIRECT.fullmatch(s)) for s in sentences_of(b)]
        moved += kinds != sorted(kinds, reverse=True)
    assert moved > 50
    for key in KEYS[:4]:
        np.testing.assert_array_equal(plain[key], shuffled[key])


def test_direct_sentences_name_distinct_shapes():
    data = cosal.generate(100, num_direct=7, seed=9)
    for text in data["text"]:
        named = [DIRECT.fullmatch(s) for s in sentences_of(text)]
        names = [m[1] for m in named if m]
        assert len(set(names)) == len(names) == 7


# --- Images ----------------------------------------------------------------


@pytest.mark.parametrize("image_size", [36, 48, 96])
@pytest.mark.parametrize("num_colors", [1, 3, 6])
def test_images_labels_and_shapes_agree(image_size, num_colors):
    data = cosal.generate(
        60, num_colors=num_colors, image_size=image_size, seed=10
    )
    n, size = 60, image_size
    assert data["image"].shape == data["target"].shape == (n, size, size, 3)
    assert data["label"].shape == data["shape_map"].shape == (n, size, size)
    assert data["tile_shapes"].shape == data["tile_colors"].shape == (n, 9)
    for key in KEYS:
        if key != "text":
            assert data[key].dtype == np.uint8, key
    shape = data["shape_map"] > 0
    # Silhouettes: black on white, nothing else.
    silhouettes = np.where(shape, 0, 255)[..., None].repeat(3, axis=-1)
    np.testing.assert_array_equal(data["image"], silhouettes)
    # Targets: white or one of the first `num_colors` palette colours, and
    # exactly the palette entry of the label.
    lut = np.array([cosal.BACKGROUND_RGB, *cosal.PALETTE_RGB], np.uint8)
    np.testing.assert_array_equal(data["target"], lut[data["label"]])
    assert data["label"].max() <= num_colors
    np.testing.assert_array_equal(data["label"] > 0, shape)
    for example in range(n):
        tiles = tiles_of(data["shape_map"][example])
        labels = tiles_of(data["label"][example])
        for tile in range(9):
            shape_id = data["tile_shapes"][example, tile]
            assert set(np.unique(tiles[tile])) == {0, shape_id}
            assert set(np.unique(labels[tile])) == {
                0,
                data["tile_colors"][example, tile],
            }


def test_each_image_holds_each_shape_once():
    data = cosal.generate(300, seed=11)
    np.testing.assert_array_equal(
        np.sort(data["tile_shapes"], axis=1),
        np.tile(np.arange(1, 10), (300, 1)),
    )
    for shape_map, tile_shapes in zip(
        data["shape_map"], data["tile_shapes"], strict=True
    ):
        np.testing.assert_array_equal(read_silhouettes(shape_map), tile_shapes)


def test_target_colours_are_palette_colours():
    data = cosal.generate(50, num_colors=2, seed=12)
    colours = np.unique(data["target"].reshape(-1, 3), axis=0)
    allowed = {cosal.BACKGROUND_RGB, *cosal.PALETTE_RGB[:2]}
    assert {tuple(int(v) for v in c) for c in colours} == allowed
    assert set(np.unique(data["image"])) == {0, 255}


def test_draws_are_roughly_uniform():
    data = cosal.generate(400, num_colors=6, seed=13)
    colour_counts = np.bincount(data["tile_colors"].ravel(), minlength=7)[1:]
    expected = 400 * 9 / 6
    assert np.all(np.abs(colour_counts - expected) < 5 * np.sqrt(expected))
    # Shape k in tile t, for every (k, t): expected 400 / 9 times.
    counts = np.zeros((9, 9))
    np.add.at(counts, (data["tile_shapes"] - 1, np.arange(9)), 1)
    assert counts.min() > 20 and counts.max() < 70


def pixel_extent(mask, tile_size):
    """(x_min, x_max, y_min, y_max) of a mask's pixel centres, tile units."""
    ys, xs = np.nonzero(mask)
    centres = np.array([xs.min(), xs.max(), ys.min(), ys.max()]) + 0.5
    return centres / tile_size


# Bounds of (x_min, x_max, y_min, y_max) per shape from the spec's ranges.
EXTENTS = {
    "rectangle": ((0.1, 0.3), (0.7, 0.9), (0.1, 0.3), (0.7, 0.9)),
    "half fat ellipse": (
        (0.12, 0.22),
        (0.78, 0.88),
        (0.45, 0.55),
        (0.62, 0.72),
    ),
    "fat ellipse": ((0.12, 0.22), (0.78, 0.88), (0.28, 0.38), (0.62, 0.72)),
    "triangle": ((0.2, 0.4), (0.7, 0.8), (0.2, 0.3), (0.7, 0.8)),
    "reverse triangle": ((0.2, 0.4), (0.7, 0.8), (0.2, 0.3), (0.7, 0.8)),
    "thin ellipse": ((0.28, 0.38), (0.62, 0.72), (0.12, 0.22), (0.78, 0.88)),
    "half thin ellipse": (
        (0.28, 0.38),
        (0.62, 0.72),
        (0.45, 0.55),
        (0.78, 0.88),
    ),
    "diamond": ((0.2, 0.3), (0.7, 0.8), (0.2, 0.3), (0.7, 0.8)),
    "circle": ((0.05, 0.25), (0.75, 0.95), (0.05, 0.25), (0.75, 0.95)),
}
HEIGHTS = {"half fat ellipse": 1 / 6, "half thin ellipse": 1 / 3}


def test_shape_geometry_follows_the_spec():
    tile_size = 80
    data = cosal.generate(40, image_size=3 * tile_size, seed=14)
    # Pixel centres can miss a sharp vertex by a few pixels.
    tol = 3.0 / tile_size
    for shape_map in data["shape_map"]:
        for tile in tiles_of(shape_map):
            shape_id = tile.max()
            name = cosal.SHAPE_NAMES[shape_id - 1]
            mask = tile == shape_id
            extent = pixel_extent(mask, tile_size)
            for value, (low, high) in zip(extent, EXTENTS[name], strict=True):
                assert low - tol <= value <= high + tol, (name, extent)
            if name in HEIGHTS:
                height = extent[3] - extent[2]
                assert abs(height - HEIGHTS[name]) <= tol, name
            widest = (np.argmax(mask.sum(axis=1)) + 0.5) / tile_size
            middle = (extent[2] + extent[3]) / 2
            if name == "triangle":
                assert widest > middle
            if name == "reverse triangle":
                assert widest < middle
            if name == "rectangle":
                ys, xs = np.nonzero(mask)
                assert mask.sum() == (np.ptp(ys) + 1) * (np.ptp(xs) + 1)


def test_every_shape_covers_a_pixel_at_the_smallest_size():
    # Extreme and middle parameter draws of every shape in 8-px tiles.
    grid = np.stack(np.meshgrid(*[[0.0, 0.5, 1.0]] * 8), -1).reshape(-1, 8)
    n = len(grid)
    uniforms = np.repeat(grid[:, None, :], 9, axis=1)
    tile_shapes = np.tile(np.arange(1, 10), (n, 1))
    shapes, _ = _rasterise_tiles(
        tile_shapes, np.ones_like(tile_shapes), uniforms, tile_size=8
    )
    assert shapes.reshape(n, 9, -1).max(axis=2).min() > 0
    random = cosal.generate(2000, image_size=cosal.MIN_IMAGE_SIZE, seed=15)
    for shape_map in random["shape_map"]:
        assert (tiles_of(shape_map).reshape(9, -1).max(axis=1) > 0).all()


@pytest.mark.parametrize("image_size", [cosal.MIN_IMAGE_SIZE, 48])
def test_silhouettes_identify_the_shapes(image_size):
    # The solver reads shape identity from `shape_map`; that equals reading
    # it from the silhouette only if no two shape types draw the same mask.
    data = cosal.generate(3000, image_size=image_size, seed=31)
    shape_of_mask = {}
    ambiguous = 0
    for image, shape_map in zip(data["image"], data["shape_map"], strict=True):
        masks = tiles_of(image[..., 0] == 0).reshape(9, -1)
        shapes = tiles_of(shape_map).reshape(9, -1).max(axis=1)
        for mask, shape in zip(masks, shapes, strict=True):
            known = shape_of_mask.setdefault(mask.tobytes(), shape)
            ambiguous += known != shape
    assert ambiguous == 0


# --- Determinism -----------------------------------------------------------


def test_same_seed_is_byte_identical():
    assert_equal_data(cosal.generate(30, seed=16), cosal.generate(30, seed=16))


def test_different_seeds_differ():
    a, b = cosal.generate(30, seed=17), cosal.generate(30, seed=18)
    assert not np.array_equal(a["shape_map"], b["shape_map"])
    assert not np.array_equal(a["text"], b["text"])


def test_chunks_concatenate_to_the_whole():
    whole = cosal.generate(20, seed=19)
    parts = concat(
        cosal.generate(10, seed=19), cosal.generate(10, seed=19, start_index=10)
    )
    assert_equal_data(whole, parts)


@settings(max_examples=8, deadline=None)
@given(
    split=st.integers(0, 12),
    start=st.integers(0, 10_000),
    shuffle=st.booleans(),
)
def test_any_chunking_gives_the_same_examples(split, start, shuffle):
    kwargs = dict(seed=20, num_direct=3, shuffle_sentences=shuffle)
    whole = cosal.generate(12, start_index=start, **kwargs)
    head = cosal.generate(split, start_index=start, **kwargs)
    tail = cosal.generate(12 - split, start_index=start + split, **kwargs)
    assert_equal_data(whole, concat(head, tail))


def test_images_do_not_depend_on_the_text_settings():
    a = cosal.generate(20, num_direct=2, seed=21)
    b = cosal.generate(20, num_direct=8, seed=21, shuffle_sentences=True)
    for key in KEYS[:4]:
        np.testing.assert_array_equal(a[key], b[key])


def test_zero_examples():
    data = cosal.generate(0, image_size=36)
    assert data["image"].shape == (0, 36, 36, 3)
    assert data["tile_shapes"].shape == (0, 9)
    assert data["text"].shape == (0,)


# --- Augmentation ----------------------------------------------------------


def test_no_augmentation_gives_the_plain_examples():
    plain = cosal.generate(50, seed=21)
    same = cosal.generate(50, seed=21, jitter=0, integer_coordinates=0.0)
    for key in KEYS:
        np.testing.assert_array_equal(plain[key], same[key])


@pytest.mark.parametrize(
    "option", [dict(jitter=2), dict(integer_coordinates=1.0)]
)
def test_augmentation_keeps_the_scene_and_moves_pixels(option):
    plain = cosal.generate(100, seed=22)
    augmented = cosal.generate(100, seed=22, **option)
    for key in ("text", "tile_shapes", "tile_colors"):
        np.testing.assert_array_equal(plain[key], augmented[key])
    changed = np.mean(plain["shape_map"] != augmented["shape_map"])
    assert 0.01 < changed < 0.2
    # Still one colour per shape, each in its own tile.
    for k in range(100):
        for shape in range(1, 10):
            pixels = augmented["shape_map"][k] == shape
            assert pixels.any()
            assert len(np.unique(augmented["label"][k][pixels])) == 1


def test_jitter_moves_each_shape_by_whole_pixels_within_reach():
    plain = cosal.generate(30, seed=23)
    moved = cosal.generate(30, seed=23, jitter=1)
    for k in range(30):
        for shape in range(1, 10):
            before = np.argwhere(plain["shape_map"][k] == shape)
            after = np.argwhere(moved["shape_map"][k] == shape)
            # A shape well inside its tile keeps its size and moves by a
            # whole (dy, dx) with |dy|, |dx| <= 1.
            if len(before) == len(after):
                shift = after.min(axis=0) - before.min(axis=0)
                assert np.abs(shift).max() <= 1
                np.testing.assert_array_equal(before + shift, after)


def test_integer_coordinates_snap_to_the_pixel_grid():
    data = cosal.generate(200, seed=24, integer_coordinates=1.0)
    rectangles = data["shape_map"] == SHAPE_ID["rectangle"]
    plain = cosal.generate(200, seed=24)["shape_map"] == SHAPE_ID["rectangle"]
    # Corners at whole pixels tested at the pixel's corner: the rectangle
    # spans round(x1) - round(x0) + 1 pixels, never fewer than the
    # centre-tested one minus one.
    assert np.all(rectangles.sum((1, 2)) >= plain.sum((1, 2)) * 0.7)
    assert not np.array_equal(rectangles, plain)


@pytest.mark.parametrize("share", [0.3, 0.7])
def test_integer_coordinates_share_is_the_share_of_examples(share):
    plain = cosal.generate(400, seed=25)
    mixed = cosal.generate(400, seed=25, integer_coordinates=share)
    integer = cosal.generate(400, seed=25, integer_coordinates=1.0)
    is_plain = np.all(plain["shape_map"] == mixed["shape_map"], axis=(1, 2))
    is_integer = np.all(integer["shape_map"] == mixed["shape_map"], axis=(1, 2))
    assert np.all(is_plain | is_integer)
    assert abs(np.mean(is_integer & ~is_plain) - share) < 0.08


# --- Bad input -------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(num_examples=-1), ValueError, "num_examples"),
        (dict(num_examples=2.0), TypeError, "num_examples"),
        (dict(num_examples=True), TypeError, "num_examples"),
        (dict(num_direct=0), ValueError, r"num_direct.*1\.\.9"),
        (dict(num_direct=10), ValueError, r"num_direct.*1\.\.9"),
        (dict(num_direct="4"), TypeError, "num_direct"),
        (dict(num_colors=0), ValueError, r"num_colors.*1\.\.6"),
        (dict(num_colors=7), ValueError, r"num_colors.*1\.\.6"),
        (dict(image_size=49), ValueError, "image_size.*divisible by 3"),
        (dict(image_size=33), ValueError, "image_size.*>= 36"),
        (dict(image_size=48.0), TypeError, "image_size"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(seed=None), TypeError, "seed"),
        (dict(start_index=-5), ValueError, "start_index"),
        (dict(shuffle_sentences=1), TypeError, "shuffle_sentences"),
        (dict(seed_from_first_direct_only="yes"), TypeError, "first_direct"),
        (dict(jitter=-1), ValueError, "jitter"),
        (dict(jitter=5), ValueError, r"jitter.*0\.\.4"),
        (dict(jitter=1.0), TypeError, "jitter"),
        (dict(integer_coordinates=1.5), ValueError, "integer_coordinates"),
        (dict(integer_coordinates=True), TypeError, "integer_coordinates"),
        (dict(integer_coordinates="all"), TypeError, "integer_coordinates"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, error, match):
    kwargs = {"num_examples": 2, **kwargs}
    with pytest.raises(error, match=match):
        cosal.generate(**kwargs)


def test_numpy_integers_are_accepted():
    data = cosal.generate(np.int64(2), num_direct=np.int32(3), seed=np.uint8(1))
    assert len(data["text"]) == 2


# --- tf.data and TFRecords -------------------------------------------------


@pytest.mark.large
def test_full_split_generates_quickly():
    import time

    start = time.perf_counter()
    data = cosal.generate(50_000, num_direct=4, seed=0)
    assert time.perf_counter() - start < 60
    assert data["image"].shape == (50_000, 48, 48, 3)
