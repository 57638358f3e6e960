"""Tests for the synthetic referring-scene writer (write_referring_scenes)."""

import json
import os
import re

import numpy as np
import pytest
from PIL import Image

from keras_lbie.datasets import referit
from keras_lbie.datasets.referit import referring_expressions
from keras_lbie.datasets.referit import referring_scenes as scenes
from keras_lbie.tokenizers.referit_tokenizer import UNK_TOKEN
from keras_lbie.tokenizers.referit_tokenizer import ReferItTokenizer
from keras_lbie.tokenizers.referit_tokenizer import load_vocabulary

NUM_IMAGES = 60
# Rounding of the centroids in the objects file (2 decimals).
SLACK = 0.011


def _read(root, name):
    with open(os.path.join(root, name), encoding="utf-8") as file:
        return json.load(file)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("scenes"))
    scenes.write_referring_scenes(root, NUM_IMAGES, seed=5)
    return root


@pytest.fixture(scope="module")
def objects(root):
    return _read(root, referit.OBJECTS_FILE)


@pytest.fixture(scope="module")
def queries(root):
    return {
        key: value
        for split in ("trainval", "test")
        for key, value in _read(root, referit.query_file(split)).items()
    }


def test_loader_reads_every_split(root):
    for split in referit.SPLITS:
        index = referit.load_index(root, split, check_masks=True)
        assert index.examples
    splits = {
        split: set(
            open(os.path.join(root, referit.imlist_file(split))).read().split()
        )
        for split in ("train", "val", "test")
    }
    assert set.union(*splits.values()) == {
        str(i + 1) for i in range(NUM_IMAGES)
    }
    assert len(splits["test"]) == len(splits["val"]) == 12  # 20% of 60


def test_dataset_elements(root):
    dataset = referit.as_dataset(root, "test", batch_size=4, image_size=96)
    x, y = next(iter(dataset))
    assert x["image"].shape == (4, 96, 96, 3)
    assert x["text"].shape == (4,)
    assert y.shape == (4, 96, 96)
    assert 0 < int(np.sum(y)) < y.numpy().size


def test_blank_text_empties_every_expression(root):
    dataset = referit.as_dataset(
        root, "test", batch_size=64, image_size=32, blank_text=True
    )
    texts = np.concatenate([x["text"].numpy() for x, _ in dataset])
    assert len(texts) == len(referit.load_index(root, "test").examples)
    assert set(texts.tolist()) == {b""}


def test_vocabulary_covers_every_expression(root, queries):
    vocabulary = load_vocabulary(os.path.join(root, referit.VOCABULARY_FILE))
    expressions = [e for es in queries.values() for e in es]
    ids = ReferItTokenizer(vocabulary)(expressions).numpy()
    assert vocabulary.index(UNK_TOKEN) not in ids


def test_masks_fit_their_images_and_do_not_overlap(root, objects):
    imsize = _read(root, referit.IMSIZE_FILE)
    bbox = _read(root, referit.BBOX_FILE)
    for image_id, items in objects.items():
        width, height = imsize[f"{image_id}.jpg"]
        with Image.open(os.path.join(root, "images", f"{image_id}.jpg")) as im:
            assert im.size == (width, height)
        covered = np.zeros((height, width), dtype=int)
        for item in items:
            mask = referit.load_mask(
                os.path.join(root, "mask", f"{item['query_id']}.mat")
            )
            assert mask.shape == (height, width)
            assert mask.sum() == item["area"]
            assert item["area"] >= scenes.MIN_OBJECT_PIXELS
            ys, xs = np.nonzero(mask)
            assert bbox[item["query_id"]] == [
                xs.min(),
                ys.min(),
                xs.max(),
                ys.max(),
            ]
            np.testing.assert_allclose(
                item["centroid"], [xs.mean(), ys.mean()], atol=SLACK
            )
            covered += mask
        assert covered.max() == 1  # visible pixels: one object each


def test_sizes_and_object_counts_vary(root, objects):
    sizes = set(map(tuple, _read(root, referit.IMSIZE_FILE).values()))
    assert len(sizes) > NUM_IMAGES // 2
    assert all(64 <= side <= 128 for size in sizes for side in size)
    ratios = [width / height for width, height in sizes]
    assert min(ratios) < 0.8 and max(ratios) > 1.25
    counts = [len(items) for items in objects.values()]
    assert min(counts) >= 3 and max(counts) <= 6
    assert len(set(counts)) >= 3


