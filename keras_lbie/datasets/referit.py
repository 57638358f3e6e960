"""ReferIt referring-expression segmentation data (Chen et al., 2018, 4.2).

Reads the standard ReferIt release layout of text_objseg (Hu et al., ECCV
2016), all under one root folder:

- `images/<imid>.jpg`: the photos.
- `mask/<imid>_<k>.mat`: one MATLAB file per annotated object `k` of image
  `imid`, whose `segimg_t` array is 0 on the object (any other value is
  background).
- `referit_query_{train,val,trainval,test}.json`: `"<imid>_<k>"` → list of
  referring expressions of that object (an older text_objseg revision keys
  them `"<imid>_<k>.png"`; the suffix is ignored).
- `referit_imsize.json`: `"<imid>.jpg"` → `[width, height]`.
- `referit_bbox.json`: `"<imid>_<k>"` → `[x1, y1, x2, y2]`, the object's
  box in inclusive pixel coordinates (x right, y down).
- `referit_{train,val,trainval,test}_imlist.txt`: the split's image ids, one
  a line.
- `vocabulary_referit.txt`: one word a line, the line number is the word id;
  it starts `<pad> <go> <eos> <unk>`.

Public API:

- `load_index(root, split, vocabulary_file=None, check_masks=False)` →
  `ReferItIndex`: validates the folder and lists the split's
  (object, expression) pairs.
- `as_dataset(root, split, batch_size, image_size=512, ...)` → batched
  `tf.data.Dataset` of `({"image", "text"}, mask)` (optionally with `meta`).
- `unpad_and_resize(prediction, meta, method="nearest")`: maps a prediction
  on the padded square back to the original image size (TF ops).
- `resize_geometry(height, width, image_size=512)`: the resize-and-pad
  parameters of one image.
- `load_mask(path)`: reads one mask file as a bool array.
- `query_file(split)`, `imlist_file(split)`: a split's file names.
- `ReferItIndex`, `ReferItExample`: what `load_index` returns.
- `write_referit_format(out_dir, num_images, seed=0, ...)`: writes CoSaL
  scenes as a ReferIt-format folder, for tests and offline runs.
- Constants: `SPLITS`, `MASK_KEY`, `VOCABULARY_FILE`, `DEFAULT_IMAGE_SIZE`.

Preprocessing follows text_objseg's `resize_and_pad`: the image is scaled by
`min(S / height, S / width)` (S = `image_size`) to `round(height * scale)` ×
`round(width * scale)` (round half to even), placed at
`floor((S - size) / 2)` from the top and left, and the rest is zero. The
mask goes through the same geometry with nearest-neighbour sampling
(text_objseg samples it bilinearly and keeps every pixel > 0, which grows
objects by up to a pixel). VGG mean subtraction is the model's job, not the
loader's: images leave the pipeline as uint8 RGB in [0, 255], padding 0.
"""

import collections
import json
import os

import numpy as np
import scipy.io
import tensorflow as tf
from PIL import Image

from keras_lbie.datasets import cosal
from keras_lbie.tokenizers.referit_tokenizer import SPECIAL_TOKENS
from keras_lbie.tokenizers.referit_tokenizer import load_vocabulary
from keras_lbie.utils.validation import check_positive_int

SPLITS = ("train", "val", "trainval", "test")
MASK_KEY = "segimg_t"
VOCABULARY_FILE = "vocabulary_referit.txt"
IMSIZE_FILE = "referit_imsize.json"
BBOX_FILE = "referit_bbox.json"
# The paper and text_objseg feed VGG-16 512 × 512 inputs.
DEFAULT_IMAGE_SIZE = 512

_IMAGE_DIR = "images"
_MASK_DIR = "mask"

ReferItExample = collections.namedtuple(
    "ReferItExample",
    [
        "query_id",
        "image_id",
        "expression",
        "image_path",
        "mask_path",
        "height",
        "width",
        "bbox",
    ],
)
ReferItExample.__doc__ = """One (object, expression) pair of a split.

`query_id` is `"<imid>_<k>"`; `height` and `width` come from
`referit_imsize.json`; `bbox` is `[x1, y1, x2, y2]` from
`referit_bbox.json`.
"""

