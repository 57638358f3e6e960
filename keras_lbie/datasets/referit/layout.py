"""The ReferIt release's file layout (text_objseg's): names and readers.

All under one root folder (see `keras_lbie.datasets.referit`): `images/`,
`mask/`, the split files `referit_query_<split>.json` and
`referit_<split>_imlist.txt`, `referit_imsize.json`, `referit_bbox.json`
and `vocabulary_referit.txt`.
"""

import json
import os

SPLITS = ("train", "val", "trainval", "test")
VOCABULARY_FILE = "vocabulary_referit.txt"
IMSIZE_FILE = "referit_imsize.json"
BBOX_FILE = "referit_bbox.json"
IMAGE_DIR = "images"
MASK_DIR = "mask"


def query_file(split):
    """Returns the file name of a split's expressions, e.g. for "test"."""
    check_split(split)
    return f"referit_query_{split}.json"


def imlist_file(split):
    """Returns the file name of a split's image list."""
    check_split(split)
    return f"referit_{split}_imlist.txt"


def check_split(split):
    if split not in SPLITS:
        raise ValueError(
            f"`split` must be one of {SPLITS}. Received: {split!r}"
        )


def require_dir(path):
    if not os.path.isdir(path):
        raise FileNotFoundError(f"No folder at {path!r}.")


def read_json(path):
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


def read_imlist(path):
    """Reads an image list (one id a line) as a set of str."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No file at {path!r}.")
    try:
        with open(path, encoding="utf-8") as file:
            return {line.strip() for line in file if line.strip()}
    except UnicodeDecodeError as error:
        raise ValueError(f"{path!r} is not UTF-8 text: {error}") from error
