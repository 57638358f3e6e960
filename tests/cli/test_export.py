"""`lbie export` (`keras_lbie.cli.export`)."""

import pytest
import tensorflow as tf

import keras_lbie.cli.export
from keras_lbie.export import DEFAULT_SIGNATURE
from tests.cli.runner import assert_one_error
from tests.cli.runner import assert_quiet
from tests.cli.runner import run_lbie


@pytest.fixture
def no_loading(monkeypatch):
    """Makes loading a model fail the test: errors must come first."""

    def load_model(*args, **kwargs):
        raise AssertionError("the arguments were checked after loading")

    monkeypatch.setattr(keras_lbie.cli.export, "load_model", load_model)


@pytest.mark.large
def test_export_a_trained_model_once_per_version(trained_run):
    run, _ = trained_run
    args = ("export", "run/model.keras", "models", "--name", "cosal")
    result = run_lbie(run.parent, *args, "--version", 2)
    path = run.parent / "models" / "cosal" / "2"
    assert f"to {path}" in result.stdout
    assert DEFAULT_SIGNATURE in tf.saved_model.load(str(path)).signatures


@pytest.mark.large
def test_export_a_saved_colorizer(tmp_path, saved_colorizer):
    _, path = saved_colorizer
    result = run_lbie(tmp_path, "export", path, "models", "--name", "colour")
    exported = tmp_path / "models" / "colour" / "1"
    assert f"Exported {path} to {exported}" in result.stdout
    assert_quiet(result.stderr)
    serve = tf.saved_model.load(str(exported)).signatures[DEFAULT_SIGNATURE]
    outputs = serve(
        image=tf.zeros((1, 20, 30, 3), tf.uint8), text=tf.constant(["a"])
    )
    assert sorted(outputs) == ["ab", "colorized_image"]
    assert outputs["colorized_image"].shape == (1, 20, 30, 3)


@pytest.mark.parametrize("name", ["../evil", "a/b", "..", "."])
def test_a_name_with_a_path_is_refused_before_loading(
    tmp_path, no_loading, name
):
    result = run_lbie(
        tmp_path, "export", "cosal", "models", "--name", name, status=1
    )
    assert_one_error(result, "`--name` must be a non-empty folder name")
    assert not (tmp_path / "models").exists()
    assert not (tmp_path / "evil").exists()


def test_bad_versions_are_refused_before_loading(tmp_path, no_loading):
    result = run_lbie(
        tmp_path, "export", "cosal", "models", "--version", 0, status=1
    )
    assert_one_error(result, "`--version` must be a positive integer")


def test_an_existing_version_is_refused_before_loading(tmp_path, no_loading):
    (tmp_path / "models" / "cosal" / "2").mkdir(parents=True)
    result = run_lbie(
        tmp_path, "export", "cosal", "models", "--name", "cosal",
        "--version", 2, status=1,
    )  # fmt: skip
    assert_one_error(result, "already holds version 2 of 'cosal'")