ReferItIndex = collections.namedtuple(
    "ReferItIndex", ["root", "split", "examples", "vocabulary"]
)
ReferItIndex.__doc__ = """A validated split: `examples` is a tuple of
`ReferItExample` in query-file order (expressions in listed order), and
`vocabulary` the word list of the vocabulary file (index = id).
"""


def query_file(split):
    """Returns the file name of a split's expressions, e.g. for "test"."""
    _check_split(split)
    return f"referit_query_{split}.json"


def imlist_file(split):
    """Returns the file name of a split's image list."""
    _check_split(split)
    return f"referit_{split}_imlist.txt"


def load_index(root, split, vocabulary_file=None, check_masks=False):
    """Validates a ReferIt folder and lists one split's examples.

    Checks, in this order, and raises on the first problem, naming the file:
    the root, `images/` and `mask/` folders; the vocabulary file; the imsize,
    bbox, image-list and query files of the split (each must parse, with
    the shape of values the module docstring gives); then for each query in
    file order: its key, its image in the image list, its imsize entry, its
    bbox entry, its image file and its mask file. Mask contents are read
    only with `check_masks=True` (reading the ~60,000 masks of the full
    release takes minutes); otherwise a bad mask raises when the dataset
    reaches it, with the same message. Image contents are read by the
    dataset only.

    Args:
        root: str or path-like, the folder of the layout above.
        split: one of `SPLITS`.
        vocabulary_file: str or path-like, or None for
            `root/vocabulary_referit.txt`.
        check_masks: bool, also read every mask of the split and check its
            `segimg_t` key and its size against `referit_imsize.json`.

    Returns:
        A `ReferItIndex`. Objects whose expression list is empty contribute
        no example.

    Raises:
        TypeError: an argument has the wrong type.
        FileNotFoundError: a folder or file is missing.
        ValueError: `split` is unknown, or a file is malformed, or an entry
            the split needs is missing; or the split has no expression.

    Example:
    >>> index = load_index("referit", "test")
    >>> tokenizer = ReferItTokenizer(index.vocabulary)
    >>> first = index.examples[0]
    >>> first.query_id, first.expression, (first.height, first.width)
    """
    root = _check_path("root", root)
    _check_split(split)
    _check_bool("check_masks", check_masks)
    for folder in ("", _IMAGE_DIR, _MASK_DIR):
        _require_dir(os.path.join(root, folder))
    if vocabulary_file is None:
        vocabulary_file = os.path.join(root, VOCABULARY_FILE)
    vocabulary = load_vocabulary(
        _check_path("vocabulary_file", vocabulary_file)
    )
    files = _Files(root, split)
    examples = []
    for key, expressions in files.queries.items():
        query_id, image_id = _parse_query_key(key, files.query_path)
        height, width, bbox = files.annotations(key, query_id, image_id)
        image_path = os.path.join(root, _IMAGE_DIR, f"{image_id}.jpg")
        mask_path = os.path.join(root, _MASK_DIR, f"{query_id}.mat")
        for path in (image_path, mask_path):
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"Query {key!r} of {files.query_path!r} needs {path!r}, "
                    "which does not exist."
                )
        if check_masks:
            _read_mask(mask_path, height, width)
        examples += [
            ReferItExample(
                query_id,
                image_id,
                expression,
                image_path,
                mask_path,
                height,
                width,
                bbox,
            )
            for expression in expressions
        ]
    if not examples:
        raise ValueError(f"{files.query_path!r} holds no expression.")
    return ReferItIndex(root, split, tuple(examples), vocabulary)


