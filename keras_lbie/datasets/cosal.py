"""CoSaL: Colorizing Shapes with Artificial Language (Chen et al., 2018, 4.1).

Shape and colour vocabularies are defined here once; the generator, the data
pipeline and the metrics all read them from this module.

Each example is a white image cut into a 3×3 grid of tiles (numbered row-major)
holding each of the 9 shapes of `SHAPE_NAMES` exactly once, filled with a
colour of `PALETTE_RGB`, and 9 English sentences from which every tile's
colour can be recovered given the silhouettes.

Public API:

- `generate(num_examples, num_direct=4, num_colors=6, image_size=48, seed=0,
  shuffle_sentences=False, start_index=0, seed_from_first_direct_only=False)`
  → dict of numpy arrays `image`, `target`, `label`, `shape_map`, `text`,
  `tile_shapes`, `tile_colors`. Example `i` depends only on `(seed, i)`.
- `as_dataset(data, batch_size, shuffle=False, seed=None,
  with_shape_map=False, drop_remainder=False)` → batched `tf.data.Dataset` of
  `({"image", "text"}, y)` from a `generate()` dict or TFRecord files.
- `write_tfrecords(data, path, num_shards=1)` → list of written file names.
- `read_tfrecords(path_or_glob)` → `tf.data.Dataset` of per-example dicts.
- Constants: `SHAPE_NAMES`, `NUM_SHAPES`, `GRID_SIZE`, `COLOR_NAMES`,
  `BACKGROUND_RGB`, `PALETTE_RGB`, `NUM_CLASSES`, `MIN_IMAGE_SIZE`.

Sentence templates (`{shape}` from `SHAPE_NAMES`, `{colour}` from
`COLOR_NAMES`): "The {shape} is {colour}." (direct) and "The shape
{above|below|left of|right of} the {shape} is {colour}." (relational: the tile
next to the named shape's tile; "above" is one row up). Relational sentences
follow a random spanning tree grown from the directly described tiles, so each
tile's colour is stated exactly once. `seed_from_first_direct_only=True`
reproduces a bug of the authors' generator (the tree grows from the first
direct tile only) and exists only to compare with their data.
"""

import os

import numpy as np
import tensorflow as tf

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
    _check_int("num_examples", num_examples, 0)
    _check_int("num_direct", num_direct, 1, _NUM_TILES)
    _check_int("num_colors", num_colors, 1, len(PALETTE_RGB))
    _check_int("image_size", image_size, MIN_IMAGE_SIZE)
    if image_size % GRID_SIZE:
        raise ValueError(
            f"`image_size` must be divisible by {GRID_SIZE}, got {image_size}."
        )
    _check_int("seed", seed, 0)
    _check_int("start_index", start_index, 0)
    _check_bool("shuffle_sentences", shuffle_sentences)
    _check_bool("seed_from_first_direct_only", seed_from_first_direct_only)

    draws = [
        _draw_example(
            np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,))),
            num_direct,
            num_colors,
            shuffle_sentences,
            seed_from_first_direct_only,
        )
        for i in range(start_index, start_index + num_examples)
    ]
    tile_shapes = _stack([d[0] for d in draws], (0, _NUM_TILES), np.uint8)
    tile_colors = _stack([d[1] for d in draws], (0, _NUM_TILES), np.uint8)
    uniforms = _stack(
        [d[2] for d in draws], (0, NUM_SHAPES, _NUM_PARAMS), np.float64
    )
    shape_map, label = _rasterise(
        tile_shapes, tile_colors, uniforms, image_size // GRID_SIZE
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


def _check_int(name, value, low, high=None):
    # bool is an int subclass, but `True` as a count is always a mistake.
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"`{name}` must be an int, got {type(value).__name__} {value!r}."
        )
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in {low}..{high}"
        raise ValueError(f"`{name}` must be {allowed}, got {value}.")


def _check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"`{name}` must be a bool, got {type(value).__name__} {value!r}."
        )


def _stack(rows, empty_shape, dtype):
    if not rows:
        return np.zeros(empty_shape, dtype)
    return np.stack(rows).astype(dtype)


