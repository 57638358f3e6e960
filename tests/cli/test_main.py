"""Tests of the `lbie` console script, run as a user runs it.

Each command runs in a subprocess with the tmp folder as its working
directory; commands that build a model import TensorFlow (5-10 s each), so
checks of one run are grouped and the data and trained model are shared by
module-scoped fixtures.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_lbie.color import rgb_to_lab
from keras_lbie.datasets import cosal
from keras_lbie.datasets import referit
from keras_lbie.export import DEFAULT_SIGNATURE
from keras_lbie.models import available_colorizer_presets
from keras_lbie.models import available_presets
from keras_lbie.models.lbie_colorizer.lbie_colorizer_presets import (
    PRESETS as COLORIZER_PRESETS,
)
from tests.models.lbie_colorizer.tiny_colorizer import vivid_cosal_colorizer

COMMANDS = ("demo", "edit", "cosal", "train", "evaluate", "export", "studio")
TINY_RUN = ("--train", "64", "--test", "32", "--epochs", "1")


def lbie_command():
    """The installed `lbie` script of this interpreter, else `-m`."""
    script = os.path.join(os.path.dirname(sys.executable), "lbie")
    if shutil.which(script):
        return [script]
    return [sys.executable, "-m", "keras_lbie.cli.main"]


def run_lbie(cwd, *args, status=0):
    """Runs `lbie *args` in `cwd`; checks the exit status, no traceback."""
    result = subprocess.run(
        [*lbie_command(), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    return result


def assert_quiet(stderr):
    """Only lbie's own notes on stderr: no TensorFlow log lines."""
    for line in stderr.splitlines():
        assert line.startswith("lbie: "), stderr


def assert_one_error(result, *fragments):
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("lbie: error: ")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0]


def read_png(path):
    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"))


def save_image(path, size, mode, fmt):
    """A white image of `size` (width, height) with a black square."""
    image = Image.new(mode, size, "white")
    image.paste(
        "black", (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2)
    )
    image.save(path, format=fmt)


def segmenter_presets():
    return f"segmenter presets: {', '.join(sorted(available_presets()))}"


def colorizer_presets():
    names = ", ".join(sorted(available_colorizer_presets()))
    return f"colorizer presets: {names}"


def lightness(pixels):
    return rgb_to_lab(pixels).numpy()[..., 0]


@pytest.fixture(scope="module")
def saved_colorizer(tmp_path_factory):
    """A colorizer with visible colours, and the `.keras` file it is in."""
    colorizer = vivid_cosal_colorizer()
    path = tmp_path_factory.mktemp("colorizer") / "colorizer.keras"
    colorizer.save(str(path))
    return colorizer, path


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """Tiny CoSaL splits written by `lbie cosal generate`."""
    cwd = tmp_path_factory.mktemp("generate")
    result = run_lbie(
        cwd, "cosal", "generate", "--train", 64, "--test", 32,
        "--shard-size", 40, "--out", "data",
    )  # fmt: skip
    return cwd / "data", result


@pytest.fixture(scope="module")
def trained_run(data_dir):
    """A model trained by `lbie train` on the generated splits."""
    cwd = data_dir[0].parent
    result = run_lbie(
        cwd, "train", "--preset", "cosal_paper", "--max-steps", "2",
        "--data-dir", "data", *TINY_RUN, "--batch-size", 16,
        "--output-dir", "run",
    )  # fmt: skip
    return cwd / "run", result


def test_help_lists_the_commands_without_importing_tensorflow(tmp_path):
    result = run_lbie(tmp_path, "--help")
    for command in COMMANDS:
        assert f"    {command} " in result.stdout
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, keras_lbie.cli.main; "
            "print('tensorflow' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"


def test_usage_errors_exit_with_status_2(tmp_path):
    result = run_lbie(tmp_path, "edit", "image.png", status=2)
    assert "usage: lbie edit" in result.stderr
    assert "-o/--output" in result.stderr


def test_demo_writes_the_figure_in_the_current_folder(tmp_path):
    result = run_lbie(tmp_path, "demo")
    path = tmp_path / "lbie_demo.png"
    assert f"Wrote {path}" in result.stdout
    assert "Description: The " in result.stdout
    # Source, edited, target and stopping-step panels of 192 px side by side.
    assert read_png(path).shape[1] > 4 * 192
    assert_quiet(result.stderr)


def test_edit_jpeg_of_another_size_with_steps(tmp_path):
    save_image(tmp_path / "shapes.jpg", (64, 80), "L", "JPEG")
    result = run_lbie(
        tmp_path, "edit", "shapes.jpg", "The rectangle is red.",
        "-o", "edited.png", "--steps", "--model", "cosal_paper",
    )  # fmt: skip
    assert "resized shapes.jpg from 64x80 px to the model's 48x48" in (
        result.stderr
    )
    assert_quiet(result.stderr)
    assert read_png(tmp_path / "edited.png").shape == (80, 64, 3)
    steps = tmp_path / "edited_steps.png"
    assert f"to {steps}" in result.stdout
    assert read_png(steps).shape[1] > 3 * 192


