"""The `cosal_colorizer` preset's shipped weights against its results."""

import json
import os

import pytest

from keras_lbie.datasets import cosal_colorization
from keras_lbie.models import LBIEColorizer
from tests.test_case import RESULTS_DIR
from tests.test_case import load_offline

RESULTS = os.path.join(RESULTS_DIR, "cosal_colorization.json")
# Not the run's seeds (training 0, validation 1, test 2).
FRESH_SEED = 2026


@pytest.fixture(scope="module")
def colorizer():
    return load_offline(lambda: LBIEColorizer.from_preset("cosal_colorizer"))


@pytest.fixture(scope="module")
def reported():
    with open(RESULTS) as f:
        return json.load(f)


def test_scores_on_fresh_data_match_the_results_table(colorizer, reported):
    expected = reported["rows"]["LBIE colorizer (ours)"]
    data = cosal_colorization.generate(
        500, num_direct=reported["arguments"]["num_direct"], seed=FRESH_SEED
    )
    ab = colorizer.predict_ab(data["image_l"], list(data["text"]))
    scores = cosal_colorization.colorization_scores(ab, data)
    assert scores["caption_accuracy"] == pytest.approx(
        expected["caption_accuracy"], abs=0.02
    )
    assert scores["ab_l1"] == pytest.approx(expected["ab_l1"], rel=0.1)


def test_blank_captions_fall_to_chance(colorizer):
    # The weights read the caption: without it, colours are guesses.
    data = cosal_colorization.generate(200, seed=FRESH_SEED)
    ab = colorizer.predict_ab(data["image_l"], [""] * 200)
    accuracy = cosal_colorization.caption_accuracy(ab, data)
    assert accuracy < 0.5
