"""Synthetic referring-expression scenes written in ReferIt's file layout.

`write_referring_scenes(out_dir, num_images, seed=0, ...)` draws scenes
closer to ReferIt's photos than CoSaL's grid: each image has its own size
and aspect ratio (sides drawn in `min_size..max_size`), a non-white
background (a muted colour, a smooth blotchy texture, sometimes stripes,
pixel noise over everything) and 3-6 filled shapes of the `CATEGORIES`
in the `COLOURS`, at free positions, sizes and small rotations. Shapes
may touch and overlap: later shapes hide earlier ones, an object's mask is
its visible pixels, and an object left with fewer than
`max(MIN_OBJECT_PIXELS, MIN_VISIBLE_FRACTION × its drawn area)` visible
pixels is removed from the scene before it is painted. Categories come in
groups: with probability `repeat_probability` the next group has 2 or 3
shapes of one category (else 1), so that the category alone is ambiguous
for most objects; a group member copies a sibling's colour with
probability 0.4.

Expressions. An object is named by a noun phrase and its *group* (the other
objects the phrase also fits):

    NOUN := CAT            group: the other objects of its category
          | COL CAT        group: the others of its category and colour
          | COL "one"      group: the others of its colour
          | "one"          group: every other object

and each expression is one of (`{}` a NOUN, `[the]` an optional "the"):

- exact: `[the] NOUN`, when its group is empty (not for "one");
- size: `[the] big NOUN`, `[the] small NOUN`: its visible area is at least
  `SIZE_RATIO` times (at most 1 / `SIZE_RATIO` times) that of every object
  of its group;
- position: `left NOUN`, `the NOUN on the left`, `NOUN left` (and right,
  `top`/`on top`, `bottom`/`at the bottom`): its visible centroid is left
  of (right of, above, below) every centroid of its group by at least
  `MARGIN` times the image's width (height);
- relation: `[the] NOUN above (below, left of, right of) the ANCHOR`,
  ANCHOR an exact noun phrase of another object (its group empty): the
  object's centroid is above the anchor's by at least the margin, and
  every object of its group but the anchor is not above it (centroid at or
  below the anchor's).

Size, position and relation need a non-empty group (without one the exact
phrase suffices). Every expression written thus picks out its object alone
among the image's objects under these rules (the tests check it from the
objects file). Each object gets `expressions_per_object` expressions of
different kinds, drawn at random among those that apply; an object with
none gets its mask but no query (counted in the source file). Examples:
"red circle", "the big triangle", "left one", "square on the right",
"star above the blue one", "green one at the bottom".

Written files (`load_index` reads the first group): `images/<imid>.jpg`,
`mask/<imid>_<k>.mat`, the query JSONs and image lists of the 4 splits,
`referit_imsize.json`, `referit_bbox.json`, `referit_imcrop.json`,
`vocabulary_referit.txt` (fixed: it does not depend on the seed); and
`OBJECTS_FILE` (`"<imid>"` → list of its objects: `query_id`,
`category`, `colour`, `area` in visible pixels, `centroid` [x, y]), for
baselines such as the category-only oracle, and `SOURCE_FILE` (the
arguments and counts of the run). Image `i` depends only on `seed` and `i`.
"""

import math

import numpy as np
from PIL import Image
from PIL import ImageDraw

from keras_lbie.datasets.referit.referring_expressions import KINDS
from keras_lbie.datasets.referit.referring_expressions import WORDS
from keras_lbie.datasets.referit.referring_expressions import (
    referring_expressions,
)
from keras_lbie.datasets.referit.writing import Annotations
from keras_lbie.datasets.referit.writing import check_fractions
from keras_lbie.datasets.referit.writing import check_jpeg_quality
from keras_lbie.datasets.referit.writing import draw_splits
from keras_lbie.datasets.referit.writing import dump_json
from keras_lbie.datasets.referit.writing import write_annotations
from keras_lbie.utils.validation import check_fraction
from keras_lbie.utils.validation import check_int
from keras_lbie.utils.validation import check_path
from keras_lbie.utils.validation import check_positive_int

