"""The validated index of one ReferIt split: its (object, expression) pairs."""

import collections
import os

from keras_lbie.datasets.referit.layout import BBOX_FILE
from keras_lbie.datasets.referit.layout import IMAGE_DIR
from keras_lbie.datasets.referit.layout import IMSIZE_FILE
from keras_lbie.datasets.referit.layout import MASK_DIR
from keras_lbie.datasets.referit.layout import VOCABULARY_FILE
from keras_lbie.datasets.referit.layout import check_split
from keras_lbie.datasets.referit.layout import imlist_file
from keras_lbie.datasets.referit.layout import query_file
from keras_lbie.datasets.referit.layout import read_imlist
from keras_lbie.datasets.referit.layout import read_json
from keras_lbie.datasets.referit.layout import require_dir
from keras_lbie.datasets.referit.masks import read_mask
from keras_lbie.tokenizers.referit_tokenizer import load_vocabulary
from keras_lbie.utils.validation import check_bool
from keras_lbie.utils.validation import check_path

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
    root = check_path(root, "root")
    check_split(split)
    check_bool(check_masks, "check_masks")
    for folder in ("", IMAGE_DIR, MASK_DIR):
        require_dir(os.path.join(root, folder))
    if vocabulary_file is None:
        vocabulary_file = os.path.join(root, VOCABULARY_FILE)
    vocabulary = load_vocabulary(check_path(vocabulary_file, "vocabulary_file"))
    files = _Files(root, split)
    examples = []
    for key, expressions in files.queries.items():
        query_id, image_id = _parse_query_key(key, files.query_path)
        height, width, bbox = files.annotations(key, query_id, image_id)
        image_path = os.path.join(root, IMAGE_DIR, f"{image_id}.jpg")
        mask_path = os.path.join(root, MASK_DIR, f"{query_id}.mat")
        for path in (image_path, mask_path):
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"Query {key!r} of {files.query_path!r} needs {path!r}, "
                    "which does not exist."
                )
        if check_masks:
            read_mask(mask_path, height, width)
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
        self.imsize = read_json(self.imsize_path)
        self.bbox_path = os.path.join(root, BBOX_FILE)
        self.bbox = read_json(self.bbox_path)
        self.imlist_path = os.path.join(root, imlist_file(split))
        self.imlist = read_imlist(self.imlist_path)
        self.query_path = os.path.join(root, query_file(split))
        self.queries = read_json(self.query_path)
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
