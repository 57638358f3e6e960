"""CoSaL colorization: colour gray silhouettes as their paragraph says.

A learnable, offline colorization task for demos, tests and the caption-
following evidence of the colorizer (paper Section 4.3, Table 4's "text
consistency" made measurable without human raters). Each example is a
CoSaL scene (`keras_lbie.datasets.cosal`) whose nine shapes are drawn in
one gray on white, with the paragraph that names every shape's colour.

Why one gray: a colorizer sees only the lightness L. Were the shapes drawn
in the lightness of their CoSaL colours (blue L=32, light green 88, red
53), L alone would give most colours away and a model that ignores the
caption would look good. Here every shape has the same L
(`SHAPE_LIGHTNESS`) and each colour name maps to a Lab colour of that L
with the hue of its CoSaL colour (`COLORS_AB`), so a shape's colour
follows from the caption only: a no-caption model can do no better than
chance, 1 / `NUM_COLORS`, on the caption-following accuracy.

Only the three hued CoSaL colours are used (blue, light green, red):
black and grey have no hue and would be the same colour at one lightness.

Public API:

- `generate(num_examples, num_direct=9, image_size=48, seed=0,
  start_index=0, num_described=None)` → dict of numpy arrays (see its
  docstring).
- `as_dataset(data, batch_size, shuffle=False, seed=None,
  blank_text=False, drop_remainder=False)` → `tf.data` of
  `({"image_l", "text"}, ab)`, as `flowers.as_dataset` gives.
- `caption_accuracy(ab, data)`: the share of named shapes whose mean
  predicted ab is nearest their captioned colour.
- `gray_kept(ab, data)`: the share of shapes the caption does not name
  that stay gray.
- `colorization_scores(ab, data)`: both, PSNR and ab error.
- Constants: `COLOR_NAMES`, `NUM_COLORS`, `SHAPE_GRAY`, `SHAPE_LIGHTNESS`,
  `COLORS_AB`, `COLORS_RGB`.
"""

import numpy as np
import tensorflow as tf

from keras_lbie.color import AB_SCALE
from keras_lbie.color import L_SCALE
from keras_lbie.color import model_outputs_to_rgb
from keras_lbie.datasets import cosal
from keras_lbie.datasets.cosal.generator import check_keys
from keras_lbie.utils.validation import check_bool
from keras_lbie.utils.validation import check_int

COLOR_NAMES = cosal.COLOR_NAMES[:3]
NUM_COLORS = len(COLOR_NAMES)
# sRGB gray of the shapes; its CIE L (D65) is `SHAPE_LIGHTNESS`.
SHAPE_GRAY = 145
SHAPE_LIGHTNESS = 60.1722
# Lab a, b of each colour of `COLOR_NAMES`: chroma 60 at the hue of the
# CoSaL colour, vivid yet inside sRGB for all three at `SHAPE_LIGHTNESS`
# (tested).
_CHROMA = 60.0
_HUES_DEGREES = (-53.7, 136.0, 40.0)
COLORS_AB = tuple(
    (
        round(_CHROMA * float(np.cos(np.radians(h))), 4),
        round(_CHROMA * float(np.sin(np.radians(h))), 4),
    )
    for h in _HUES_DEGREES
)
# The sRGB colours of the targets, for pictures (rounded from Lab; tested).
COLORS_RGB = ((161, 126, 231), (83, 163, 67), (231, 108, 80))
_WHITE = 255


