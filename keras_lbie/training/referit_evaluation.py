"""Scoring ReferIt segmenters as the paper does (Chen et al., CVPR 2018, 4.2).

Every query (one object and one referring expression of a split) is scored
at its image's original resolution: the model's prediction on the resized,
padded square is mapped back with `referit.unpad_and_resize` and compared
with the original mask file (`referit.load_mask`), as text_objseg (Hu et
al., ECCV 2016) evaluates. The metrics are `ReferItOverallIoU` (the paper's
IoU column) and `ReferItPrecisionAt` (precision@0.5 ... 0.9, and the mean
IoU).
"""

import os

import numpy as np
import tensorflow as tf

from keras_lbie.datasets import referit
from keras_lbie.datasets.referit.geometry import META_INTS
from keras_lbie.datasets.referit.layout import read_json
from keras_lbie.metrics import ReferItOverallIoU
from keras_lbie.metrics import ReferItPrecisionAt
from keras_lbie.metrics.referit_precision_at import PAPER_THRESHOLDS
from keras_lbie.utils.validation import check_positive_int

# The keys of the dicts below, in the paper's column order.
METRIC_KEYS = (
    *(f"precision@{t:g}" for t in PAPER_THRESHOLDS),
    "overall_iou",
)
# The paper's Table 3 (fractions, not percentages): Hu et al., ECCV 2016
# ("[9]" in the paper) and the paper's model.
PAPER_TABLE3 = {
    label: dict(zip(METRIC_KEYS, row, strict=True))
    for label, row in (
        (
            "Hu et al. [9] (paper's Table 3)",
            (0.3402, 0.2671, 0.1932, 0.1163, 0.0392, 0.4803),
        ),
        (
            "LBIE, Chen et al. (paper's Table 3)",
            (0.3253, 0.279, 0.1876, 0.1237, 0.0437, 0.5009),
        ),
    )
}


def evaluate_referit(
    segmenter,
    root,
    split="test",
    batch_size=8,
    max_queries=None,
    vocabulary_file=None,
    blank_text=False,
):
    """The paper's ReferIt metrics of a segmenter on one split.

    Runs `segmenter.backbone` on `referit.as_dataset(root, split,
    image_size=segmenter.image_size, with_meta=True)` (text tokenised by
    `segmenter.tokenizer` in the pipeline), maps each query's object score
    (the object logit minus the background's) back to the original image
    size with bilinear interpolation (`referit.unpad_and_resize`), predicts
    the object where it is positive (the model's decision rule), and scores
    that mask against the original mask file.

    Args:
        segmenter: a `ReferItSegmenter` (or any model with `backbone`,
            `tokenizer`, `image_size` and `tokenize_dataset`, whose backbone
            returns `"logits"` (batch, S, S, 2)).
        root: str or path-like, a ReferIt-format folder.
        split: one of `referit.SPLITS`.
        batch_size: positive int, queries per forward pass.
        max_queries: None for the whole split, or a positive int: score
            only the first `max_queries` queries in file order.
        vocabulary_file: passed to `referit.as_dataset` (it only checks
            that the file is valid; the segmenter's tokenizer holds the
            vocabulary the model uses).
        blank_text: bool, feed every query with an empty expression (for
            a model trained so: the text-blanked baseline).

    Returns:
        A dict (see `metric_values`): `"precision@0.5"` ... `"@0.9"`,
        `"overall_iou"`, `"mean_iou"` and `"num_queries"`.

    Example:
    >>> segmenter = ReferItSegmenter.from_preset(
    ...     "referit_small", vocabulary="referit/vocabulary_referit.txt")
    >>> evaluate_referit(segmenter, "referit", "test")["overall_iou"]
    """
    check_positive_int(batch_size, "batch_size")
    _check_max_queries(max_queries)
    dataset = referit.as_dataset(
        root,
        split,
        batch_size,
        image_size=segmenter.image_size,
        with_meta=True,
        vocabulary_file=vocabulary_file,
        blank_text=blank_text,
    )
    backbone = segmenter.backbone
    metrics = _new_metrics()

    @tf.function
    def predict(x):
        return backbone(x, training=False)["logits"]

    # Traced once for all query sizes: `reduce_retracing` relaxes the
    # shapes after the second size.
    @tf.function(reduce_retracing=True)
    def score_query(score, geometry, truth):
        score = referit.unpad_and_resize(score, geometry, method="bilinear")
        _update(metrics, truth, score > 0)

    scored = 0
    for x, _, meta in segmenter.tokenize_dataset(dataset):
        logits = predict(x)
        scores = logits[..., 1] - logits[..., 0]
        for i in range(scores.shape[0]):
            geometry = {key: meta[key][i] for key in META_INTS}
            path = meta["mask_path"][i].numpy().decode()
            score_query(scores[i], geometry, referit.load_mask(path))
            scored += 1
            if scored == max_queries:
                return metric_values(*metrics)
    return metric_values(*metrics)


