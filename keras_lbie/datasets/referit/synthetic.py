"""CoSaL scenes written in ReferIt's file layout, for tests and offline runs."""

import numpy as np

from keras_lbie.datasets import cosal
from keras_lbie.datasets.referit.writing import Annotations
from keras_lbie.datasets.referit.writing import check_fractions
from keras_lbie.datasets.referit.writing import check_jpeg_quality
from keras_lbie.datasets.referit.writing import draw_splits
from keras_lbie.datasets.referit.writing import write_annotations
from keras_lbie.utils.validation import check_path
from keras_lbie.utils.validation import check_positive_int

_TEMPLATE_WORDS = ("the", "shape", "above", "below", "left", "right", "of")
# (relation of a tile to its neighbour, row offset, column offset of the
# neighbour): "the shape left of the diamond" is the tile whose right-hand
# neighbour is the diamond.
_RELATIONS = (
    ("above", 1, 0),
    ("below", -1, 0),
    ("left of", 0, 1),
    ("right of", 0, -1),
)


def write_referit_format(
    out_dir,
    num_images,
    seed=0,
    scene_size=48,
    image_size=None,
    num_colors=6,
    val_fraction=0.2,
    test_fraction=0.2,
    jpeg_quality=95,
):
    """Writes CoSaL scenes as a ReferIt-format folder, for `as_dataset`.

    Each image is a `cosal.generate` scene's coloured target (9 filled
    shapes on white in a 3 × 3 grid), saved as `images/<imid>.jpg` with ids
    "1" ... `num_images`. Its 9 shapes are its objects: object `k` is the
    shape of tile `k - 1` (row-major), with `mask/<imid>_<k>.mat`
    (`segimg_t`, uint8: 0 on the shape, 1 elsewhere) and three
    expressions, e.g. "the red circle", "the circle" and "the shape left of
    the diamond" (one neighbour drawn at random). Also written:
    `referit_imsize.json`, `referit_bbox.json` (inclusive `[x1, y1, x2,
    y2]` of each mask), `referit_imcrop.json` (`"<imid>.jpg"` → its query
    ids, as text_objseg's; the loader does not read it), the query JSONs
    and image lists of the 4 splits (images drawn at random into test, val
    and train; trainval = train + val) and `vocabulary_referit.txt`
    (`<pad> <go> <eos> <unk>`, then every word the expressions can use, so
    the vocabulary does not depend on the seed). Existing files of those
    names are overwritten. The output depends only on the arguments.

    Args:
        out_dir: str or path-like, created if needed.
        num_images: positive int.
        seed: int >= 0, seeds the scenes, the splits and the relational
            expressions.
        scene_size: the CoSaL image size (`cosal.generate`'s `image_size`).
        image_size: None (= `scene_size`), an int, or (height, width): the
            written size, each side >= `scene_size`; scenes and masks are
            enlarged by nearest-neighbour sampling (a non-square size
            stretches the scene).
        num_colors: `cosal.generate`'s `num_colors`.
        val_fraction, test_fraction: floats >= 0 summing to <= 1, the
            share of images in val and test (rounded to whole images).
        jpeg_quality: int in 1..100. Chroma is not subsampled; JPEG still
            blurs colours at shape edges.

    Returns:
        `out_dir` as a str.

    Raises:
        TypeError, ValueError: bad arguments.

    Example:
    >>> root = write_referit_format("/tmp/referit_cosal", num_images=20)
    >>> train = as_dataset(root, "train", batch_size=8, image_size=64)
    """
    out_dir = check_path(out_dir, "out_dir")
    check_positive_int(num_images, "num_images")
    check_positive_int(scene_size, "scene_size")
    if scene_size < cosal.MIN_IMAGE_SIZE or scene_size % cosal.GRID_SIZE:
        raise ValueError(
            f"`scene_size` must be >= {cosal.MIN_IMAGE_SIZE} and divisible "
            f"by {cosal.GRID_SIZE}. Received: {scene_size}"
        )
    height, width = _written_size(image_size, scene_size)
    check_fractions(val_fraction, test_fraction)
    check_jpeg_quality(jpeg_quality)
    scenes = cosal.generate(
        num_images, num_colors=num_colors, image_size=scene_size, seed=seed
    )
    rng = np.random.default_rng(seed)
    image_ids = [str(i + 1) for i in range(num_images)]
    splits = draw_splits(rng, image_ids, val_fraction, test_fraction)
    rows = (np.arange(height) * scene_size) // height
    cols = (np.arange(width) * scene_size) // width
    annotations = Annotations(out_dir, jpeg_quality)
    for i, image_id in enumerate(image_ids):
        annotations.add_image(
            image_id, scenes["target"][i][rows[:, None], cols]
        )
        shape_map = scenes["shape_map"][i][rows[:, None], cols]
        _write_objects(
            image_id,
            shape_map,
            scenes["tile_shapes"][i],
            scenes["tile_colors"][i],
            rng,
            annotations,
        )
    words = list(_TEMPLATE_WORDS)
    for name in cosal.SHAPE_NAMES + cosal.COLOR_NAMES:
        words += name.split()
    write_annotations(out_dir, splits, annotations, words)
    return out_dir


def _written_size(image_size, scene_size):
    if image_size is None:
        image_size = scene_size
    if isinstance(image_size, (tuple, list)):
        if len(image_size) != 2:
            raise ValueError(
                "`image_size` must be None, an int or (height, width). "
                f"Received: {image_size!r}"
            )
        height, width = image_size
    else:
        height = width = image_size
    for value in (height, width):
        check_positive_int(value, "image_size")
        if value < scene_size:
            raise ValueError(
                f"`image_size` sides must be >= `scene_size` ({scene_size}) "
                f"so that no shape vanishes. Received: {image_size!r}"
            )
    return height, width


def _write_objects(
    image_id, shape_map, tile_shapes, tile_colors, rng, annotations
):
    """Writes the masks of one scene and records its boxes and expressions."""
    names = [cosal.SHAPE_NAMES[s - 1] for s in tile_shapes.tolist()]
    colours = [cosal.COLOR_NAMES[c - 1] for c in tile_colors.tolist()]
    for tile, shape_id in enumerate(tile_shapes.tolist()):
        annotations.add_object(
            image_id,
            f"{image_id}_{tile + 1}",
            shape_map == shape_id,
            [
                f"the {colours[tile]} {names[tile]}",
                f"the {names[tile]}",
                _relational_expression(rng, tile, names),
            ],
        )


def _relational_expression(rng, tile, names):
    """ "the shape <relation> the <neighbour>" for a random grid neighbour."""
    row, col = divmod(tile, cosal.GRID_SIZE)
    options = [
        (relation, (row + dr) * cosal.GRID_SIZE + col + dc)
        for relation, dr, dc in _RELATIONS
        if 0 <= row + dr < cosal.GRID_SIZE and 0 <= col + dc < cosal.GRID_SIZE
    ]
    relation, neighbour = options[rng.integers(len(options))]
    return f"the shape {relation} the {names[neighbour]}"
