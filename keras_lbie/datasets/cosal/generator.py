"""The CoSaL generator: scenes of 9 coloured shapes and their sentences.

Shape and colour vocabularies are defined here once; the pipeline, the
metrics and the tokenizers' CoSaL vocabulary all read them from this module.
"""

import numpy as np

from keras_lbie.utils.validation import check_bool
from keras_lbie.utils.validation import check_fraction
from keras_lbie.utils.validation import check_int

# Shape ids in `shape_map`: 0 is background, shape `SHAPE_NAMES[k]` is k + 1.
SHAPE_NAMES = (
    "rectangle",
    "half fat ellipse",
    "fat ellipse",
    "triangle",
    "reverse triangle",
    "thin ellipse",
    "half thin ellipse",
    "diamond",
    "circle",
)
NUM_SHAPES = len(SHAPE_NAMES)
GRID_SIZE = 3

# Class ids in `label`: 0 is the white background, `COLOR_NAMES[k]` is k + 1.
COLOR_NAMES = ("blue", "light green", "red", "black", "grey", "yellow")
BACKGROUND_RGB = (255, 255, 255)
PALETTE_RGB = (
    (0, 0, 255),
    (0, 255, 0),
    (255, 0, 0),
    (0, 0, 0),
    (128, 128, 128),
    (255, 255, 0),
)
NUM_CLASSES = len(COLOR_NAMES) + 1

# Below 12-px tiles the silhouettes stop identifying the shapes: at 8-px
# tiles different shape types draw identical tile masks (a circle and a
# rectangle, a diamond and a triangle), so some colours would not follow from
# text + silhouettes. At 12 px no two types shared a mask over 54,000 tiles
# (tested in tests/datasets/test_cosal.py).
MIN_IMAGE_SIZE = 36

_NUM_TILES = GRID_SIZE * GRID_SIZE
# Look-up tables, background first: input pixel (0 or 1 = shape) → RGB and
# class id → RGB.
_INPUT_RGB = np.array((BACKGROUND_RGB, (0, 0, 0)), dtype=np.uint8)
_CLASS_RGB = np.array((BACKGROUND_RGB, *PALETTE_RGB), dtype=np.uint8)

# Uniform ranges of each shape's parameters, in tile fractions (x right,
# y down). Every shape draws `_NUM_PARAMS` uniforms whatever it uses, so the
# random stream has the same layout for every shape.
_NUM_PARAMS = 8
_CENTRE = ((0.45, 0.55), (0.45, 0.55))
_TRIANGLE = (
    (0.2, 0.4),
    (0.7, 0.8),
    (0.7, 0.8),
    (0.7, 0.8),
    (0.4, 0.6),
    (0.2, 0.3),
)
_PARAM_RANGES = (
    ((0.1, 0.3), (0.1, 0.3), (0.7, 0.9), (0.7, 0.9)),  # rectangle x0 y0 x1 y1
    _CENTRE,  # half fat ellipse
    _CENTRE,  # fat ellipse
    _TRIANGLE,  # triangle: base left, base right, apex as (x, y)
    _TRIANGLE,  # reverse triangle, mirrored when rasterised
    _CENTRE,  # thin ellipse
    _CENTRE,  # half thin ellipse
    # diamond: left, top, right, bottom vertices as (x, y)
    ((0.2, 0.3), (0.45, 0.55), (0.45, 0.55), (0.2, 0.3))
    + ((0.7, 0.8), (0.45, 0.55), (0.45, 0.55), (0.7, 0.8)),
    _CENTRE + ((0.3, 0.4),),  # circle cx cy radius
)