def _draw_example(rng, num_direct, num_colors, shuffle, first_direct_only):
    """Draws one example's parameters and sentences.

    Returns:
        (tile_shapes (9,), tile_colors (9,), uniforms (9 shapes, 8), text).
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
    return tile_shapes, tile_colors, uniforms, " ".join(sentences)


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


def _rasterise(tile_shapes, tile_colors, uniforms, tile_size):
    """Draws the shape and class maps of a batch, `_RASTER_CHUNK` at a time.

    Args:
        tile_shapes: (N, 9) shape id per tile.
        tile_colors: (N, 9) class id per tile.
        uniforms: (N, 9, 8) U(0, 1) draws per shape id - 1.
        tile_size: tile side in pixels.

    Returns:
        (shape_map, label), both uint8 (N, H, W), 0 for background.
    """
    size = tile_size * GRID_SIZE
    maps = np.zeros((2, len(tile_shapes), size, size), np.uint8)
    for start in range(0, len(tile_shapes), _RASTER_CHUNK):
        chunk = slice(start, start + _RASTER_CHUNK)
        tiles = _rasterise_tiles(
            tile_shapes[chunk], tile_colors[chunk], uniforms[chunk], tile_size
        )
        maps[:, chunk] = (
            tiles.reshape(2, -1, GRID_SIZE, GRID_SIZE, tile_size, tile_size)
            .transpose(0, 1, 2, 4, 3, 5)
            .reshape(2, -1, size, size)
        )
    return maps[0], maps[1]


def _rasterise_tiles(tile_shapes, tile_colors, uniforms, tile_size):
    """Returns uint8 (2, N, 9, s, s): shape and class id of each tile pixel."""
    # Pixel centres in tile fractions, (px + 0.5) / s, y downward.
    centres = (np.arange(tile_size) + 0.5) / tile_size
    x = centres[None, None, :]
    y = centres[None, :, None]
    n = len(tile_shapes)
    tiles = np.zeros((2, n, _NUM_TILES, tile_size, tile_size), np.uint8)
    rows = np.arange(n)
    tile_of_shape = np.argsort(tile_shapes, axis=1)
    for k, (ranges, inside) in enumerate(
        zip(_PARAM_RANGES, _INSIDE, strict=True)
    ):
        low, high = np.array(ranges).T
        params = low + (high - low) * uniforms[:, k, : len(ranges)]
        mask = inside(params, x, y)
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
_INSIDE = (
    _rectangle,
    lambda p, x, y: _ellipse(p, x, y, 1 / 3, 1 / 6, lower_half=True),
    lambda p, x, y: _ellipse(p, x, y, 1 / 3, 1 / 6, lower_half=False),
    _triangle,
    _reverse_triangle,
    lambda p, x, y: _ellipse(p, x, y, 1 / 6, 1 / 3, lower_half=False),
    lambda p, x, y: _ellipse(p, x, y, 1 / 6, 1 / 3, lower_half=True),
    _diamond,
    _circle,
)


# Keys of a `generate()` dict that TFRecords store, and their per-example
# shapes given the image size (`None` for the scalar string `text`).
_RECORD_SHAPES = {
    "image": lambda size: (size, size, 3),
    "target": lambda size: (size, size, 3),
    "label": lambda size: (size, size),
    "shape_map": lambda size: (size, size),
    "tile_shapes": lambda size: (_NUM_TILES,),
    "tile_colors": lambda size: (_NUM_TILES,),
    "text": None,
}
# Examples held by the shuffle buffer of TFRecord input: ~70 MB at 48 px.
_TFRECORD_SHUFFLE_BUFFER = 10_000


def as_dataset(
    data,
    batch_size,
    shuffle=False,
    seed=None,
    with_shape_map=False,
    drop_remainder=False,
):
    """Batches CoSaL examples for `model.fit` / `model.evaluate`.

    A `generate()` dict is copied into tensors held by the dataset; for the
    full splits under a distribution strategy, prefer TFRecords, which are
    streamed from disk.

    Args:
        data: a dict returned by `generate()`, or a TFRecord file name or glob
            (str or path-like) written by `write_tfrecords()`.
        batch_size: int >= 1.
        shuffle: if True, reshuffle every epoch: the whole dict, or a buffer
            of 10,000 examples for TFRecords.
        seed: None or int, seed of the shuffle.
        with_shape_map: if True, `y` also carries the shape map (see Returns).
        drop_remainder: if True, drop the last batch when it is smaller.

    Returns:
        A `tf.data.Dataset` of `(x, y)` with `x = {"image": uint8 (B, H, W, 3),
        "text": string (B,)}`. `y` is the int32 class map (B, H, W), or with
        `with_shape_map=True` an int32 (B, H, W, 2) tensor stacking
        `[label, shape_map]` on the last axis: the packed `y_true` that the
        CoSaLRegionIoU metric takes.

    Raises:
        TypeError, ValueError: bad arguments; FileNotFoundError: no TFRecord
        file matches `data`.
    """
    _check_int("batch_size", batch_size, 1)
    _check_bool("shuffle", shuffle)
    _check_bool("with_shape_map", with_shape_map)
    _check_bool("drop_remainder", drop_remainder)
    if seed is not None:
        _check_int("seed", seed, 0)
    if isinstance(data, (str, os.PathLike)):
        dataset = read_tfrecords(data)
        if shuffle:
            dataset = dataset.shuffle(_TFRECORD_SHUFFLE_BUFFER, seed=seed)
        dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    elif isinstance(data, dict):
        dataset = _batched_from_arrays(
            data, batch_size, shuffle, seed, drop_remainder
        )
    else:
        raise TypeError(
            "`data` must be a dict from generate() or a TFRecord path, "
            f"got {type(data).__name__}."
        )

    def to_pair(batch):
        x = {"image": batch["image"], "text": batch["text"]}
        y = tf.cast(batch["label"], tf.int32)
        if with_shape_map:
            shapes = tf.cast(batch["shape_map"], tf.int32)
            y = tf.stack([y, shapes], axis=-1)
        return x, y

    return dataset.map(to_pair, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE
    )


def _batched_from_arrays(data, batch_size, shuffle, seed, drop_remainder):
    """Batches a `generate()` dict by gathering shuffled index batches."""
    _check_keys(data, ("image", "text", "label", "shape_map"))
    tensors = {
        key: tf.constant(data[key])
        for key in ("image", "text", "label", "shape_map")
    }
    num_examples = len(data["image"])
    # Shuffling indices, not examples, keeps the buffer tiny and the
    # shuffle exact over the whole split.
    indices = tf.data.Dataset.range(num_examples)
    if shuffle:
        indices = indices.shuffle(max(num_examples, 1), seed=seed)
    indices = indices.batch(batch_size, drop_remainder=drop_remainder)
    return indices.map(
        lambda idx: {key: tf.gather(t, idx) for key, t in tensors.items()},
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def _check_keys(data, keys):
    missing = [key for key in keys if key not in data]
    if missing:
        raise ValueError(
            f"`data` lacks {missing}; pass the dict returned by generate()."
        )


def write_tfrecords(data, path, num_shards=1):
    """Writes a `generate()` dict to TFRecord files, one example per record.

    Arrays are stored as raw uint8 bytes (lossless), with the image size, so
    `read_tfrecords` returns exactly what was written. Shards hold contiguous
    runs of examples, so reading them in name order restores the order.

    Args:
        data: dict returned by `generate()`.
        path: output file name (str or path-like); with `num_shards > 1`
            the files are `{path}-00000-of-0000K` ... and
            `read_tfrecords(f"{path}-*")` reads them back.
        num_shards: int >= 1, number of files.

    Returns:
        The list of written file names.
    """
    _check_int("num_shards", num_shards, 1)
    path = _check_path("path", path)
    _check_keys(data, tuple(_RECORD_SHAPES))
    if num_shards == 1:
        paths = [path]
    else:
        suffix = f"-of-{num_shards:05d}"
        paths = [f"{path}-{k:05d}{suffix}" for k in range(num_shards)]
    bounds = np.linspace(0, len(data["image"]), num_shards + 1).astype(int)
    for shard_path, start, stop in zip(
        paths, bounds[:-1], bounds[1:], strict=True
    ):
        with tf.io.TFRecordWriter(shard_path) as writer:
            for index in range(start, stop):
                writer.write(_serialise(data, index))
    return paths


def _check_path(name, path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"`{name}` must be a str or path-like, got {type(path).__name__}."
        )
    return os.fspath(path)


def _serialise(data, index):
    def raw(value):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    feature = {
        key: raw(np.ascontiguousarray(data[key][index]).tobytes())
        for key, shape in _RECORD_SHAPES.items()
        if shape is not None
    }
    feature["text"] = raw(str(data["text"][index]).encode("utf-8"))
    feature["image_size"] = tf.train.Feature(
        int64_list=tf.train.Int64List(value=[data["image"].shape[1]])
    )
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    return example.SerializeToString()


def read_tfrecords(path_or_glob):
    """Reads TFRecord files written by `write_tfrecords`.

    Args:
        path_or_glob: a file name or a glob pattern (str or path-like);
            matching files are read in sorted order, so sharded splits keep
            their order.

    Returns:
        A `tf.data.Dataset` of per-example dicts with static shapes: `image`,
        `target` uint8 (H, W, 3); `label`, `shape_map` uint8 (H, W);
        `tile_shapes`, `tile_colors` uint8 (9,); `text` string scalar.

    Raises:
        FileNotFoundError: no file matches.
        ValueError: the files hold no example.
    """
    path_or_glob = _check_path("path_or_glob", path_or_glob)
    files = sorted(tf.io.gfile.glob(path_or_glob))
    if not files:
        raise FileNotFoundError(f"No TFRecord file matches {path_or_glob!r}.")
    records = tf.data.TFRecordDataset(files)
    # The image size is read once from the first record so that every
    # element has a static shape, which Keras needs to build models.
    first = list(records.take(1).as_numpy_iterator())
    if not first:
        raise ValueError(f"The files matching {path_or_glob!r} are empty.")
    size_spec = {"image_size": tf.io.FixedLenFeature([], tf.int64)}
    header = tf.io.parse_single_example(first[0], size_spec)
    image_size = int(header["image_size"])
    spec = {key: tf.io.FixedLenFeature([], tf.string) for key in _RECORD_SHAPES}

    def parse(record):
        example = tf.io.parse_single_example(record, spec)
        parsed = {"text": example["text"]}
        for key, shape in _RECORD_SHAPES.items():
            if shape is not None:
                values = tf.io.decode_raw(example[key], tf.uint8)
                parsed[key] = tf.reshape(values, shape(image_size))
        return parsed

    return records.map(parse, num_parallel_calls=tf.data.AUTOTUNE)
