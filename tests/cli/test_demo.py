"""`lbie demo` (`keras_lbie.cli.demo`)."""

from tests.cli.runner import assert_one_error
from tests.cli.runner import assert_quiet
from tests.cli.runner import read_image
from tests.cli.runner import run_lbie


def test_demo_writes_the_figure_in_the_current_folder(tmp_path):
    result = run_lbie(tmp_path, "demo")
    path = tmp_path / "lbie_demo.png"
    assert f"Wrote {path}" in result.stdout
    assert "Description: The " in result.stdout
    # Source, edited, target and stopping-step panels of 192 px side by side.
    assert read_image(path).shape[1] > 4 * 192
    assert_quiet(result.stderr)


def test_an_unknown_output_format_is_refused_first(tmp_path, monkeypatch):
    import keras_lbie.cli.demo

    def no_loading(*args, **kwargs):
        raise AssertionError("the output was checked after loading")

    monkeypatch.setattr(keras_lbie.cli.demo, "load_segmenter", no_loading)
    result = run_lbie(tmp_path, "demo", "-o", "demo.txt", status=1)
    assert_one_error(result, "its suffix '.txt' names no image format")
