"""Oxford-102 Flowers with Reed et al.'s captions (Chen et al., 2018, 4.3).

Reads the Oxford release (Nilsback & Zisserman) and the `cvpr2016_flowers`
captions of Reed et al. (2016) as distributed, without conversion:

    root/
        jpg/image_00001.jpg ... image_08189.jpg
        imagelabels.mat          key `labels`: 1×N class ids in 1..102
        setid.mat                keys `trnid`, `valid`, `tstid`: 1-based ids
    caption_root/                (defaults to `root`)
        text_c10/class_00001/image_06734.txt ...   one caption per line
        trainclasses.txt, valclasses.txt, trainvalclasses.txt,
        testclasses.txt          one `class_000xx` per line

Caption folders also hold `.h5`/`.t7` files of Reed et al.'s encodings:
only `.txt` files are read. Caption files are found from the image id and
its class in `imagelabels.mat`, never by listing the folders.

Splits:

- "train", "val", "test": the image ids of `setid.mat` (`trnid`, `valid`,
  `tstid`, in that file's order). Note that the official file has 1,020
  training, 1,020 validation and 6,149 test images.
- "train_classes", "test_classes": the zero-shot class split of Reed et al.
  that the paper uses (82 training, 20 test classes; all images of those
  classes, in id order). The training classes are the union of the classes
  listed in whichever of `trainclasses.txt`, `valclasses.txt` and
  `trainvalclasses.txt` exist (in Reed et al.'s release, 62 + 20 = the 82 of
  `trainvalclasses.txt`); the test classes are those of `testclasses.txt`.
  The two sets must not overlap.

The default split is "train_classes", the paper's training set.

Public API:

- `load_index(root, split="train_classes", caption_root=None)` → tuple of
  `FlowersExample(image_id, class_id, image_path, captions)`, validated.
- `as_dataset(root, split="train_classes", image_size=256, batch_size=16,
  shuffle=None, seed=None, augment=None, caption="random",
  drop_remainder=False, caption_root=None)` → batched `tf.data.Dataset` of
  `({"image_l", "text"}, ab)`, images streamed from disk.
- Constants: `NUM_CLASSES`, `SPLITS`, `CAPTION_MODES`, `RESIZE_FACTOR`.
  The L and ab scaling is `keras_lbie.color`'s (`L_SCALE`, `AB_SCALE`).
"""

import dataclasses
import os
import re

import numpy as np
import scipy.io
import tensorflow as tf

from keras_lbie.color import rgb_to_model_inputs
from keras_lbie.utils.validation import check_bool
from keras_lbie.utils.validation import check_int
from keras_lbie.utils.validation import check_path

NUM_CLASSES = 102
SPLITS = ("train", "val", "test", "train_classes", "test_classes")
CAPTION_MODES = ("random", "first", "all")
# Augmentation resizes the shorter side to image_size × 1.14 (256 → 292)
# before the random crop, as pix2pix-style colorisation training does.
RESIZE_FACTOR = 1.14

_SETID_KEYS = {"train": "trnid", "val": "valid", "test": "tstid"}
_TRAIN_CLASS_FILES = (
    "trainclasses.txt",
    "valclasses.txt",
    "trainvalclasses.txt",
)
_TEST_CLASS_FILE = "testclasses.txt"
_CLASS_NAME = re.compile(r"class_(\d{5})")
_TRAINING_SPLITS = ("train", "train_classes")


@dataclasses.dataclass(frozen=True)
class FlowersExample:
    """One image of the index.

    Attributes:
        image_id: int, 1-based id (`jpg/image_%05d.jpg`).
        class_id: int in 1..102, from `imagelabels.mat`.
        image_path: str, path of the JPEG.
        captions: tuple of str, the non-blank lines of the caption file,
            stripped, in file order.
    """

    image_id: int
    class_id: int
    image_path: str
    captions: tuple