def test_edit_png_writes_the_input_size(tmp_path):
    save_image(tmp_path / "shapes.png", (96, 60), "RGBA", "PNG")
    result = run_lbie(
        tmp_path, "edit", "shapes.png", "The circle is blue.",
        "-o", "edited.png",
    )  # fmt: skip
    assert "resized shapes.png from 96x60 px" in result.stderr
    edited = read_png(tmp_path / "edited.png")
    assert edited.shape == (60, 96, 3)
    # Every pixel has a class colour (nearest-neighbour upscaling).
    palette = {cosal.BACKGROUND_RGB, *cosal.PALETTE_RGB}
    assert {tuple(p) for p in edited.reshape(-1, 3)} <= palette
    assert not (tmp_path / "edited_steps.png").exists()


def test_model_help_lists_the_presets_of_each_kind(tmp_path):
    segmenters = ", ".join(sorted(available_presets()))
    colorizers = ", ".join(sorted(available_colorizer_presets()))
    for command in ("edit", "export"):
        help_text = run_lbie(tmp_path, command, "--help").stdout
        assert (
            f"(segmenters: {segmenters}; colorizers: {colorizers})"
            in " ".join(help_text.split())
        )
    # The demo draws a segmenter's steps: it lists segmenters alone.
    help_text = " ".join(run_lbie(tmp_path, "demo", "--help").stdout.split())
    assert f"(segmenters: {segmenters})" in help_text


def test_edit_with_the_colorizer_preset_keeps_the_lightness(tmp_path):
    ramp = np.linspace(80, 180, 64).astype(np.uint8)
    Image.fromarray(np.tile(ramp, (40, 1)), "L").save(tmp_path / "gray.png")
    result = run_lbie(
        tmp_path, "edit", "gray.png", "The circle is red.",
        "-o", "colour.png", "--model", "cosal_colorizer",
    )  # fmt: skip
    assert "resized gray.png from 64x40 px to the model's 48x48 px" in (
        result.stderr
    )
    untrained = COLORIZER_PRESETS["cosal_colorizer"]["weights"] is None
    assert ("has no trained weights" in result.stderr) == untrained
    assert_quiet(result.stderr)
    output = tmp_path / "colour.png"
    assert f"Wrote the colorized image to {output}" in result.stdout
    colour = read_png(output)
    assert colour.shape == (40, 64, 3)
    # Lab colours outside sRGB are clipped, which changes their L: compare
    # where no channel saturated.
    inside = np.all((colour > 0) & (colour < 255), axis=-1)
    assert inside.any()
    gray = read_png(tmp_path / "gray.png")
    np.testing.assert_allclose(
        lightness(colour)[inside], lightness(gray)[inside], atol=1.0
    )


def test_edit_with_a_saved_colorizer(tmp_path, saved_colorizer):
    colorizer, path = saved_colorizer
    pixels = np.random.default_rng(0).integers(60, 200, (48, 48, 3))
    pixels = pixels.astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "photo.png")
    result = run_lbie(
        tmp_path, "edit", "photo.png", "The circle is red.",
        "-o", "colour.png", "--model", path,
    )  # fmt: skip
    assert_quiet(result.stderr)
    assert "resized" not in result.stderr
    colour = read_png(tmp_path / "colour.png")
    expected = colorizer.colorize(pixels, "The circle is red.")[0]
    np.testing.assert_allclose(colour, expected, atol=1)
    # Colours, not gray: the predicted ab reached the file.
    assert np.ptp(colour.astype(int), axis=-1).mean() > 5


def test_edit_steps_with_a_colorizer_fail_in_one_line(tmp_path):
    save_image(tmp_path / "shapes.png", (48, 48), "RGB", "PNG")
    result = run_lbie(
        tmp_path, "edit", "shapes.png", "The circle is red.", "-o", "out.png",
        "--steps", "--model", "cosal_colorizer", status=1,
    )  # fmt: skip
    assert_one_error(result, "--steps is not supported for colorizers")
    assert not (tmp_path / "out.png").exists()


def test_generate_writes_shards_that_as_dataset_reads(data_dir):
    folder, result = data_dir
    assert sorted(os.listdir(folder)) == [
        "test_nd4-00000-of-00001.tfrecord",
        "train_nd4-00000-of-00002.tfrecord",
        "train_nd4-00001-of-00002.tfrecord",
    ]
    assert "64/64" in result.stdout  # the progress bar
    batches = cosal.as_dataset(str(folder / "train_nd4-*.tfrecord"), 64)
    ((x, _),) = list(batches)
    expected = cosal.generate(64, num_direct=4, seed=0)
    np.testing.assert_array_equal(x["image"].numpy(), expected["image"])
    assert x["text"].numpy()[63].decode() == expected["text"][63]


