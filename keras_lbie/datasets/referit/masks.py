"""ReferIt's object masks: one MATLAB file per object, 0 on the object."""

import os

import numpy as np
import scipy.io

from keras_lbie.datasets.referit.layout import IMSIZE_FILE
from keras_lbie.utils.validation import check_path

MASK_KEY = "segimg_t"


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
    path = check_path(path, "path")
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


def read_mask(path, height, width):
    """Loads a mask and checks its size against the image's imsize entry."""
    mask = load_mask(path)
    if mask.shape != (height, width):
        raise ValueError(
            f"{path!r}: the mask is {mask.shape[0]} × {mask.shape[1]} "
            f"(height × width) but {IMSIZE_FILE} gives its image as "
            f"{height} × {width}."
        )
    return mask