def generate(
    num_examples,
    num_direct=9,
    image_size=48,
    seed=0,
    start_index=0,
    num_described=None,
):
    """Generates CoSaL colorization examples.

    The scenes, paragraphs and their reproducibility are those of
    `cosal.generate(num_examples, num_direct, num_colors=3, image_size,
    seed, start_index=start_index)`: example `i` depends only on
    `(seed, i)`.

    With `num_described=k` the caption keeps only the first k of the nine
    direct sentences ("The circle is red. The diamond is blue."): the k
    shapes it names take their colours, the others stay gray (ab 0), so
    the model must also leave alone what the caption does not mention.

    Args:
        num_examples: int >= 0.
        num_direct: int in 1..9, direct sentences ("The circle is red.");
            the default 9 describes every shape directly.
        image_size: int >= 36, divisible by 3.
        seed: int >= 0.
        start_index: int >= 0, index of the first example.
        num_described: None (every shape is described), or an int in
            1..9, the number of shapes the caption names; needs
            `num_direct=9`.

    Returns:
        A dict of numpy arrays, N = `num_examples`, H = W = `image_size`:
        `gray` uint8 (N, H, W, 1), shapes `SHAPE_GRAY` on white (255);
        `image_l` float32 (N, H, W, 1), its L scaled to [-1, 1]
        (`L / 50 - 1`); `ab` float32 (N, H, W, 2), the target ab scaled to
        [-1, 1] (`ab / 110`; 0 on the background); `target` uint8
        (N, H, W, 3), the target sRGB image; `text`, `shape_map`,
        `tile_shapes` and `tile_colors` as `cosal.generate` (colour ids
        1..3 index `COLOR_NAMES` from 1; 0 for a shape the caption does
        not name, which stays gray).

    Raises:
        TypeError, ValueError: as `cosal.generate`.
    """
    scenes = cosal.generate(
        num_examples,
        num_direct=num_direct,
        num_colors=NUM_COLORS,
        image_size=image_size,
        seed=seed,
        start_index=start_index,
    )
    if num_described is not None:
        _describe_only(scenes, num_described, num_direct)
    is_shape = scenes["shape_map"] > 0
    # Label 4: a shape left gray; its target is the input's own gray.
    label = np.where(is_shape & (scenes["label"] == 0), 4, scenes["label"])
    ab_by_label = (
        np.array(((0.0, 0.0),) + COLORS_AB + ((0.0, 0.0),), np.float32)
        / AB_SCALE
    )
    rgb_by_label = np.array(
        ((_WHITE,) * 3,) + COLORS_RGB + ((SHAPE_GRAY,) * 3,), np.uint8
    )
    shape_l = SHAPE_LIGHTNESS / L_SCALE - 1.0
    return {
        "gray": np.where(is_shape, SHAPE_GRAY, _WHITE).astype(np.uint8)[
            ..., None
        ],
        "image_l": np.where(is_shape, shape_l, 1.0).astype(np.float32)[
            ..., None
        ],
        "ab": ab_by_label[label],
        "target": rgb_by_label[label],
        "text": scenes["text"],
        "shape_map": scenes["shape_map"],
        "tile_shapes": scenes["tile_shapes"],
        "tile_colors": scenes["tile_colors"],
    }


def _describe_only(scenes, num_described, num_direct):
    """Keeps the first `num_described` sentences; other shapes go gray."""
    check_int(num_described, "num_described", 1, cosal.NUM_SHAPES)
    if num_direct != cosal.NUM_SHAPES:
        raise ValueError(
            "`num_described` needs every sentence direct (`num_direct=9`), "
            f"got num_direct={num_direct}."
        )
    shape_ids = {name: k + 1 for k, name in enumerate(cosal.SHAPE_NAMES)}
    texts = []
    for index, text in enumerate(scenes["text"]):
        sentences = text.split(". ")[:num_described]
        named = [shape_ids[s[len("The ") : s.index(" is ")]] for s in sentences]
        undescribed = ~np.isin(scenes["tile_shapes"][index], named)
        scenes["tile_colors"][index][undescribed] = 0
        scenes["label"][index][
            np.isin(scenes["shape_map"][index], named, invert=True)
        ] = 0
        texts.append(". ".join(sentences).rstrip(".") + ".")
    scenes["text"] = np.array(texts, dtype=object)


def as_dataset(
    data,
    batch_size,
    shuffle=False,
    seed=None,
    blank_text=False,
    drop_remainder=False,
):
    """Batches colorization examples for the colorizer and its GAN.

    Args:
        data: a dict returned by `generate()`.
        batch_size: int >= 1.
        shuffle: if True, reshuffle every epoch.
        seed: None or int >= 0, the shuffle's seed.
        blank_text: if True every caption is the empty string: the no-text
            baseline, which sees the silhouettes only.
        drop_remainder: if True, drop the last batch when it is smaller.

    Returns:
        A `tf.data.Dataset` of `({"image_l": float32 (B, H, W, 1), "text":
        string (B,)}, ab float32 (B, H, W, 2))`; tokenize it with
        `LBIEColorizer.tokenize_dataset` for `LBIEColorizerGAN.fit`.

    Raises:
        TypeError, ValueError: bad arguments or a dict without the keys of
        `generate()`.
    """
    check_int(batch_size, "batch_size", 1)
    check_bool(shuffle, "shuffle")
    check_bool(blank_text, "blank_text")
    check_bool(drop_remainder, "drop_remainder")
    if seed is not None:
        check_int(seed, "seed", 0)
    if not isinstance(data, dict):
        raise TypeError(
            f"`data` must be a dict from generate(), got {type(data).__name__}."
        )
    check_keys(data, ("image_l", "text", "ab"))
    text = np.where(blank_text, "", data["text"]).astype(object)
    dataset = tf.data.Dataset.from_tensor_slices(
        ({"image_l": data["image_l"], "text": text}, data["ab"])
    )
    if shuffle:
        dataset = dataset.shuffle(max(len(data["ab"]), 1), seed=seed)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


