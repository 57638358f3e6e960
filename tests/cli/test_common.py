"""What the commands share (`keras_lbie.cli.common`): loading models.

A model is a preset or a `.keras` file; anything else is one
`lbie: error:` line naming the problem, never a traceback.
"""

import zipfile

import pytest

from tests.cli.runner import assert_one_error
from tests.cli.runner import colorizer_presets
from tests.cli.runner import run_lbie
from tests.cli.runner import save_image
from tests.cli.runner import segmenter_presets


def test_model_help_lists_the_presets_of_each_kind(tmp_path):
    segmenters = segmenter_presets().split(": ")[1]
    colorizers = colorizer_presets().split(": ")[1]
    for command in ("edit", "export"):
        help_text = run_lbie(tmp_path, command, "--help").stdout
        assert (
            f"(segmenters: {segmenters}; colorizers: {colorizers})"
            in " ".join(help_text.split())
        )
    # The demo draws a segmenter's steps: it lists segmenters alone.
    help_text = " ".join(run_lbie(tmp_path, "demo", "--help").stdout.split())
    assert f"(segmenters: {segmenters})" in help_text


@pytest.mark.parametrize(
    "command, model, fragment",
    [
        ("edit", "no_such_preset", "unknown preset 'no_such_preset'"),
        ("demo", "missing.keras", "no such model file: missing.keras"),
        ("demo", "cosal_colorizer", "'cosal_colorizer' is a colorizer preset"),
    ],
)
def test_unknown_models_list_the_presets(tmp_path, command, model, fragment):
    save_image(tmp_path / "shapes.png", (48, 48), "RGB", "PNG")
    args = ("shapes.png", "The circle is red.", "-o", "out.png")
    result = run_lbie(
        tmp_path, command, *(args if command == "edit" else ()),
        "--model", model, status=1,
    )  # fmt: skip
    assert_one_error(result, fragment, segmenter_presets())
    # `lbie demo` takes segmenters, `lbie edit` colorizers too.
    listed = colorizer_presets() in result.stderr
    assert listed == (command == "edit")
    assert not (tmp_path / "lbie_demo.png").exists()
    assert not (tmp_path / "out.png").exists()


def _zip_without_config(path, _):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.weights.h5", b"weights")


def _truncated(path, saved_colorizer):
    data = saved_colorizer[1].read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "make, fragment",
    [
        (_zip_without_config, "the archive holds no config.json"),
        (_truncated, "it is not a zip archive (truncated"),
        (lambda path, _: path.write_text("hello"), "it is not a zip archive"),
    ],
    ids=["no_config", "truncated", "text"],
)
def test_invalid_keras_files_fail_in_one_line(
    tmp_path, saved_colorizer, make, fragment
):
    save_image(tmp_path / "shapes.png", (48, 48), "RGB", "PNG")
    make(tmp_path / "bad.keras", saved_colorizer)
    result = run_lbie(
        tmp_path, "edit", "shapes.png", "The circle is red.", "-o",
        "out.png", "--model", "bad.keras", status=1,
    )  # fmt: skip
    assert_one_error(
        result, "bad.keras is not a valid .keras model file", fragment
    )
    assert len(result.stderr.strip().splitlines()) == 1
