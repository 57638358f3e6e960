"""Test-session set-up shared by every test module."""

import os

# Keras reads the backend once, at import: set it before anything imports it.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

NUM_LOGICAL_CPUS = 2


def _split_cpu_into_logical_devices():
    # MirroredStrategy tests need two replicas; the CI machine has no GPU, so
    # the single physical CPU is presented as two logical devices. This must
    # happen before TensorFlow initialises its runtime.
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu,
        [tf.config.LogicalDeviceConfiguration()] * NUM_LOGICAL_CPUS,
    )


_split_cpu_into_logical_devices()


def pytest_addoption(parser):
    parser.addoption(
        "--run_large",
        action="store_true",
        default=False,
        help="Also run tests marked `large` (slow trainings, full splits).",
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run_large"):
        return
    skip_large = pytest.mark.skip(reason="large test: pass --run_large")
    for item in items:
        if "large" in item.keywords:
            item.add_marker(skip_large)


@pytest.fixture(autouse=True)
def _reset_dtype_policy():
    # A test that fails under a mixed policy must not leak it; TestCase also
    # clears the Keras session (without a full garbage collection).
    import keras

    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture(scope="session")
def exported_segmenter(tmp_path_factory):
    """`(segmenter, export_dir, path)`: an untrained `cosal_paper` exported
    once for the export and serving tests (exporting takes seconds)."""
    from keras_lbie.export import export_saved_model
    from keras_lbie.models import LBIESegmenter

    segmenter = LBIESegmenter.from_preset("cosal_paper", seed=0)
    export_dir = str(tmp_path_factory.mktemp("models"))
    path = export_saved_model(segmenter, export_dir, name="cosal", version=3)
    return segmenter, export_dir, path


@pytest.fixture(scope="session")
def exported_colorizer(tmp_path_factory):
    """`(colorizer, export_dir, path)`: a colorizer with visible colours
    (`vivid_cosal_colorizer`) exported once for the export and serving
    tests."""
    from keras_lbie.export import export_saved_model
    from tests.models.lbie_colorizer.tiny_colorizer import vivid_cosal_colorizer

    colorizer = vivid_cosal_colorizer()
    export_dir = str(tmp_path_factory.mktemp("models"))
    path = export_saved_model(
        colorizer, export_dir, name="colorizer", version=1
    )
    return colorizer, export_dir, path