class _Files:
    """The JSON and list files of one split, parsed and shape-checked."""

    def __init__(self, root, split):
        self.imsize_path = os.path.join(root, IMSIZE_FILE)
        self.imsize = _read_json(self.imsize_path)
        self.bbox_path = os.path.join(root, BBOX_FILE)
        self.bbox = _read_json(self.bbox_path)
        self.imlist_path = os.path.join(root, imlist_file(split))
        self.imlist = _read_imlist(self.imlist_path)
        self.query_path = os.path.join(root, query_file(split))
        self.queries = _read_json(self.query_path)
        for key, expressions in self.queries.items():
            if not isinstance(expressions, list) or not all(
                isinstance(e, str) for e in expressions
            ):
                raise ValueError(
                    f"{self.query_path!r}: the value of {key!r} must be a "
                    f"list of expressions (str). Received: {expressions!r}"
                )

    def annotations(self, key, query_id, image_id):
        """Returns (height, width, bbox) of a query, or raises naming why."""
        if image_id not in self.imlist:
            raise ValueError(
                f"{self.imlist_path!r} does not list image {image_id!r} of "
                f"query {key!r}."
            )
        size = _entry(self.imsize, f"{image_id}.jpg", self.imsize_path)
        if not _is_int_list(size, 2) or min(size) < 1:
            raise ValueError(
                f"{self.imsize_path!r}: {image_id}.jpg must map to [width, "
                f"height], two positive ints. Received: {size!r}"
            )
        bbox = self.bbox.get(key, self.bbox.get(query_id))
        if bbox is None:
            raise ValueError(
                f"{self.bbox_path!r} has no entry for query {query_id!r}."
            )
        if not _is_number_list(bbox, 4):
            raise ValueError(
                f"{self.bbox_path!r}: {query_id} must map to [x1, y1, x2, "
                f"y2]. Received: {bbox!r}"
            )
        width, height = size
        return height, width, tuple(bbox)


def _entry(mapping, key, path):
    if key not in mapping:
        raise ValueError(f"{path!r} has no entry for {key!r}.")
    return mapping[key]


def _is_int_list(value, length):
    return (
        isinstance(value, list)
        and len(value) == length
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )


def _is_number_list(value, length):
    return (
        isinstance(value, list)
        and len(value) == length
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool)
            for v in value
        )
    )


def _parse_query_key(key, path):
    """Returns (query id without ".png", image id) of a query-file key."""
    query_id = key[: -len(".png")] if key.endswith(".png") else key
    image_id, _, object_id = query_id.partition("_")
    if not image_id or not object_id.isdigit():
        raise ValueError(
            f"{path!r}: query keys must look like '<imid>_<k>' (k an "
            f"integer). Received: {key!r}"
        )
    return query_id, image_id


def _check_path(name, path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"`{name}` must be a str or path-like. Received: "
            f"{type(path).__name__} {path!r}"
        )
    return os.fspath(path)


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(
            f"`split` must be one of {SPLITS}. Received: {split!r}"
        )


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be a bool. Received: {value!r}")


def _require_dir(path):
    if not os.path.isdir(path):
        raise FileNotFoundError(f"No folder at {path!r}.")


def _read_json(path):
    """Reads a JSON object (dict) or raises naming the file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No file at {path!r}.")
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path!r} is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise ValueError(
            f"{path!r} must hold a JSON object. Received a "
            f"{type(data).__name__}."
        )
    return data


def _read_imlist(path):
    """Reads an image list (one id a line) as a set of str."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No file at {path!r}.")
    try:
        with open(path, encoding="utf-8") as file:
            return {line.strip() for line in file if line.strip()}
    except UnicodeDecodeError as error:
        raise ValueError(f"{path!r} is not UTF-8 text: {error}") from error