def test_generate_refuses_to_overwrite_a_split(data_dir):
    folder, _ = data_dir
    result = run_lbie(
        folder.parent, "cosal", "generate", "--train", 8, "--test", 8,
        "--out", "data", status=1,
    )  # fmt: skip
    assert_one_error(result, "already holds", "train_nd4")


def test_train_writes_a_keras_model_and_results(trained_run):
    run, result = trained_run
    assert "num_direct=4: region IoU " in result.stdout
    assert f"Wrote {run / 'model.keras'}" in result.stdout
    with open(run / "results.json") as f:
        results = json.load(f)
    assert results["train_steps"] == 4
    assert results["batch_size"] == 16


def test_evaluate_prints_both_metrics_of_a_saved_model(trained_run):
    run, _ = trained_run
    result = run_lbie(
        run.parent, "evaluate", "--model", "run/model.keras",
        "--data-dir", "data",
    )  # fmt: skip
    with open(run / "results.json") as f:
        metrics = json.load(f)["metrics"]
    assert result.stdout.strip() == (
        f"num_direct=4: region IoU {metrics['cosal_region_iou']:.4f}, "
        f"colour mean IoU {metrics['color_mean_iou']:.4f}"
    )
    assert_quiet(result.stderr)


def test_evaluate_a_referit_preset_on_a_referit_folder(tmp_path):
    referit.write_referit_format(
        tmp_path / "referit", 3, seed=0, image_size=(48, 64)
    )
    result = run_lbie(
        tmp_path, "evaluate", "--model", "referit_small",
        "--referit-dir", "referit", "--max-queries", 5, "--batch-size", 4,
    )  # fmt: skip
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2, result.stdout
    assert lines[0].startswith("ReferIt test, 5 queries: overall IoU 0.")
    assert ", mean IoU 0." in lines[0]
    assert lines[1].startswith("precision@0.5 0.")
    assert lines[1].count("precision@") == 5
    assert "preset 'referit_small' has no trained weights" in result.stderr
    assert_quiet(result.stderr)


def test_evaluate_rejects_options_of_the_other_data_set(tmp_path):
    result = run_lbie(
        tmp_path, "evaluate", "--referit-dir", "referit",
        "--num-direct", "6", status=1,
    )  # fmt: skip
    assert_one_error(result, "--num-direct and --seed apply to CoSaL")
    result = run_lbie(
        tmp_path, "evaluate", "--max-queries", 5, "--split", "val", status=1
    )
    assert_one_error(result, "--split, --max-queries apply to ReferIt")


def test_export_a_saved_model_once_per_version(trained_run):
    run, _ = trained_run
    args = ("export", "run/model.keras", "models", "--name", "cosal")
    result = run_lbie(run.parent, *args, "--version", 2)
    path = run.parent / "models" / "cosal" / "2"
    assert f"to {path}" in result.stdout
    assert DEFAULT_SIGNATURE in tf.saved_model.load(str(path)).signatures
    again = run_lbie(run.parent, *args, "--version", 2, status=1)
    assert_one_error(again, "already holds version 2")


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


def unwritable_output(tmp_path):
    """A path whose folder cannot take a file, also when run as root."""
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        # Root ignores permissions: a folder that is a file blocks anyone.
        (tmp_path / "file.txt").write_text("not a folder")
        return "file.txt/out.png"
    return "read_only/out.png"


@pytest.mark.parametrize(
    "image, description, fragments",
    [
        ("missing.png", "The circle is red.", ("no such image file",)),
        ("x.png", "The circle is red.", ("cannot read x.png", "not an image")),
        ("shapes.png", "", ("the description is empty",)),
    ],
)
def test_edit_input_errors_fail_in_one_line(
    tmp_path, image, description, fragments
):
    save_image(tmp_path / "shapes.png", (48, 48), "RGB", "PNG")
    (tmp_path / "x.png").write_text("not an image")
    result = run_lbie(
        tmp_path, "edit", image, description, "-o", "out.png", status=1
    )
    assert_one_error(result, *fragments)
    assert result.stdout == ""
    assert not (tmp_path / "out.png").exists()


def test_edit_into_an_unwritable_folder_fails_in_one_line(tmp_path):
    save_image(tmp_path / "shapes.png", (48, 48), "RGB", "PNG")
    output = unwritable_output(tmp_path)
    result = run_lbie(
        tmp_path, "edit", "shapes.png", "The circle is red.", "-o", output,
        status=1,
    )  # fmt: skip
    assert_one_error(result, "output folder", os.path.dirname(output))


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