def evaluate_referit_predictions(root, split, predict, max_queries=None):
    """The paper's ReferIt metrics of any per-query prediction rule.

    For baselines and external models: `predict(example)` receives each
    `referit.ReferItExample` of the split (`load_index` order) and returns
    its predicted object mask at the original size, `(example.height,
    example.width)`, nonzero on the object. Scored as `evaluate_referit`
    scores a model, with the same metrics.

    Args:
        root: str or path-like, a ReferIt-format folder.
        split: one of `referit.SPLITS`.
        predict: callable `ReferItExample -> array (height, width)`.
        max_queries: None, or score only the first `max_queries` queries.

    Returns:
        The dict of `evaluate_referit`.

    Example:
    >>> evaluate_referit_predictions("referit", "test",
    ...                              whole_image_prediction)
    """
    if not callable(predict):
        raise TypeError(
            f"`predict` must be callable. Received: {type(predict).__name__}"
        )
    _check_max_queries(max_queries)
    examples = referit.load_index(root, split).examples
    metrics = _new_metrics()

    @tf.function(reduce_retracing=True)
    def update(truth, prediction):
        _update(metrics, truth, prediction)

    for example in examples[:max_queries]:
        prediction = np.asarray(predict(example))
        expected = (example.height, example.width)
        if prediction.shape != expected:
            raise ValueError(
                f"`predict` must return a mask of the original size "
                f"{expected} for query {example.query_id!r}. Received shape: "
                f"{prediction.shape}"
            )
        update(referit.load_mask(example.mask_path), prediction != 0)
    return metric_values(*metrics)


def whole_image_prediction(example):
    """The trivial baseline: every pixel of the image is the object.

    Its IoU on a query is the object's share of the image, so its overall
    IoU is the objects' total area over the images' total area.

    Args:
        example: a `referit.ReferItExample`.

    Returns:
        A bool array `(example.height, example.width)`, all True.
    """
    return np.ones((example.height, example.width), dtype=bool)


def category_oracle_prediction(root):
    """The category-only oracle of a folder with `referit.OBJECTS_FILE`.

    Predicts the union of the masks of every object of the referent's
    category in its image, the categories taken from the ground truth
    (`write_referring_scenes` writes them): the best a model can do that
    reads only the category word of an expression. Where the category is
    unique in the image it is the object; where it repeats, its IoU is the
    object's share of its category's pixels.

    Args:
        root: str or path-like, a ReferIt-format folder holding
            `referit.OBJECTS_FILE`.

    Returns:
        `predict(example)` for `evaluate_referit_predictions`.

    Raises:
        FileNotFoundError: the folder has no objects file.
        ValueError (from `predict`): the objects file does not list the
            query's object; the message names the file.
    """
    path = os.path.join(os.fspath(root), referit.OBJECTS_FILE)
    images = read_json(path)
    category = {
        item["query_id"]: item["category"]
        for objects in images.values()
        for item in objects
    }

    def predict(example):
        if example.query_id not in category:
            raise ValueError(
                f"{path!r} does not list object {example.query_id!r}."
            )
        folder = os.path.dirname(example.mask_path)
        union = np.zeros((example.height, example.width), dtype=bool)
        for item in images[example.image_id]:
            if item["category"] == category[example.query_id]:
                union |= referit.load_mask(
                    os.path.join(folder, f"{item['query_id']}.mat")
                )
        return union

    return predict


def metric_values(overall_iou, precision):
    """`{name: float}` of a `ReferItOverallIoU` and a `ReferItPrecisionAt`.

    Keys: `"precision@<t>"` per threshold, `"overall_iou"` (the paper's
    IoU), `"mean_iou"` (the mean per-query IoU) and `"num_queries"` (the
    number of queries scored, an int when unweighted).
    """
    values = {
        key.replace(f"{precision.name}@", "precision@"): float(value)
        for key, value in precision.result().items()
        if "@" in key
    }
    values["overall_iou"] = float(overall_iou.result())
    values["mean_iou"] = float(precision.result()[f"{precision.name}_mean_iou"])
    values["num_queries"] = int(round(float(precision.queries.numpy())))
    return values


def format_table3(rows):
    """A markdown table in the layout of the paper's Table 3.

    Args:
        rows: dict `{model label: values}`, `values` a dict with the
            `METRIC_KEYS` as fractions (e.g. `PAPER_TABLE3`, or what
            `evaluate_referit` returns), or None for a row not yet run.

    Returns:
        The table as a str (percentages with two decimals, as the paper).
    """
    header = (
        "| Model | "
        + " | ".join(f"Precision@{t:g}" for t in PAPER_THRESHOLDS)
        + " | IoU |"
    )
    lines = [header, "| --- " * (len(METRIC_KEYS) + 1) + "|"]
    for label, values in rows.items():
        if values is None:
            cells = ["not run"] * len(METRIC_KEYS)
        else:
            cells = [f"{100 * values[key]:.2f}%" for key in METRIC_KEYS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _new_metrics():
    return ReferItOverallIoU(), ReferItPrecisionAt(PAPER_THRESHOLDS)


def _update(metrics, truth, prediction):
    """Scores one query: both masks `(height, width)` at the original size."""
    for metric in metrics:
        metric.update_state(truth[None], prediction[None])


def _check_max_queries(max_queries):
    if max_queries is not None:
        check_positive_int(max_queries, "max_queries")