_DIRECT = "The {shape} is {colour}."
_RELATIONAL = "The shape {relation} the {shape} is {colour}."
# The fixed words of the templates.
_TEMPLATE_WORDS = (
    "the",
    "shape",
    "is",
    "above",
    "below",
    "left",
    "right",
    "of",
)
# For each tile, its 4-neighbours as (relation of the neighbour to the tile,
# neighbour tile), in a fixed order so the tree draws are reproducible.
_NEIGHBOURS = tuple(
    tuple(
        (relation, (row + dr) * GRID_SIZE + col + dc)
        for relation, dr, dc in (
            ("above", -1, 0),
            ("below", 1, 0),
            ("left of", 0, -1),
            ("right of", 0, 1),
        )
        if 0 <= row + dr < GRID_SIZE and 0 <= col + dc < GRID_SIZE
    )
    for row in range(GRID_SIZE)
    for col in range(GRID_SIZE)
)

# Examples rasterised at once: bounds the float temporaries to tens of MB.
_RASTER_CHUNK = 1024


def generate(
    num_examples,
    num_direct=4,
    num_colors=6,
    image_size=48,
    seed=0,
    shuffle_sentences=False,
    start_index=0,
    seed_from_first_direct_only=False,
    jitter=0,
    integer_coordinates=0.0,
):
    """Generates CoSaL examples.

    Example `i` (counting from `start_index`) is drawn from its own random
    generator, `numpy.random.default_rng(SeedSequence(seed, spawn_key=(i,)))`
    (the `i`-th child of `SeedSequence(seed)`), so any chunking of a split
    gives byte-identical examples: `generate(10)` + `generate(10,
    start_index=10)` equals `generate(20)`. Within an example the shapes,
    colours and shape parameters are drawn before the sentences, so the images
    of one seed do not depend on `num_direct`, `shuffle_sentences` or the bug
    flag. Reproducibility across numpy versions follows numpy's `Generator`
    stream guarantees.

    Speed: measured with benchmarks/cosal_generation.py: 4,800 examples/s
    at 48 px on this project's 2-core machine (3,800-4,100 with other jobs
    running), i.e. 10-13 s for a 50,000-example split; per-example Python
    (seeding, sentences) dominates, the rasterisation is vectorised.

    Args:
        num_examples: int >= 0, number of examples.
        num_direct: int in 1..9, number of direct sentences ("The circle is
            red."); the other `9 - num_direct` are relational.
        num_colors: int in 1..6, colours are drawn uniformly (with
            repetition) from the first `num_colors` entries of `PALETTE_RGB`.
        image_size: int >= `MIN_IMAGE_SIZE` (36), divisible by 3; images are
            `image_size` × `image_size` with tiles of `image_size // 3` px.
        seed: int >= 0.
        shuffle_sentences: if True, the 9 sentences are permuted (from the
            example's generator); otherwise direct sentences come first, then
            relational ones in the order the tree grew.
        start_index: int >= 0, index of the first example, for generating a
            split in chunks.
        seed_from_first_direct_only: reproduces a bug of the authors'
            generator, for comparison only: the relational tree grows from the
            first direct tile alone, so with `num_direct > 1` it may describe
            direct tiles twice and leave other tiles undescribed (their colour
            is then not recoverable from the text). No effect when
            `num_direct == 1`.
        jitter: int >= 0, an augmentation: each shape moves by a whole
            number of pixels drawn uniformly in `[-jitter, jitter]` along
            each axis (its pixels stay within its own tile).
        integer_coordinates: float in [0, 1], an augmentation: the share of
            examples rasterised as integer-coordinate drawing libraries do
            (PIL, OpenCV): every position and length of a shape rounded to
            whole pixels and pixel `p` tested at `p` rather than at its
            centre `p + 0.5`, which makes shapes up to a pixel larger or
            smaller and shifted by up to a pixel.

        The augmentations draw from the example's generator after
        everything else, so with `jitter=0` and `integer_coordinates=0`
        (or 1) the shapes, colours and sentences are those of the plain
        examples of the seed.

    Returns:
        A dict of numpy arrays, N = `num_examples`, H = W = `image_size`:
        `image` uint8 (N, H, W, 3), black shapes on white; `target` uint8
        (N, H, W, 3), the shapes in their colours; `label` uint8 (N, H, W),
        class ids (0 background, k + 1 for `COLOR_NAMES[k]`); `shape_map`
        uint8 (N, H, W), shape ids (0 background, k + 1 for `SHAPE_NAMES[k]`);
        `text` object array (N,) of str, 9 sentences joined by single spaces;
        `tile_shapes` and `tile_colors` uint8 (N, 9), shape id and class id of
        each tile, row-major.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: an argument is out of its range.
    """
    check_int(num_examples, "num_examples", 0)
    check_int(num_direct, "num_direct", 1, _NUM_TILES)
    check_int(num_colors, "num_colors", 1, len(PALETTE_RGB))
    check_int(image_size, "image_size", MIN_IMAGE_SIZE)
    if image_size % GRID_SIZE:
        raise ValueError(
            f"`image_size` must be divisible by {GRID_SIZE}, got {image_size}."
        )
    check_int(seed, "seed", 0)
    check_int(start_index, "start_index", 0)
    check_bool(shuffle_sentences, "shuffle_sentences")
    check_bool(seed_from_first_direct_only, "seed_from_first_direct_only")
    check_int(jitter, "jitter", 0, image_size // GRID_SIZE // 4)
    check_fraction(integer_coordinates, "integer_coordinates")

    draws = [
        _draw_example(
            np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,))),
            num_direct,
            num_colors,
            shuffle_sentences,
            seed_from_first_direct_only,
            jitter,
            integer_coordinates,
        )
        for i in range(start_index, start_index + num_examples)
    ]
    tile_shapes = _stack([d[0] for d in draws], (0, _NUM_TILES), np.uint8)
    tile_colors = _stack([d[1] for d in draws], (0, _NUM_TILES), np.uint8)
    uniforms = _stack(
        [d[2] for d in draws], (0, NUM_SHAPES, _NUM_PARAMS), np.float64
    )
    shifts = _stack([d[4] for d in draws], (0, NUM_SHAPES, 2), np.int64)
    integer = np.array([d[5] for d in draws], dtype=bool)
    shape_map, label = _rasterise(
        tile_shapes,
        tile_colors,
        uniforms,
        image_size // GRID_SIZE,
        shifts,
        integer,
    )
    return {
        "image": _INPUT_RGB[np.minimum(shape_map, 1)],
        "target": _CLASS_RGB[label],
        "label": label,
        "shape_map": shape_map,
        "text": np.array([d[3] for d in draws], dtype=object),
        "tile_shapes": tile_shapes,
        "tile_colors": tile_colors,
    }