def load_index(root, split="train_classes", caption_root=None):
    """Validates an Oxford-102 + captions folder and lists a split.

    Reads `imagelabels.mat`, the split's id or class files and every caption
    file of the split, and checks that each JPEG exists (without reading
    it). `setid.mat` is read only for "train"/"val"/"test", the class files
    only for the class splits. Blank caption lines are dropped; captions are
    not truncated (the release has 10 per image).

    Args:
        root: str or path-like, folder holding `jpg/`, `imagelabels.mat` and
            `setid.mat`.
        split: one of `SPLITS` (see the module docstring); default
            "train_classes", the paper's 82 training classes.
        caption_root: None or str or path-like, folder holding `text_c10/`
            and the class files; None means `root`.

    Returns:
        A tuple of `FlowersExample`, in `setid.mat` order for id splits and
        in image id order for class splits.

    Raises:
        TypeError: `root`, `caption_root` or `split` has the wrong type.
        ValueError: unknown `split`; a malformed file (a .mat file that is
            unreadable, lacks its key, is not a 1×N vector of integers or
            holds out-of-range ids; a caption file without a non-blank line;
            a class file with a line that is not `class_%05d` or names a
            missing `text_c10/` folder; overlapping train and test classes).
            The message names the file.
        FileNotFoundError: a missing folder or file, named in the message.

    Example:
    >>> index = load_index("/data/oxford102", split="test_classes")
    >>> for example in index[:3]:
    ...     print(example.image_path, example.class_id, example.captions[0])
    """
    root = _check_dir("root", root)
    if caption_root is None:
        caption_root = root
    else:
        caption_root = _check_dir("caption_root", caption_root)
    _check_choice("split", split, SPLITS)
    image_dir = _require_dir(os.path.join(root, "jpg"))
    text_dir = _require_dir(os.path.join(caption_root, "text_c10"))
    labels = _read_mat_vector(
        os.path.join(root, "imagelabels.mat"),
        "labels",
        NUM_CLASSES,
        unique=False,
    )
    if split in _SETID_KEYS:
        image_ids = _read_mat_vector(
            os.path.join(root, "setid.mat"),
            _SETID_KEYS[split],
            len(labels),
            unique=True,
        )
    else:
        classes = _split_classes(caption_root, text_dir, split)
        image_ids = np.flatnonzero(np.isin(labels, list(classes))) + 1
    return tuple(
        _example(image_dir, text_dir, int(i), int(labels[i - 1]))
        for i in image_ids
    )


def as_dataset(
    root,
    split="train_classes",
    image_size=256,
    batch_size=16,
    shuffle=None,
    seed=None,
    augment=None,
    caption="random",
    drop_remainder=False,
    caption_root=None,
):
    """A batched `tf.data` pipeline of (L, caption) → ab for colorisation.

    Images are read and decoded from disk per element (`decode_jpeg` with 3
    channels, so grayscale JPEGs give R = G = B); only the index and the
    captions are held in memory.

    Geometry: with `augment`, the shorter side is resized (bilinear,
    antialiased) to `round(image_size * RESIZE_FACTOR)`, then a random
    `image_size` square is cropped and flipped left-right with probability
    1/2. Without it, the shorter side is resized to `image_size` and the
    centre square is cropped. Either way the rest of the longer side is cut
    off and small images are upsampled.

    Randomness: crops, flips, the "random" caption and the shuffle order
    are redrawn every epoch (each new iteration of the dataset), and with an
    int `seed` the sequence of epochs is reproducible.

    Args:
        root: str or path-like, see `load_index`.
        split: one of `SPLITS`, see `load_index`; default "train_classes".
        image_size: int >= 1, side of the square output images.
        batch_size: int >= 1.
        shuffle: None or bool; None shuffles the training splits ("train",
            "train_classes") only.
        seed: None or int >= 0, seeds the shuffle, crops, flips and caption
            draws.
        augment: None or bool, random resize-crop and flip; None augments
            the training splits only.
        caption: "random" (default): one element per image, with a caption
            drawn uniformly from its captions each epoch; "first": one
            element per image, with its first caption; "all": one element
            per (image, caption) pair, so each image appears once per
            caption.
        drop_remainder: if True, drop the last batch when it is smaller.
        caption_root: see `load_index`.

    Returns:
        A `tf.data.Dataset` of `(x, ab)`: `x = {"image_l": float32 (B, S, S,
        1), "text": string (B,)}` with S = `image_size` and `image_l` =
        L / `L_SCALE` - 1; `ab` float32 (B, S, S, 2) = (a, b) / `AB_SCALE`.
        Both lie in [-1, 1] (CIE Lab of the sRGB image, D65 white).

    Raises:
        TypeError, ValueError: bad arguments, named in the message; the
            errors of `load_index` for a missing or malformed file.

    Example:
    >>> train = as_dataset("/data/oxford102", "train_classes", seed=0)
    >>> test = as_dataset("/data/oxford102", "test_classes", caption="first")
    >>> x, ab = next(iter(train))
    >>> x["image_l"].shape, ab.shape
    (TensorShape([16, 256, 256, 1]), TensorShape([16, 256, 256, 2]))
    >>> model.fit(train, validation_data=test, epochs=200)
    """
    _check_choice("split", split, SPLITS)
    check_int(image_size, "image_size", 1)
    check_int(batch_size, "batch_size", 1)
    shuffle = _default_for_split("shuffle", shuffle, split)
    augment = _default_for_split("augment", augment, split)
    if seed is not None:
        check_int(seed, "seed", 0)
    _check_choice("caption", caption, CAPTION_MODES)
    check_bool(drop_remainder, "drop_remainder")

    index = load_index(root, split, caption_root=caption_root)
    if not index:
        raise ValueError(f"Split {split!r} of {root} holds no image.")
    paths, captions, counts = _caption_table(index, caption)
    num_elements = int(paths.shape[0])
    shuffle_seed, draw_seed = _two_seeds(seed)
    positions = tf.data.Dataset.range(num_elements)
    if shuffle:
        # Shuffling positions, not images, makes the buffer the whole split.
        positions = positions.shuffle(
            num_elements, seed=shuffle_seed, reshuffle_each_iteration=True
        )
    draws = tf.data.Dataset.random(
        seed=draw_seed, rerandomize_each_iteration=True
    )
    load = _loader(paths, captions, counts, image_size, augment)
    dataset = tf.data.Dataset.zip((positions, draws)).map(
        load, num_parallel_calls=tf.data.AUTOTUNE
    )
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _two_seeds(seed):
    # Decorrelated: with one seed, the shuffle and the per-element draws
    # would run the same random stream.
    if seed is None:
        return None, None
    return tuple(int(s) for s in np.random.SeedSequence(seed).generate_state(2))


