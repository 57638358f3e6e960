"""Writing a ReferIt-format folder: the pieces its generators share.

The synthetic writers (`write_referit_format`, `write_referring_scenes`)
draw images and objects their own way, then save them here in the layout
`load_index` reads: JPEG images, `segimg_t` masks with their boxes, the
split files, `referit_imsize.json`, `referit_bbox.json`,
`referit_imcrop.json` and the vocabulary.
"""

import json
import os

import numpy as np
import scipy.io
from PIL import Image

from keras_lbie.datasets.referit.layout import BBOX_FILE
from keras_lbie.datasets.referit.layout import IMAGE_DIR
from keras_lbie.datasets.referit.layout import IMSIZE_FILE
from keras_lbie.datasets.referit.layout import MASK_DIR
from keras_lbie.datasets.referit.layout import VOCABULARY_FILE
from keras_lbie.datasets.referit.layout import imlist_file
from keras_lbie.datasets.referit.layout import query_file
from keras_lbie.datasets.referit.masks import MASK_KEY
from keras_lbie.tokenizers.referit_tokenizer import SPECIAL_TOKENS
from keras_lbie.utils.validation import check_positive_int

IMCROP_FILE = "referit_imcrop.json"


class Annotations:
    """What a writer records while it saves images, for `write_annotations`.

    `imsize` ("<imid>.jpg" → [width, height]), `bbox` (query id → [x1, y1,
    x2, y2]), `imcrop` ("<imid>.jpg" → query ids with an expression) and
    `queries` (query id → expressions).
    """

    def __init__(self, out_dir, jpeg_quality):
        self.out_dir = out_dir
        self.jpeg_quality = jpeg_quality
        self.imsize, self.bbox, self.imcrop, self.queries = {}, {}, {}, {}
        for folder in (IMAGE_DIR, MASK_DIR):
            os.makedirs(os.path.join(out_dir, folder), exist_ok=True)

    def add_image(self, image_id, image):
        """Saves `image` (uint8 RGB) as `images/<imid>.jpg`."""
        # Chroma is not subsampled: JPEG still blurs colours at edges.
        Image.fromarray(image).save(
            os.path.join(self.out_dir, IMAGE_DIR, f"{image_id}.jpg"),
            quality=self.jpeg_quality,
            subsampling=0,
        )
        self.imsize[f"{image_id}.jpg"] = [image.shape[1], image.shape[0]]
        self.imcrop[f"{image_id}.jpg"] = []

    def add_object(self, image_id, query_id, on_object, expressions):
        """Saves one object's mask (bool, True on it) and its expressions.

        An object without expressions gets its mask and box but no query.
        """
        scipy.io.savemat(
            os.path.join(self.out_dir, MASK_DIR, f"{query_id}.mat"),
            {MASK_KEY: np.where(on_object, 0, 1).astype(np.uint8)},
            do_compression=True,
        )
        ys, xs = np.nonzero(on_object)
        self.bbox[query_id] = [
            int(xs.min()),
            int(ys.min()),
            int(xs.max()),
            int(ys.max()),
        ]
        if expressions:
            self.queries[query_id] = list(expressions)
            self.imcrop[f"{image_id}.jpg"].append(query_id)


def check_jpeg_quality(jpeg_quality):
    check_positive_int(jpeg_quality, "jpeg_quality")
    if jpeg_quality > 100:
        raise ValueError(
            f"`jpeg_quality` must be in 1..100. Received: {jpeg_quality}"
        )


def check_fractions(val_fraction, test_fraction):
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


def draw_splits(rng, image_ids, val_fraction, test_fraction):
    """Returns split name → sorted image ids (trainval = train + val)."""
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


def write_annotations(out_dir, splits, annotations, words):
    """Writes the JSON files, the split files and the vocabulary.

    Args:
        out_dir: str, the folder.
        splits: split name → image ids (`draw_splits`).
        annotations: an `Annotations`.
        words: every word the expressions can use; the vocabulary is
            `SPECIAL_TOKENS` then these, sorted, so that it does not depend
            on the images drawn.
    """
    dump_json(out_dir, IMSIZE_FILE, annotations.imsize)
    dump_json(out_dir, BBOX_FILE, annotations.bbox)
    dump_json(out_dir, IMCROP_FILE, annotations.imcrop)
    for split, image_ids in splits.items():
        dump_json(
            out_dir,
            query_file(split),
            {
                query_id: annotations.queries[query_id]
                for image_id in image_ids
                for query_id in annotations.imcrop[f"{image_id}.jpg"]
            },
        )
        with open(
            os.path.join(out_dir, imlist_file(split)), "w", encoding="utf-8"
        ) as file:
            file.writelines(f"{image_id}\n" for image_id in image_ids)
    with open(
        os.path.join(out_dir, VOCABULARY_FILE), "w", encoding="utf-8"
    ) as file:
        file.writelines(
            f"{word}\n" for word in SPECIAL_TOKENS + tuple(sorted(set(words)))
        )


def dump_json(out_dir, name, data):
    with open(os.path.join(out_dir, name), "w", encoding="utf-8") as file:
        json.dump(data, file, indent=0)