CATEGORIES = ("circle", "square", "triangle", "diamond", "star", "hexagon")
COLOURS = {
    "red": (215, 35, 35),
    "green": (35, 165, 55),
    "blue": (35, 75, 215),
    "yellow": (235, 210, 35),
    "purple": (140, 55, 190),
    "orange": (245, 135, 25),
}
OBJECTS_FILE = "referit_objects.json"
SOURCE_FILE = "referring_scenes_source.json"
MIN_SIZE = 48
MIN_OBJECT_PIXELS = 20
MIN_VISIBLE_FRACTION = 0.5

_SAME_COLOUR = 0.4
# Circumradius range of a shape, as a share of the image's shorter side.
_RADIUS = (0.08, 0.2)
_ATTEMPTS = 100


def write_referring_scenes(
    out_dir,
    num_images,
    seed=0,
    min_size=64,
    max_size=128,
    min_objects=3,
    max_objects=6,
    repeat_probability=0.8,
    expressions_per_object=2,
    val_fraction=0.2,
    test_fraction=0.2,
    jpeg_quality=90,
):
    """Writes synthetic referring scenes as a ReferIt-format folder.

    See the module docstring for the scenes, the expression grammar and its
    uniqueness rules, and the files. Image ids are "1" ... `num_images`;
    images are drawn at random into test, val and train (trainval = train
    + val). Existing files of the same names are overwritten.

    Args:
        out_dir: str or path-like, created if needed.
        num_images: positive int.
        seed: int >= 0: the images, expressions and splits.
        min_size, max_size: ints, `MIN_SIZE <= min_size <= max_size`: the
            range of each image side (height and width drawn apart).
        min_objects, max_objects: ints, `2 <= min_objects <= max_objects
            <= 8`: objects per image (after occluded ones are removed).
        repeat_probability: float in [0, 1], the chance that a category
            group has 2-3 objects rather than 1.
        expressions_per_object: positive int, at most `len(KINDS)`.
        val_fraction, test_fraction: floats >= 0 summing to <= 1.
        jpeg_quality: int in 1..100.

    Returns:
        The `SOURCE_FILE` record (a dict): the arguments and the counts of
        images, objects, queries, expressions by kind, removed objects and
        objects without an expression.

    Raises:
        TypeError, ValueError: bad arguments, naming the argument.

    Example:
    >>> write_referring_scenes("/tmp/scenes", num_images=100)
    >>> train = as_dataset("/tmp/scenes", "train", batch_size=8,
    ...                    image_size=128)
    """
    arguments = {
        "num_images": num_images,
        "seed": seed,
        "min_size": min_size,
        "max_size": max_size,
        "min_objects": min_objects,
        "max_objects": max_objects,
        "repeat_probability": repeat_probability,
        "expressions_per_object": expressions_per_object,
        "val_fraction": val_fraction,
        "test_fraction": test_fraction,
        "jpeg_quality": jpeg_quality,
    }
    out_dir = check_path(out_dir, "out_dir")
    _check_arguments(arguments)
    image_ids = [str(i + 1) for i in range(num_images)]
    splits = draw_splits(
        np.random.default_rng(seed), image_ids, val_fraction, test_fraction
    )
    annotations = Annotations(out_dir, jpeg_quality)
    counts = dict.fromkeys(
        ("objects", "removed_objects", "objects_without_expression"), 0
    )
    counts.update(dict.fromkeys(KINDS, 0))
    objects = {}
    for i, image_id in enumerate(image_ids):
        rng = np.random.default_rng((seed, i))
        scene = _draw_scene(rng, arguments)
        annotations.add_image(image_id, _paint(rng, scene))
        objects[image_id] = _write_objects(
            rng, image_id, scene, expressions_per_object, annotations, counts
        )
    words = [*WORDS, *CATEGORIES, *COLOURS]
    write_annotations(out_dir, splits, annotations, words)
    dump_json(out_dir, OBJECTS_FILE, objects)
    source = {
        "generator": "keras_lbie.datasets.referit.write_referring_scenes",
        "arguments": arguments,
        "queries": len(annotations.queries),
        **counts,
    }
    dump_json(out_dir, SOURCE_FILE, source)
    return source