def _check_choice(name, value, choices):
    if not isinstance(value, str):
        raise TypeError(
            f"`{name}` must be one of {choices}, got "
            f"{type(value).__name__} {value!r}."
        )
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {choices}, got {value!r}.")


def _default_for_split(name, value, split):
    if value is None:
        return split in _TRAINING_SPLITS
    return check_bool(value, name)


def _check_dir(name, path):
    return _require_dir(check_path(path, name))


def _require_dir(path):
    if not os.path.isdir(path):
        raise FileNotFoundError(f"Folder not found: {path}")
    return path


def _require_file(path, what=""):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"File not found: {path}{what}")
    return path


def _read_mat_vector(path, key, high, unique):
    """Reads `key` of a .mat file as a vector of ints in 1..`high`."""
    _require_file(path)
    try:
        contents = scipy.io.loadmat(path)
    except (ValueError, TypeError, OSError, scipy.io.matlab.MatReadError) as e:
        raise ValueError(f"{path} is not a readable .mat file: {e}") from e
    if key not in contents:
        found = sorted(k for k in contents if not k.startswith("__"))
        raise ValueError(f"{path} has no key {key!r}; found {found}.")
    values = np.asarray(contents[key])
    # MATLAB stores vectors as 1×N; a column or flat vector is read the same.
    if values.ndim > 2 or np.count_nonzero(np.array(values.shape) > 1) > 1:
        raise ValueError(
            f"{path}: {key!r} must be a 1×N vector, got shape {values.shape}."
        )
    values = values.ravel()
    if values.dtype.kind not in "iuf" or np.any(values != np.round(values)):
        raise ValueError(f"{path}: {key!r} must hold integers.")
    values = values.astype(np.int64)
    bad = values[(values < 1) | (values > high)]
    if bad.size:
        raise ValueError(
            f"{path}: {key!r} must hold values in 1..{high}, got "
            f"{bad[:5].tolist()}."
        )
    if unique and len(np.unique(values)) != len(values):
        raise ValueError(f"{path}: {key!r} lists an image id twice.")
    return values


def _split_classes(caption_root, text_dir, split):
    """Class ids of a class split; checks train and test are disjoint."""
    train_files = [
        os.path.join(caption_root, name)
        for name in _TRAIN_CLASS_FILES
        if os.path.isfile(os.path.join(caption_root, name))
    ]
    if not train_files:
        raise FileNotFoundError(
            f"No training class file in {caption_root}: expected one of "
            f"{_TRAIN_CLASS_FILES}."
        )
    test_file = _require_file(os.path.join(caption_root, _TEST_CLASS_FILE))
    train = set().union(*(_read_class_file(p, text_dir) for p in train_files))
    test = _read_class_file(test_file, text_dir)
    if train & test:
        raise ValueError(
            f"{test_file} shares classes {sorted(train & test)} with "
            f"{train_files}; the zero-shot split needs disjoint classes."
        )
    return train if split == "train_classes" else test