def caption_accuracy(ab, data):
    """The share of named shapes coloured as the caption says.

    A shape counts as correct when the mean of its predicted ab over its
    pixels is nearer (Euclidean, in ab) to its captioned colour of
    `COLORS_AB` than to the other colours: with one lightness for all
    shapes this is nearest hue and chroma, and a model that ignores the
    caption scores about 1 / `NUM_COLORS`. Shapes the caption does not
    name (`tile_colors` 0) are not counted: see `gray_kept`.

    Args:
        ab: float array (N, H, W, 2), predicted ab scaled as the model
            outputs it (`ab / 110`).
        data: the `generate()` dict the predictions are for.

    Returns:
        float in [0, 1] over the named shapes.

    Raises:
        ValueError: `ab` does not match the data's images.
    """
    distances = _distances_to_colors(ab, data)
    named = data["tile_colors"] > 0
    predicted = np.argmin(distances[..., 1:], axis=-1) + 1
    return float(np.mean(predicted[named] == data["tile_colors"][named]))


def gray_kept(ab, data):
    """The share of shapes the caption does not name that stay gray.

    A shape stays gray when its mean predicted ab is nearer to 0 than to
    every colour of `COLORS_AB`.

    Args:
        ab: float array (N, H, W, 2), predicted ab (`ab / 110`).
        data: a `generate(..., num_described=k)` dict, k < 9.

    Returns:
        float in [0, 1], or None when the caption names every shape.
    """
    distances = _distances_to_colors(ab, data)
    unnamed = data["tile_colors"] == 0
    if not unnamed.any():
        return None
    return float(np.mean(np.argmin(distances[unnamed], axis=-1) == 0))


def _distances_to_colors(ab, data):
    """(N, 9 tiles, 1 + NUM_COLORS) distances of mean ab to gray, colours."""
    ab = np.asarray(ab, np.float64)
    shape_map = data["shape_map"]
    if ab.shape != shape_map.shape + (2,):
        raise ValueError(
            f"`ab` must have shape {shape_map.shape + (2,)} (the data's "
            f"images with 2 channels), got {ab.shape}."
        )
    # Per-(example, shape id) mean ab by one scatter-add per channel.
    num_ids = cosal.NUM_SHAPES + 1
    index = (np.arange(len(ab))[:, None, None] * num_ids + shape_map).ravel()
    counts = np.bincount(index, minlength=len(ab) * num_ids)
    sums = np.stack(
        [
            np.bincount(index, ab[..., c].ravel(), len(ab) * num_ids)
            for c in range(2)
        ],
        axis=-1,
    )
    means = (sums / np.maximum(counts, 1)[:, None]).reshape(len(ab), num_ids, 2)
    # Tile t holds shape id tile_shapes[t].
    shape_means = np.take_along_axis(
        means, data["tile_shapes"][..., None].astype(np.int64), axis=1
    )
    references = np.array(((0.0, 0.0),) + COLORS_AB, np.float64) / AB_SCALE
    return np.linalg.norm(
        shape_means[:, :, None, :] - references[None, None], axis=-1
    )


def colorization_scores(ab, data):
    """Caption accuracy, PSNR and mean ab error of predictions.

    Args:
        ab: float array (N, H, W, 2), predicted ab scaled as the model
            outputs it (`ab / 110`).
        data: the `generate()` dict the predictions are for.

    Returns:
        A dict: `caption_accuracy` (`caption_accuracy`), `gray_kept`
        (`gray_kept`, None when every shape is named), `psnr` (dB, of the
        sRGB image, the input's L with the predicted ab, against
        `data["target"]`, averaged over images) and `ab_l1` (mean |ab|
        error over pixels and both channels, in Lab units).
    """
    accuracy = caption_accuracy(ab, data)
    rgb = np.clip(np.asarray(model_outputs_to_rgb(data["image_l"], ab)), 0, 1)
    mse = np.mean((rgb - data["target"] / 255.0) ** 2, axis=(1, 2, 3))
    # A perfect image would have infinite PSNR; 1e-10 caps it at 100 dB.
    psnr = 10.0 * np.log10(1.0 / np.maximum(mse, 1e-10))
    return {
        "caption_accuracy": accuracy,
        "gray_kept": gray_kept(ab, data),
        "psnr": float(np.mean(psnr)),
        "ab_l1": float(np.mean(np.abs(ab - data["ab"])) * AB_SCALE),
    }
