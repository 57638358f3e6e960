"""Runs of `lbie` shared by the CLI test modules (generated data, a
trained model, a saved colorizer): each takes seconds, so it runs once."""

import pytest

from tests.cli.runner import run_lbie
from tests.models.lbie_colorizer.tiny_colorizer import vivid_cosal_colorizer

TINY_RUN = ("--train", "64", "--test", "32", "--epochs", "1")


@pytest.fixture(scope="session")
def saved_colorizer(tmp_path_factory):
    """A colorizer with visible colours, and the `.keras` file it is in."""
    colorizer = vivid_cosal_colorizer()
    path = tmp_path_factory.mktemp("colorizer") / "colorizer.keras"
    colorizer.save(str(path))
    return colorizer, path


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """Tiny CoSaL splits written by `lbie cosal generate`."""
    cwd = tmp_path_factory.mktemp("generate")
    result = run_lbie(
        cwd, "cosal", "generate", "--train", 64, "--test", 32,
        "--shard-size", 40, "--out", "data",
    )  # fmt: skip
    return cwd / "data", result


@pytest.fixture(scope="session")
def trained_run(data_dir):
    """A model trained by `lbie train` on the generated splits."""
    cwd = data_dir[0].parent
    result = run_lbie(
        cwd, "train", "--preset", "cosal_paper", "--max-steps", "2",
        "--data-dir", "data", *TINY_RUN, "--batch-size", 16,
        "--output-dir", "run",
    )  # fmt: skip
    return cwd / "run", result
