"""Files written whole or not at all (`keras_lbie.utils.atomic_files`)."""

import json
import os

import pytest

from keras_lbie.utils.atomic_files import atomic_path
from keras_lbie.utils.atomic_files import write_json_atomically


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path):
    path = tmp_path / "model.weights.h5"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="killed"):
        with atomic_path(path) as partial:
            with open(partial, "w") as f:
                f.write("half of the new")
            raise RuntimeError("killed")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["model.weights.h5"]


def test_the_partial_file_keeps_the_suffix_and_replaces_the_file(tmp_path):
    path = tmp_path / "model.keras"
    path.write_text("old")
    with atomic_path(path) as partial:
        assert partial.endswith(".keras")
        assert os.path.dirname(partial) == str(tmp_path)
        with open(partial, "w") as f:
            f.write("new")
    assert path.read_text() == "new"
    assert os.listdir(tmp_path) == ["model.keras"]


def test_write_json_atomically(tmp_path):
    write_json_atomically(tmp_path / "results.json", {"a": [1, 2]})
    with open(tmp_path / "results.json") as f:
        assert json.load(f) == {"a": [1, 2]}