def load_mask(path):
    """Reads a ReferIt mask file: True on the object (`segimg_t == 0`).

    Args:
        path: str or path-like, a MATLAB `.mat` file with a 2-D `segimg_t`.

    Returns:
        A bool numpy array `(height, width)`.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is not a MATLAB file, or has no 2-D
            `segimg_t`; the message names the file.
    """
    path = _check_path("path", path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No mask file at {path!r}.")
    try:
        contents = scipy.io.loadmat(path)
    except Exception as error:  # scipy raises several types on bad files.
        raise ValueError(
            f"{path!r} is not a readable MATLAB file: {error}"
        ) from error
    if MASK_KEY not in contents:
        keys = sorted(k for k in contents if not k.startswith("__"))
        raise ValueError(
            f"{path!r} has no {MASK_KEY!r} array. Its arrays: {keys}"
        )
    mask = np.asarray(contents[MASK_KEY])
    if mask.ndim != 2:
        raise ValueError(
            f"{path!r}: {MASK_KEY!r} must be 2-D (height, width). Received "
            f"shape {mask.shape}."
        )
    return mask == 0


def _read_mask(path, height, width):
    """Loads a mask and checks its size against the image's imsize entry."""
    mask = load_mask(path)
    if mask.shape != (height, width):
        raise ValueError(
            f"{path!r}: the mask is {mask.shape[0]} × {mask.shape[1]} "
            f"(height × width) but {IMSIZE_FILE} gives its image as "
            f"{height} × {width}."
        )
    return mask


def resize_geometry(height, width, image_size=DEFAULT_IMAGE_SIZE):
    """Returns the resize-and-pad parameters of one image (text_objseg's).

    Args:
        height, width: positive ints, the original size.
        image_size: positive int, S, the side of the padded square.

    Returns:
        A dict: `scale` (float, `min(S / height, S / width)`),
        `resized_height` and `resized_width` (ints, `round(size * scale)`,
        half to even), `pad_top` and `pad_left` (ints,
        `(S - resized) // 2`).

    Example:
    >>> resize_geometry(360, 480)
    {'scale': 1.0666666666666667, 'resized_height': 384,
     'resized_width': 512, 'pad_top': 64, 'pad_left': 0}
    """
    for name, value in (
        ("height", height),
        ("width", width),
        ("image_size", image_size),
    ):
        check_positive_int(value, name)
    scale = min(image_size / height, image_size / width)
    resized_height = int(np.round(height * scale))
    resized_width = int(np.round(width * scale))
    return {
        "scale": scale,
        "resized_height": resized_height,
        "resized_width": resized_width,
        "pad_top": (image_size - resized_height) // 2,
        "pad_left": (image_size - resized_width) // 2,
    }


# String columns of the pipeline; the others are numbers.
_STRINGS = ("query_id", "image_path", "mask_path", "text")
# Integer entries of `meta`: the original size, then `resize_geometry`'s.
_META_INTS = (
    "height",
    "width",
    "resized_height",
    "resized_width",
    "pad_top",
    "pad_left",
)


def as_dataset(
    root,
    split,
    batch_size,
    image_size=DEFAULT_IMAGE_SIZE,
    shuffle=False,
    seed=None,
    with_meta=False,
    drop_remainder=False,
    vocabulary_file=None,
    check_masks=False,
):
    """Batches a ReferIt split for training and evaluation.

    One element per (object, expression) pair, so an image appears once per
    expression of each of its objects. Images are decoded and resized in
    the graph; masks are read lazily with `scipy.io.loadmat` through
    `tf.numpy_function` (nothing is converted ahead of time; the mask files
    are small next to the images), so a mask file without `segimg_t` or of
    the wrong size fails when the pipeline reaches it, with an
    `InvalidArgumentError` naming the file (pass `check_masks=True` to find
    it before). An image whose decoded size differs from its imsize entry
    fails likewise.

    Args:
        root: str or path-like, a folder in the module docstring's layout.
        split: one of `SPLITS`.
        batch_size: positive int.
        image_size: positive int, S: images and masks are resized keeping
            their aspect ratio to fit S × S, centred and zero-padded (see the
            module docstring; the paper uses 512).
        shuffle: bool, reshuffle the examples every epoch.
        seed: None or int, the shuffle seed.
        with_meta: bool, add the `meta` dict below as a third element. Use it
            in evaluation loops, not in `fit`/`evaluate`: Keras would read a
            third element as sample weights.
        drop_remainder: bool, drop a last, smaller batch.
        vocabulary_file: passed to `load_index`.
        check_masks: passed to `load_index`.

    Returns:
        A `tf.data.Dataset` of `(x, y)`, or `(x, y, meta)` with
        `with_meta=True`, B the batch size:
        `x = {"image": uint8 (B, S, S, 3) RGB, "text": string (B,)}`, the raw
        expressions (tokenize them with `ReferItTokenizer`, in the model or
        the pipeline); `y`: int32 (B, S, S), 1 on the object, 0 elsewhere
        (padding included). `meta`: `"query_id"` and `"mask_path"`
        (string), `"height"`, `"width"` (the original size),
        `"resized_height"`, `"resized_width"`, `"pad_top"`, `"pad_left"`
        (int32) and `"scale"` (float32), each `(B,)`: what
        `unpad_and_resize` needs, and where `load_mask` finds the
        original-size mask to score against (as text_objseg evaluates).

    Raises:
        TypeError, ValueError: bad arguments; FileNotFoundError, ValueError:
        see `load_index`.

    Example:
    >>> train = as_dataset("referit", "trainval", batch_size=10, shuffle=True)
    >>> test = as_dataset("referit", "test", batch_size=1, with_meta=True)
    >>> for x, y, meta in test:
    ...     labels = tf.argmax(model(x)[0], axis=-1)  # (512, 512)
    ...     one = {key: value[0] for key, value in meta.items()}
    ...     prediction = unpad_and_resize(labels, one)  # (height, width)
    ...     truth = load_mask(one["mask_path"].numpy().decode())
    """
    check_positive_int(batch_size, "batch_size")
    check_positive_int(image_size, "image_size")
    for name, value in (
        ("shuffle", shuffle),
        ("with_meta", with_meta),
        ("drop_remainder", drop_remainder),
    ):
        _check_bool(name, value)
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int)
    ):
        raise TypeError(f"`seed` must be None or an int. Received: {seed!r}")
    index = load_index(root, split, vocabulary_file, check_masks)
    columns = _columns(index.examples, image_size)
    dataset = tf.data.Dataset.from_tensor_slices(columns)
    if shuffle:
        # Shuffling file names, not decoded examples, keeps the buffer tiny
        # and the shuffle exact over the whole split.
        dataset = dataset.shuffle(len(index.examples), seed=seed)
    dataset = dataset.map(
        lambda example: _load_example(example, image_size),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)

    def to_element(batch):
        x = {"image": batch.pop("image"), "text": batch.pop("text")}
        y = batch.pop("mask")
        batch.pop("image_path")
        return (x, y, batch) if with_meta else (x, y)

    return dataset.map(to_element).prefetch(tf.data.AUTOTUNE)


