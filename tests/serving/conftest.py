"""An exported segmenter and colorizer shared by the serving tests.

Exporting takes most of the serving tests' time, so one untrained
`cosal_paper` SavedModel, and one untrained `cosal_colorizer`, serve every
module: the tests check that requests fit their signatures, not what they
predict.
"""

import pytest
import tensorflow as tf

from keras_lbie.datasets import cosal
from keras_lbie.export import export_saved_model
from keras_lbie.models import LBIEColorizer
from keras_lbie.models import LBIESegmenter


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """The exported model, loaded as TF Serving would load it."""
    segmenter = LBIESegmenter.from_preset("cosal_paper", load_weights=False)
    path = export_saved_model(
        segmenter, tmp_path_factory.mktemp("models"), name="cosal"
    )
    return tf.saved_model.load(path)


@pytest.fixture(scope="session")
def served_colorizer(tmp_path_factory):
    """The exported colorizer, loaded as TF Serving would load it."""
    colorizer = LBIEColorizer.from_preset(
        "cosal_colorizer", load_weights=False, seed=0
    )
    path = export_saved_model(
        colorizer, tmp_path_factory.mktemp("models"), name="colorizer"
    )
    return tf.saved_model.load(path)


@pytest.fixture(scope="session")
def examples():
    """Two CoSaL images (smaller than the model's, to be resized) and texts."""
    data = cosal.generate(2, image_size=36, num_direct=4, seed=0)
    return {"image": data["image"], "text": list(data["text"])}