def test_categories_repeat_in_most_images(root, objects, queries):
    repeated = 0
    for items in objects.values():
        categories = [item["category"] for item in items]
        repeated += len(set(categories)) < len(categories)
    assert repeated >= 0.8 * NUM_IMAGES
    ambiguous = 0
    for query_id in queries:
        items = objects[query_id.split("_")[0]]
        category = _item(items, query_id)["category"]
        ambiguous += sum(i["category"] == category for i in items) > 1
    assert ambiguous >= 0.6 * len(queries)


def test_backgrounds_are_textured_not_white(root, objects):
    for image_id in list(objects)[:10]:
        with Image.open(os.path.join(root, "images", f"{image_id}.jpg")) as im:
            image = np.asarray(im, dtype=float)
        background = np.ones(image.shape[:2], dtype=bool)
        for item in objects[image_id]:
            background &= ~referit.load_mask(
                os.path.join(root, "mask", f"{item['query_id']}.mat")
            )
        pixels = image[background]
        assert pixels.mean() < 230
        assert pixels.std(axis=0).min() > 3


def test_every_expression_picks_out_its_object_alone(root, objects, queries):
    imsize = _read(root, referit.IMSIZE_FILE)
    kinds = set()
    for query_id, expressions in queries.items():
        image_id = query_id.split("_")[0]
        size = imsize[f"{image_id}.jpg"]
        assert 1 <= len(expressions) <= 2
        for expression in expressions:
            kind, referents = _resolve(expression, objects[image_id], size)
            kinds.add(kind)
            assert referents == [query_id], (expression, objects[image_id])
    assert kinds == {"exact", "size", "position", "relation"}


def test_source_file_records_the_run(root, objects, queries):
    source = _read(root, referit.SOURCE_FILE)
    assert source["arguments"]["num_images"] == NUM_IMAGES
    assert source["arguments"]["seed"] == 5
    assert source["objects"] == sum(map(len, objects.values()))
    assert source["queries"] == len(queries)
    assert sum(source[kind] for kind in scenes.KINDS) == sum(
        map(len, queries.values())
    )
    assert (
        source["objects"] - source["objects_without_expression"]
        == source["queries"]
    )


def test_deterministic_under_a_seed(root, tmp_path):
    again = str(tmp_path / "again")
    other = str(tmp_path / "other")
    scenes.write_referring_scenes(again, NUM_IMAGES, seed=5)
    scenes.write_referring_scenes(other, NUM_IMAGES, seed=6)
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if os.path.isfile(path):
            assert (
                open(path, "rb").read()
                == open(os.path.join(again, name), "rb").read()
            ), name
    for image_id in ("1", str(NUM_IMAGES)):
        image = os.path.join("images", f"{image_id}.jpg")
        first = open(os.path.join(root, image), "rb").read()
        assert first == open(os.path.join(again, image), "rb").read()
        assert first != open(os.path.join(other, image), "rb").read()
    mask = os.path.join("mask", "1_1.mat")
    np.testing.assert_array_equal(
        referit.load_mask(os.path.join(root, mask)),
        referit.load_mask(os.path.join(again, mask)),
    )


def test_image_depends_only_on_seed_and_index(root, tmp_path):
    fewer = str(tmp_path / "fewer")
    scenes.write_referring_scenes(fewer, 3, seed=5)
    for image_id in ("1", "2", "3"):
        image = os.path.join("images", f"{image_id}.jpg")
        assert (
            open(os.path.join(root, image), "rb").read()
            == open(os.path.join(fewer, image), "rb").read()
        )