def _columns(examples, image_size):
    """The per-example tensors the pipeline starts from, as numpy arrays."""
    geometry = [
        resize_geometry(e.height, e.width, image_size) for e in examples
    ]
    columns = {
        "query_id": [e.query_id for e in examples],
        "image_path": [e.image_path for e in examples],
        "mask_path": [e.mask_path for e in examples],
        "text": [e.expression for e in examples],
        "height": [e.height for e in examples],
        "width": [e.width for e in examples],
    }
    for key in _META_INTS[2:]:
        columns[key] = [g[key] for g in geometry]
    columns = {
        key: np.array(values, dtype=object if key in _STRINGS else np.int32)
        for key, values in columns.items()
    }
    columns["scale"] = np.array([g["scale"] for g in geometry], np.float32)
    return columns


def _load_example(example, image_size):
    """Reads, resizes and pads one example's image and mask."""
    example = dict(example)
    size = tf.stack([example["height"], example["width"]])
    resized = tf.stack([example["resized_height"], example["resized_width"]])
    image = tf.io.decode_image(
        tf.io.read_file(example["image_path"]),
        channels=3,
        expand_animations=False,
    )
    check = tf.debugging.Assert(
        tf.reduce_all(tf.equal(tf.shape(image)[:2], size)),
        [
            f"An image's size differs from its {IMSIZE_FILE} entry:",
            example["image_path"],
            tf.shape(image)[:2],
            size,
        ],
    )
    with tf.control_dependencies([check]):
        image = tf.image.resize(image, resized, antialias=True)
    image = tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)
    mask = tf.numpy_function(
        _pipeline_mask,
        [example["mask_path"], example["height"], example["width"]],
        tf.uint8,
        stateful=False,
    )
    mask = tf.image.resize(
        tf.ensure_shape(mask, [None, None])[..., None],
        resized,
        method="nearest",
    )

    def pad(tensor):
        return tf.image.pad_to_bounding_box(
            tensor,
            example["pad_top"],
            example["pad_left"],
            image_size,
            image_size,
        )

    example["image"] = tf.ensure_shape(pad(image), [image_size, image_size, 3])
    example["mask"] = tf.ensure_shape(
        tf.cast(pad(mask)[..., 0], tf.int32), [image_size, image_size]
    )
    return example


