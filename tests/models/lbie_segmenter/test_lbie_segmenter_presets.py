"""The `cosal` preset's shipped weights against its committed results."""

import json
import os

import numpy as np
import pytest

from keras_lbie.datasets import cosal
from keras_lbie.metrics import CoSaLRegionIoU
from keras_lbie.models import LBIESegmenter
from tests.test_case import RESULTS_DIR
from tests.test_case import load_offline

RESULTS = os.path.join(RESULTS_DIR, "cosal_preset.json")
# Not the run's seeds (training 0, test 1): examples the model never saw.
FRESH_SEED = 2026


@pytest.fixture(scope="module")
def segmenter():
    return load_offline(lambda: LBIESegmenter.from_preset("cosal"))


@pytest.mark.parametrize("num_direct", [4, 6, 8])
def test_region_iou_on_fresh_data_matches_the_results_table(
    segmenter, num_direct
):
    with open(RESULTS) as f:
        reported = json.load(f)["metrics_by_num_direct"][str(num_direct)]
    data = cosal.generate(500, num_direct=num_direct, seed=FRESH_SEED)
    logits = segmenter.predict(
        {"image": data["image"].astype("float32"), "text": data["text"]},
        batch_size=100,
        verbose=0,
    )
    metric = CoSaLRegionIoU()
    metric.update_state(
        np.stack([data["label"], data["shape_map"]], axis=-1), logits
    )
    iou = float(metric.result()["cosal_region_iou"])
    assert iou == pytest.approx(reported["cosal_region_iou"], abs=0.02)