def vocabulary():
    """Returns every word of CoSaL's sentences, sorted.

    The words of `SHAPE_NAMES`, `COLOR_NAMES` and the sentence templates,
    so every text of `generate` tokenizes with no out-of-vocabulary word.

    Returns:
        A sorted list of lower-case words (str).
    """
    words = set(_TEMPLATE_WORDS)
    for name in SHAPE_NAMES + COLOR_NAMES:
        words.update(name.split())
    return sorted(words)


def check_keys(data, keys):
    """Raises unless the `generate()` dict `data` holds every key."""
    missing = [key for key in keys if key not in data]
    if missing:
        raise ValueError(
            f"`data` lacks {missing}; pass the dict returned by generate()."
        )


def _stack(rows, empty_shape, dtype):
    if not rows:
        return np.zeros(empty_shape, dtype)
    return np.stack(rows).astype(dtype)


def _draw_example(
    rng,
    num_direct,
    num_colors,
    shuffle,
    first_direct_only,
    jitter=0,
    integer_coordinates=0.0,
):
    """Draws one example's parameters, sentences and augmentation.

    Returns:
        (tile_shapes (9,), tile_colors (9,), uniforms (9 shapes, 8), text,
        shifts (9 shapes, 2) in pixels as (x, y), integer: bool).
    """
    tile_shapes = rng.permutation(NUM_SHAPES) + 1
    tile_colors = rng.integers(1, num_colors + 1, size=_NUM_TILES)
    uniforms = rng.random((NUM_SHAPES, _NUM_PARAMS))
    direct = rng.permutation(_NUM_TILES)[:num_direct].tolist()
    roots = direct[:1] if first_direct_only else direct
    grown = _grow_tree(rng, roots, _NUM_TILES - num_direct)

    names = [SHAPE_NAMES[k - 1] for k in tile_shapes.tolist()]
    colours = [COLOR_NAMES[k - 1] for k in tile_colors.tolist()]

    sentences = [
        _DIRECT.format(shape=names[t], colour=colours[t]) for t in direct
    ]
    sentences += [
        _RELATIONAL.format(relation=rel, shape=names[t], colour=colours[new])
        for t, rel, new in grown
    ]
    if shuffle:
        sentences = [sentences[k] for k in rng.permutation(len(sentences))]
    shifts = np.zeros((NUM_SHAPES, 2), np.int64)
    if jitter:
        shifts = rng.integers(-jitter, jitter + 1, size=(NUM_SHAPES, 2))
    integer = integer_coordinates >= 1.0 or (
        integer_coordinates > 0.0 and rng.random() < integer_coordinates
    )
    text = " ".join(sentences)
    return tile_shapes, tile_colors, uniforms, text, shifts, integer