def _pipeline_mask(path, height, width):
    return _read_mask(path.decode("utf-8"), int(height), int(width)).astype(
        np.uint8
    )


def unpad_and_resize(prediction, meta, method="nearest"):
    """Maps one prediction on the padded square back to the original size.

    Inverts `as_dataset`'s geometry: crops the resized image's area out of
    the S × S prediction and resizes it to the original height × width.
    With `method="nearest"` (for labels and masks) a mask that went through
    `as_dataset` comes back exactly whenever the image was enlarged (S at
    least its longer side, as for ReferIt's ≤ 480-pixel photos at 512);
    `"bilinear"` suits scores and probabilities.

    Args:
        prediction: tensor or array `(S, S)` or `(S, S, C)` of one example,
            numeric (bool is not resizable: cast it first).
        meta: dict with scalar `"height"`, `"width"`, `"resized_height"`,
            `"resized_width"`, `"pad_top"` and `"pad_left"`: one example of
            `as_dataset(..., with_meta=True)`'s `meta`, e.g.
            `{key: value[i] for key, value in meta.items()}`, or a
            `resize_geometry` dict with `height` and `width` added.
        method: a `tf.image.resize` method name.

    Returns:
        A tensor `(height, width)` or `(height, width, C)`: the dtype of
        `prediction` with `"nearest"`, float32 otherwise.

    Raises:
        ValueError: `prediction` is not rank 2 or 3, or `meta` lacks a key.
    """
    prediction = tf.convert_to_tensor(prediction)
    if prediction.shape.rank not in (2, 3):
        raise ValueError(
            "`prediction` must have rank 2 (S, S) or 3 (S, S, C), one "
            f"example. Received shape: {tuple(prediction.shape)}"
        )
    missing = [key for key in _META_INTS if key not in meta]
    if missing:
        raise ValueError(f"`meta` lacks {missing}.")
    top, left, height, width = (
        tf.cast(meta[key], tf.int32)
        for key in ("pad_top", "pad_left", "resized_height", "resized_width")
    )
    crop = prediction[top : top + height, left : left + width]
    if prediction.shape.rank == 2:
        crop = crop[..., None]
    original = tf.stack(
        [tf.cast(meta["height"], tf.int32), tf.cast(meta["width"], tf.int32)]
    )
    resized = tf.image.resize(crop, original, method=method)
    return resized[..., 0] if prediction.shape.rank == 2 else resized


# Words of the expressions `write_referit_format` writes, besides the shape
# and colour names.
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
    out_dir = _check_path("out_dir", out_dir)
    check_positive_int(num_images, "num_images")
    check_positive_int(scene_size, "scene_size")
    if scene_size < cosal.MIN_IMAGE_SIZE or scene_size % cosal.GRID_SIZE:
        raise ValueError(
            f"`scene_size` must be >= {cosal.MIN_IMAGE_SIZE} and divisible "
            f"by {cosal.GRID_SIZE}. Received: {scene_size}"
        )
    height, width = _written_size(image_size, scene_size)
    _check_fractions(val_fraction, test_fraction)
    check_positive_int(jpeg_quality, "jpeg_quality")
    if jpeg_quality > 100:
        raise ValueError(
            f"`jpeg_quality` must be in 1..100. Received: {jpeg_quality}"
        )
    scenes = cosal.generate(
        num_images, num_colors=num_colors, image_size=scene_size, seed=seed
    )
    rng = np.random.default_rng(seed)
    image_ids = [str(i + 1) for i in range(num_images)]
    splits = _draw_splits(rng, image_ids, val_fraction, test_fraction)
    for folder in (_IMAGE_DIR, _MASK_DIR):
        os.makedirs(os.path.join(out_dir, folder), exist_ok=True)
    rows = (np.arange(height) * scene_size) // height
    cols = (np.arange(width) * scene_size) // width
    annotations = {"imsize": {}, "bbox": {}, "imcrop": {}, "queries": {}}
    for i, image_id in enumerate(image_ids):
        image = scenes["target"][i][rows[:, None], cols]
        Image.fromarray(image).save(
            os.path.join(out_dir, _IMAGE_DIR, f"{image_id}.jpg"),
            quality=jpeg_quality,
            subsampling=0,
        )
        shape_map = scenes["shape_map"][i][rows[:, None], cols]
        _write_objects(
            out_dir,
            image_id,
            shape_map,
            scenes["tile_shapes"][i],
            scenes["tile_colors"][i],
            rng,
            annotations,
        )
        annotations["imsize"][f"{image_id}.jpg"] = [width, height]
    _write_annotations(out_dir, splits, annotations)
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