def _check_arguments(arguments):
    check_positive_int(arguments["num_images"], "num_images")
    check_int(arguments["seed"], "seed", 0)
    check_int(arguments["min_size"], "min_size", MIN_SIZE)
    check_int(arguments["max_size"], "max_size", arguments["min_size"])
    check_int(arguments["min_objects"], "min_objects", 2, 8)
    check_int(
        arguments["max_objects"], "max_objects", arguments["min_objects"], 8
    )
    check_fraction(arguments["repeat_probability"], "repeat_probability")
    check_int(
        arguments["expressions_per_object"],
        "expressions_per_object",
        1,
        len(KINDS),
    )
    check_fractions(arguments["val_fraction"], arguments["test_fraction"])
    check_jpeg_quality(arguments["jpeg_quality"])


class _Scene:
    """One drawn scene: its size, label map and the objects left in it."""

    def __init__(self, height, width, labels, objects, removed):
        self.height, self.width = height, width
        self.removed = removed
        # 0: background, k: the k-th object (1-based) of `objects`.
        self.labels = labels
        self.objects = objects
        ys, xs = np.indices(labels.shape)
        flat = labels.ravel()
        length = len(objects) + 1
        self.areas = np.bincount(flat, minlength=length)
        areas = np.maximum(self.areas, 1)
        self.centroids = np.stack(
            [
                np.bincount(flat, xs.ravel(), length) / areas,
                np.bincount(flat, ys.ravel(), length) / areas,
            ],
            axis=1,
        )


def _draw_scene(rng, arguments):
    """Draws sizes and objects until enough objects stay visible."""
    for _ in range(_ATTEMPTS):
        height, width = (
            int(side)
            for side in rng.integers(
                arguments["min_size"], arguments["max_size"] + 1, 2
            )
        )
        count = int(
            rng.integers(arguments["min_objects"], arguments["max_objects"] + 1)
        )
        objects = _draw_objects(
            rng, count, height, width, arguments["repeat_probability"]
        )
        labels = _rasterise(objects, height, width)
        visible = np.bincount(labels.ravel(), minlength=len(objects) + 1)
        kept = [
            item
            for k, item in enumerate(objects)
            if visible[k + 1]
            >= max(MIN_OBJECT_PIXELS, MIN_VISIBLE_FRACTION * item["area"])
        ]
        if len(kept) < arguments["min_objects"]:
            continue
        # Removing a hidden object only uncovers the others.
        if len(kept) < len(objects):
            labels = _rasterise(kept, height, width)
        return _Scene(height, width, labels, kept, len(objects) - len(kept))
    raise RuntimeError(
        f"No scene with {arguments['min_objects']} visible objects in "
        f"{_ATTEMPTS} attempts: use larger images or fewer objects."
    )


def _draw_objects(rng, count, height, width, repeat_probability):
    categories = []
    colours = []
    order = rng.permutation(len(CATEGORIES))
    while len(categories) < count:
        left = count - len(categories)
        size = 1
        if left >= 2 and rng.random() < repeat_probability:
            size = 3 if left >= 3 and rng.random() < 0.4 else 2
        groups = len(set(categories))
        category = CATEGORIES[order[groups % len(CATEGORIES)]]
        group = []
        for _ in range(size):
            if group and rng.random() < _SAME_COLOUR:
                group.append(group[rng.integers(len(group))])
            else:
                group.append(list(COLOURS)[rng.integers(len(COLOURS))])
        categories += [category] * size
        colours += group
    shuffle = rng.permutation(count)
    short = min(height, width)
    objects = []
    for k in shuffle:
        radius = short * rng.uniform(*_RADIUS)
        centre = (
            rng.uniform(radius, width - radius),
            rng.uniform(radius, height - radius),
        )
        outline = _outline(categories[k], centre, radius, rng)
        objects.append(
            {
                "category": categories[k],
                "colour": colours[k],
                "outline": outline,
                "area": _area(categories[k], radius, outline),
            }
        )
    return objects


