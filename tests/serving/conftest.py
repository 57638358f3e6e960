"""An exported segmenter and colorizer shared by the serving tests.

Exporting takes most of the serving tests' time, so one untrained
`cosal_paper` SavedModel and one untrained `cosal_colorizer`, exported
once for these and the export tests (`tests/conftest.py`), serve every
module: the tests check that requests fit their signatures, not what they
predict.
"""

import pytest
import tensorflow as tf

from keras_lbie.datasets import cosal


@pytest.fixture(scope="session")
def served(exported_segmenter):
    """The exported segmenter, loaded as TF Serving would load it."""
    return tf.saved_model.load(exported_segmenter[2])


@pytest.fixture(scope="session")
def served_colorizer(exported_colorizer):
    """The exported colorizer, loaded as TF Serving would load it."""
    return tf.saved_model.load(exported_colorizer[2])


@pytest.fixture(scope="session")
def examples():
    """Two CoSaL images (smaller than the model's, to be resized) and texts."""
    data = cosal.generate(2, image_size=36, num_direct=4, seed=0)
    return {"image": data["image"], "text": list(data["text"])}