def _check_fractions(val_fraction, test_fraction):
    for name, value in (
        ("val_fraction", val_fraction),
        ("test_fraction", test_fraction),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"`{name}` must be a float. Received: {value!r}")
        if value < 0:
            raise ValueError(f"`{name}` must be >= 0. Received: {value}")
    if val_fraction + test_fraction > 1:
        raise ValueError(
            "`val_fraction` + `test_fraction` must be <= 1. Received: "
            f"{val_fraction} + {test_fraction}"
        )


def _draw_splits(rng, image_ids, val_fraction, test_fraction):
    """Returns split name → sorted image ids."""
    order = [image_ids[k] for k in rng.permutation(len(image_ids))]
    num_test = int(round(len(order) * test_fraction))
    num_val = int(round(len(order) * val_fraction))
    drawn = {
        "test": order[:num_test],
        "val": order[num_test : num_test + num_val],
        "train": order[num_test + num_val :],
    }
    drawn["trainval"] = drawn["train"] + drawn["val"]
    return {split: sorted(ids, key=int) for split, ids in drawn.items()}


def _write_objects(
    out_dir, image_id, shape_map, tile_shapes, tile_colors, rng, annotations
):
    """Writes the masks of one scene and records its boxes and expressions."""
    names = [cosal.SHAPE_NAMES[s - 1] for s in tile_shapes.tolist()]
    colours = [cosal.COLOR_NAMES[c - 1] for c in tile_colors.tolist()]
    query_ids = []
    for tile, shape_id in enumerate(tile_shapes.tolist()):
        query_id = f"{image_id}_{tile + 1}"
        on_object = shape_map == shape_id
        scipy.io.savemat(
            os.path.join(out_dir, _MASK_DIR, f"{query_id}.mat"),
            {MASK_KEY: np.where(on_object, 0, 1).astype(np.uint8)},
            do_compression=True,
        )
        ys, xs = np.nonzero(on_object)
        annotations["bbox"][query_id] = [
            int(xs.min()),
            int(ys.min()),
            int(xs.max()),
            int(ys.max()),
        ]
        annotations["queries"][query_id] = [
            f"the {colours[tile]} {names[tile]}",
            f"the {names[tile]}",
            _relational_expression(rng, tile, names),
        ]
        query_ids.append(query_id)
    annotations["imcrop"][f"{image_id}.jpg"] = query_ids


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


def _write_annotations(out_dir, splits, annotations):
    def dump(name, data):
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as file:
            json.dump(data, file, indent=0)

    dump(IMSIZE_FILE, annotations["imsize"])
    dump(BBOX_FILE, annotations["bbox"])
    dump("referit_imcrop.json", annotations["imcrop"])
    for split, image_ids in splits.items():
        dump(
            query_file(split),
            {
                query_id: annotations["queries"][query_id]
                for image_id in image_ids
                for query_id in annotations["imcrop"][f"{image_id}.jpg"]
            },
        )
        with open(
            os.path.join(out_dir, imlist_file(split)), "w", encoding="utf-8"
        ) as file:
            file.writelines(f"{image_id}\n" for image_id in image_ids)
    words = set(_TEMPLATE_WORDS)
    for name in cosal.SHAPE_NAMES + cosal.COLOR_NAMES:
        words.update(name.split())
    with open(
        os.path.join(out_dir, VOCABULARY_FILE), "w", encoding="utf-8"
    ) as file:
        file.writelines(
            f"{word}\n" for word in SPECIAL_TOKENS + tuple(sorted(words))
        )