def test_no_repeats_when_asked(tmp_path):
    root = str(tmp_path / "singles")
    scenes.write_referring_scenes(root, 10, repeat_probability=0.0)
    for items in _read(root, referit.OBJECTS_FILE).values():
        categories = [item["category"] for item in items]
        assert len(set(categories)) == len(categories)


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"num_images": 0}, ValueError, "`num_images`"),
        ({"num_images": 2.0}, ValueError, "`num_images`"),
        ({"seed": -1}, ValueError, "`seed`"),
        ({"min_size": 40}, ValueError, "`min_size`"),
        ({"min_size": 100, "max_size": 80}, ValueError, "`max_size`"),
        ({"min_objects": 1}, ValueError, "`min_objects`"),
        ({"max_objects": 9}, ValueError, "`max_objects`"),
        ({"min_objects": 5, "max_objects": 4}, ValueError, "`max_objects`"),
        ({"repeat_probability": 1.5}, ValueError, "`repeat_probability`"),
        ({"repeat_probability": "a"}, TypeError, "`repeat_probability`"),
        ({"expressions_per_object": 0}, ValueError, "expressions_per_obj"),
        ({"val_fraction": 0.6, "test_fraction": 0.5}, ValueError, "<= 1"),
        ({"jpeg_quality": 0}, ValueError, "`jpeg_quality`"),
        ({"out_dir": None}, TypeError, "`out_dir`"),
    ],
)
def test_rejects_bad_arguments(tmp_path, kwargs, error, pattern):
    kwargs = {"out_dir": str(tmp_path / "bad"), "num_images": 2, **kwargs}
    with pytest.raises(error, match=pattern):
        scenes.write_referring_scenes(**kwargs)
    assert not os.path.exists(tmp_path / "bad")


# An independent reading of the grammar in the module docstring.
_NOUN = r"(?:the )?(?P<noun>[a-z]+(?: [a-z]+)?)"
_FORMS = (
    ("relation", re.compile(
        _NOUN + r" (?P<rel>above|below|left of|right of) the (?P<anchor>.+)"
    )),
    ("size", re.compile(r"(?:the )?(?P<size>big|small) (?P<noun>.+)")),
    ("position", re.compile(r"(?P<side>left|right|top|bottom) (?P<noun>.+)")),
    ("position", re.compile(
        r"the (?P<noun>.+?) (?:on the |on |at the )"
        r"(?P<side>left|right|top|bottom)"
    )),
    ("position", re.compile(_NOUN + r" (?P<side>left|right|top|bottom)")),
    ("exact", re.compile(_NOUN)),
)  # fmt: skip
# side → (axis, sign): the referent's coordinate times sign is larger.
_SIDE = {"left": (0, -1), "right": (0, 1), "top": (1, -1), "bottom": (1, 1)}
_RELATION_SIDE = {
    "above": "top",
    "below": "bottom",
    "left of": "left",
    "right of": "right",
}


def _item(items, query_id):
    return next(item for item in items if item["query_id"] == query_id)


def _fits(noun, items):
    words = noun.split()
    if words[-1] == "one":
        colour = words[0] if len(words) == 2 else None
        return [i for i in items if colour in (None, i["colour"])]
    assert words[-1] in scenes.CATEGORIES, noun
    colour = words[0] if len(words) == 2 else None
    return [
        i
        for i in items
        if i["category"] == words[-1] and colour in (None, i["colour"])
    ]


def _resolve(expression, items, size):
    """(kind, query ids of the objects the expression can refer to)."""
    kind, match = next(
        (kind, pattern.fullmatch(expression))
        for kind, pattern in _FORMS
        if pattern.fullmatch(expression)
    )
    fits = _fits(match["noun"], items)
    if kind == "exact":
        assert match["noun"] != "one"
        return kind, [i["query_id"] for i in fits]
    if kind == "size":
        ratio = referring_expressions.SIZE_RATIO
        if match["size"] == "small":
            ratio = 1 / ratio
        found = [
            i
            for i in fits
            if all(
                (i["area"] - ratio * o["area"]) * (ratio - 1) >= 0
                for o in fits
                if o is not i
            )
        ]
        return kind, [i["query_id"] for i in found]
    if kind == "position":
        axis, sign = _SIDE[match["side"]]
        margin = referring_expressions.MARGIN * size[axis] - SLACK
        found = [
            i
            for i in fits
            if all(
                sign * (i["centroid"][axis] - o["centroid"][axis]) >= margin
                for o in fits
                if o is not i
            )
        ]
        return kind, [i["query_id"] for i in found]
    anchors = _fits(match["anchor"], items)
    assert len(anchors) == 1, expression
    anchor = anchors[0]
    axis, sign = _SIDE[_RELATION_SIDE[match["rel"]]]
    margin = referring_expressions.MARGIN * size[axis] - SLACK
    at = sign * anchor["centroid"][axis]
    beyond = [
        i
        for i in fits
        if i is not anchor and sign * i["centroid"][axis] - at >= margin
    ]
    level = [
        i
        for i in fits
        if i is not anchor and sign * i["centroid"][axis] - at > SLACK
    ]
    # Unique: one object past the anchor, none of the others even level.
    return kind, [i["query_id"] for i in beyond] if len(level) == 1 else []