def _outline(category, centre, radius, rng):
    """The circle's box, or the polygon's vertices [(x, y), ...]."""
    x, y = centre
    if category == "circle":
        return [(x - radius, y - radius), (x + radius, y + radius)]
    tilt = rng.uniform(-0.2, 0.2)
    if category == "star":
        angles = -math.pi / 2 + tilt + np.arange(10) * math.pi / 5
        radii = np.where(np.arange(10) % 2, 0.45 * radius, radius)
    else:
        corners, start, stretch = {
            "square": (4, math.pi / 4, 1.0),
            "diamond": (4, 0.0, 1.3),
            "triangle": (3, -math.pi / 2, 1.0),
            "hexagon": (6, rng.uniform(0, math.pi / 3), 1.0),
        }[category]
        angles = start + tilt + np.arange(corners) * 2 * math.pi / corners
        radii = np.full(corners, radius)
        if stretch != 1.0:
            # A diamond is taller than wide, not a turned square.
            return [
                (x + r * math.cos(a) / stretch, y + r * math.sin(a) * stretch)
                for a, r in zip(angles, radii, strict=True)
            ]
    return [
        (x + r * math.cos(a), y + r * math.sin(a))
        for a, r in zip(angles, radii, strict=True)
    ]


def _area(category, radius, outline):
    if category == "circle":
        return math.pi * radius**2
    xs, ys = np.array(outline).T
    return 0.5 * abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1)))


def _rasterise(objects, height, width):
    """Label map: later objects drawn over earlier ones."""
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for k, item in enumerate(objects):
        if item["category"] == "circle":
            draw.ellipse(item["outline"], fill=k + 1)
        else:
            draw.polygon(item["outline"], fill=k + 1)
    return np.asarray(canvas)


def _paint(rng, scene):
    """The RGB image: textured background, flat-ish shapes, pixel noise."""
    height, width = scene.height, scene.width
    base = rng.uniform(70, 190) + rng.normal(0, 18, 3)
    grid = (rng.integers(3, 9), rng.integers(3, 9), 1)
    # Mostly light and shade, a little colour: shapes stay the saturated
    # things in the image.
    coarse = rng.normal(0, 1, grid) + 0.4 * rng.normal(0, 1, (*grid[:2], 3))
    blotches = np.asarray(
        Image.fromarray(np.uint8(np.clip(128 + 40 * coarse, 0, 255))).resize(
            (width, height), Image.BILINEAR
        ),
        dtype=np.float32,
    )
    background = base + (blotches - 128) * rng.uniform(0.3, 0.8)
    if rng.random() < 0.5:
        ys, xs = np.indices((height, width))
        angle = rng.uniform(0, math.pi)
        period = rng.uniform(6, 20)
        phase = (xs * math.cos(angle) + ys * math.sin(angle)) / period
        background += (
            rng.uniform(5, 18) * np.sin(2 * math.pi * phase)[..., None]
        )
    palette = np.array(
        [(0, 0, 0)] + [COLOURS[item["colour"]] for item in scene.objects],
        dtype=np.float32,
    )
    palette[1:] += rng.normal(0, 10, (len(scene.objects), 1))
    labels = scene.labels
    image = np.where(labels[..., None] > 0, palette[labels], background)
    image += rng.normal(0, rng.uniform(2, 8), image.shape)
    return np.uint8(np.clip(np.round(image), 0, 255))


def _write_objects(rng, image_id, scene, per_object, annotations, counts):
    """Saves the scene's masks and expressions; returns its object records."""
    records = []
    counts["removed_objects"] += scene.removed
    for k, item in enumerate(scene.objects):
        query_id = f"{image_id}_{k + 1}"
        candidates = referring_expressions(scene, k)
        kinds = [kind for kind in KINDS if candidates[kind]]
        chosen = rng.permutation(len(kinds))[:per_object]
        expressions = []
        for index in sorted(chosen.tolist()):
            options = candidates[kinds[index]]
            expressions.append(options[rng.integers(len(options))])
            counts[kinds[index]] += 1
        annotations.add_object(
            image_id, query_id, scene.labels == k + 1, expressions
        )
        counts["objects"] += 1
        counts["objects_without_expression"] += not expressions
        x, y = scene.centroids[k + 1]
        records.append(
            {
                "query_id": query_id,
                "category": item["category"],
                "colour": item["colour"],
                "area": int(scene.areas[k + 1]),
                "centroid": [round(float(x), 2), round(float(y), 2)],
            }
        )
    return records