def _grow_tree(rng, roots, num_edges):
    """Grows a random tree over the tile grid from `roots`.

    Each step picks uniformly among (tree tile, 4-neighbour outside the tree)
    pairs, so the tree reaches every tile when it starts from all described
    tiles and is given the right number of edges.

    Returns:
        List of `num_edges` (tree tile, relation, new tile) in growth order.
    """
    order = list(roots)
    in_tree = set(roots)
    edges = []
    for _ in range(num_edges):
        candidates = [
            (tile, relation, new)
            for tile in order
            for relation, new in _NEIGHBOURS[tile]
            if new not in in_tree
        ]
        edge = candidates[rng.integers(len(candidates))]
        edges.append(edge)
        order.append(edge[2])
        in_tree.add(edge[2])
    return edges


def _rasterise(tile_shapes, tile_colors, uniforms, tile_size, shifts, integer):
    """Draws the shape and class maps of a batch, `_RASTER_CHUNK` at a time.

    Args:
        tile_shapes: (N, 9) shape id per tile.
        tile_colors: (N, 9) class id per tile.
        uniforms: (N, 9, 8) U(0, 1) draws per shape id - 1.
        tile_size: tile side in pixels.
        shifts: (N, 9, 2) pixel shift (x, y) per shape id - 1.
        integer: (N,) bool, rasterise with integer coordinates.

    Returns:
        (shape_map, label), both uint8 (N, H, W), 0 for background.
    """
    size = tile_size * GRID_SIZE
    maps = np.zeros((2, len(tile_shapes), size, size), np.uint8)
    for start in range(0, len(tile_shapes), _RASTER_CHUNK):
        chunk = slice(start, start + _RASTER_CHUNK)
        tiles = _rasterise_tiles(
            tile_shapes[chunk],
            tile_colors[chunk],
            uniforms[chunk],
            tile_size,
            shifts[chunk],
            integer[chunk],
        )
        maps[:, chunk] = (
            tiles.reshape(2, -1, GRID_SIZE, GRID_SIZE, tile_size, tile_size)
            .transpose(0, 1, 2, 4, 3, 5)
            .reshape(2, -1, size, size)
        )
    return maps[0], maps[1]