def _read_class_file(path, text_dir):
    """Class ids listed in `path`, one `class_%05d` per non-blank line."""
    classes = set()
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            name = line.strip()
            if not name:
                continue
            match = _CLASS_NAME.fullmatch(name)
            if not match or not 1 <= int(match[1]) <= NUM_CLASSES:
                raise ValueError(
                    f"{path}, line {number}: expected a class name "
                    f"class_00001 .. class_{NUM_CLASSES:05d}, got {name!r}."
                )
            if not os.path.isdir(os.path.join(text_dir, name)):
                raise ValueError(
                    f"{path}, line {number}: names {name}, but the caption "
                    f"folder {os.path.join(text_dir, name)} does not exist."
                )
            classes.add(int(match[1]))
    if not classes:
        raise ValueError(f"{path} lists no class.")
    return classes


def _example(image_dir, text_dir, image_id, class_id):
    image_path = _require_file(
        os.path.join(image_dir, f"image_{image_id:05d}.jpg")
    )
    caption_path = os.path.join(
        text_dir, f"class_{class_id:05d}", f"image_{image_id:05d}.txt"
    )
    _require_file(
        caption_path,
        f" (image {image_id} is of class {class_id} in imagelabels.mat)",
    )
    with open(caption_path, encoding="utf-8") as f:
        captions = tuple(line.strip() for line in f if line.strip())
    if not captions:
        raise ValueError(
            f"{caption_path} holds no caption: expected one per line."
        )
    return FlowersExample(image_id, class_id, image_path, captions)


def _caption_table(index, caption):
    """Per-element paths (M,), padded captions (M, K) and counts (M,).

    "first" and "all" give one caption per element (K = 1), so the loader
    treats all three modes as "draw among the element's captions".
    """
    if caption == "random":
        rows = [example.captions for example in index]
        paths = [example.image_path for example in index]
    elif caption == "first":
        rows = [example.captions[:1] for example in index]
        paths = [example.image_path for example in index]
    else:
        rows = [(c,) for example in index for c in example.captions]
        paths = [
            example.image_path for example in index for _ in example.captions
        ]
    width = max((len(row) for row in rows), default=1)
    padded = [list(row) + [""] * (width - len(row)) for row in rows]
    return (
        tf.constant(paths, tf.string, shape=(len(paths),)),
        tf.constant(padded, tf.string, shape=(len(rows), width)),
        tf.constant([len(row) for row in rows], tf.int32, shape=(len(rows),)),
    )


def _loader(paths, captions, counts, image_size, augment):
    """The per-element map: (position, random int64) → (x, ab)."""

    def load(position, draw):
        position = tf.cast(position, tf.int32)
        crop_seed, flip_seed, caption_seed = (
            tf.stack([draw, tf.constant(k, tf.int64)]) for k in range(3)
        )
        image = tf.io.decode_jpeg(tf.io.read_file(paths[position]), channels=3)
        if augment:
            side = int(round(image_size * RESIZE_FACTOR))
            image = _resize_shorter_side(image, side)
            image = tf.image.stateless_random_crop(
                image, (image_size, image_size, 3), crop_seed
            )
            image = tf.image.stateless_random_flip_left_right(image, flip_seed)
        else:
            image = _centre_crop(
                _resize_shorter_side(image, image_size), image_size
            )
        pick = tf.random.stateless_uniform(
            (), caption_seed, 0, counts[position], dtype=tf.int32
        )
        # Resampling can leave values a rounding error outside [0, 255].
        rgb = tf.clip_by_value(tf.cast(image, tf.float32) / 255.0, 0.0, 1.0)
        l_scaled, ab_scaled = rgb_to_model_inputs(rgb)
        return {
            "image_l": l_scaled,
            "text": captions[position, pick],
        }, ab_scaled

    return load


def _resize_shorter_side(image, side):
    """Resizes to shorter side `side`, keeping the aspect ratio (float32)."""
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    size = tf.cast(tf.round(shape * side / tf.reduce_min(shape)), tf.int32)
    # Rounding must not leave the shorter side a pixel short of the crop.
    size = tf.maximum(size, side)
    return tf.image.resize(image, size, antialias=True)


def _centre_crop(image, size):
    shape = tf.shape(image)
    top = (shape[0] - size) // 2
    left = (shape[1] - size) // 2
    image = image[top : top + size, left : left + size]
    return tf.ensure_shape(image, (size, size, 3))