def _rasterise_tiles(
    tile_shapes, tile_colors, uniforms, tile_size, shifts=None, integer=None
):
    """Returns uint8 (2, N, 9, s, s): shape and class id of each tile pixel.

    `shifts` (N, 9, 2) and `integer` (N,) are the augmentation of
    `_rasterise`; None for none.
    """
    n = len(tile_shapes)
    if shifts is None:
        shifts = np.zeros((n, NUM_SHAPES, 2), np.int64)
    if integer is None:
        integer = np.zeros(n, bool)
    # Pixels in tile fractions, y downward: tested at their centres
    # (px + 0.5) / s, or at px / s with integer coordinates.
    offset = np.where(integer, 0.0, 0.5)[:, None]
    pixels = (np.arange(tile_size)[None] + offset) / tile_size
    tiles = np.zeros((2, n, _NUM_TILES, tile_size, tile_size), np.uint8)
    rows = np.arange(n)
    tile_of_shape = np.argsort(tile_shapes, axis=1)

    def snap(values):
        """Tile fractions, rounded to whole pixels where `integer`."""
        values = np.asarray(values, np.float64)
        rounded = np.round(values * tile_size) / tile_size
        if values.ndim == 0:
            return np.where(integer, rounded, values)[:, None, None]
        return np.where(integer[:, None], rounded, values)

    for k, (ranges, inside) in enumerate(
        zip(_PARAM_RANGES, _INSIDE, strict=True)
    ):
        low, high = np.array(ranges).T
        params = snap(low + (high - low) * uniforms[:, k, : len(ranges)])
        x = (pixels - shifts[:, k, 0, None] / tile_size)[:, None, :]
        y = (pixels - shifts[:, k, 1, None] / tile_size)[:, :, None]
        mask = inside(params, x, y, snap)
        cols = tile_of_shape[:, k]
        tiles[0, rows, cols] = mask * np.uint8(k + 1)
        tiles[1, rows, cols] = mask * tile_colors[rows, cols, None, None]
    return tiles


def _ellipse(params, x, y, semi_x, semi_y, lower_half):
    cx, cy = (p[:, None, None] for p in params.T)
    inside = ((x - cx) / semi_x) ** 2 + ((y - cy) / semi_y) ** 2 <= 1.0
    return inside & (y >= cy) if lower_half else inside


def _convex_polygon(vertices, x, y):
    """Pixel-centre test against convex polygons.

    Args:
        vertices: (N, V, 2) vertices as (x, y), in order around the polygon.
        x, y: pixel centres broadcastable to (N, s, s).

    Returns:
        bool (N, s, s), True on and inside the boundary.
    """
    # The sign of the signed area makes the test work for either winding.
    vx, vy = (v[:, :, None, None] for v in np.moveaxis(vertices, 2, 0))
    wx, wy = np.roll(vx, -1, axis=1), np.roll(vy, -1, axis=1)
    area = np.sum(vx * wy - wx * vy, axis=1, keepdims=True)
    cross = (wx - vx) * (y[:, None] - vy) - (wy - vy) * (x[:, None] - vx)
    return np.all(cross * np.sign(area) >= 0, axis=1)


def _rectangle(params, x, y):
    x0, y0, x1, y1 = (p[:, None, None] for p in params.T)
    return (x0 <= x) & (x <= x1) & (y0 <= y) & (y <= y1)


def _triangle(params, x, y):
    return _convex_polygon(params.reshape(-1, 3, 2), x, y)


def _reverse_triangle(params, x, y):
    vertices = params.reshape(-1, 3, 2) * (1, -1) + (0, 1)
    return _convex_polygon(vertices, x, y)


def _diamond(params, x, y):
    return _convex_polygon(params.reshape(-1, 4, 2), x, y)


def _circle(params, x, y):
    cx, cy, radius = (p[:, None, None] for p in params.T)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


# Pixel-centre tests, in `SHAPE_NAMES` order; semi-axes are tile fractions.
# `snap` rounds a length to whole pixels for integer-coordinate examples.
_INSIDE = (
    lambda p, x, y, snap: _rectangle(p, x, y),
    lambda p, x, y, snap: _ellipse(p, x, y, snap(1 / 3), snap(1 / 6), True),
    lambda p, x, y, snap: _ellipse(p, x, y, snap(1 / 3), snap(1 / 6), False),
    lambda p, x, y, snap: _triangle(p, x, y),
    lambda p, x, y, snap: _reverse_triangle(p, x, y),
    lambda p, x, y, snap: _ellipse(p, x, y, snap(1 / 6), snap(1 / 3), False),
    lambda p, x, y, snap: _ellipse(p, x, y, snap(1 / 6), snap(1 / 3), True),
    lambda p, x, y, snap: _diamond(p, x, y),
    lambda p, x, y, snap: _circle(p, x, y),
)


# Keys of a `generate()` dict that TFRecords store, and their per-example
