"""`lbie edit` (`keras_lbie.cli.edit`): image files in, edited files out."""

import os

import numpy as np
import pytest
from PIL import Image

from keras_lbie.cli.common import output_format
from keras_lbie.cli.edit import read_image as read_image_file
from keras_lbie.cli.edit import write_image
from keras_lbie.color import rgb_to_lab
from keras_lbie.datasets import cosal
from keras_lbie.models.lbie_colorizer.lbie_colorizer_presets import (
    PRESETS as COLORIZER_PRESETS,
)
from keras_lbie.models.lbie_segmenter import CLASS_COLORS
from tests.cli.runner import assert_one_error
from tests.cli.runner import assert_quiet
from tests.cli.runner import read_image
from tests.cli.runner import run_lbie
from tests.cli.runner import save_image


def lightness(pixels):
    return rgb_to_lab(pixels).numpy()[..., 0]


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
    assert read_image(tmp_path / "edited.png").shape == (80, 64, 3)
    steps = tmp_path / "edited_steps.png"
    assert f"to {steps}" in result.stdout
    assert read_image(steps).shape[1] > 3 * 192


def test_edit_png_writes_the_input_size(tmp_path):
    save_image(tmp_path / "shapes.png", (96, 60), "RGBA", "PNG")
    result = run_lbie(
        tmp_path, "edit", "shapes.png", "The circle is blue.",
        "-o", "edited.png",
    )  # fmt: skip
    assert "resized shapes.png from 96x60 px" in result.stderr
    edited = read_image(tmp_path / "edited.png")
    assert edited.shape == (60, 96, 3)
    # Every pixel has a class colour (nearest-neighbour upscaling).
    palette = {cosal.BACKGROUND_RGB, *cosal.PALETTE_RGB}
    assert {tuple(p) for p in edited.reshape(-1, 3)} <= palette
    assert not (tmp_path / "edited_steps.png").exists()


def test_a_transparent_background_is_read_as_white(tmp_path):
    """A PNG drawn on a transparent canvas is the sketch drawn on white:
    transparent pixels are composited onto white, half-transparent ones
    half-way."""
    shapes = np.asarray(cosal.generate(1, seed=3)["image"][0])
    opaque = np.any(shapes < 255, axis=-1)
    # Transparent black where CoSaL draws white; the shapes opaque.
    rgba = np.concatenate(
        [np.where(opaque[..., None], shapes, 0), 255 * opaque[..., None]],
        axis=-1,
    ).astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "transparent.png")
    np.testing.assert_array_equal(
        read_image_file(str(tmp_path / "transparent.png")), shapes
    )
    half = np.array([[[0, 0, 0, 128], [200, 100, 0, 255]]], np.uint8)
    Image.fromarray(half, "RGBA").save(tmp_path / "half.png")
    np.testing.assert_array_equal(
        read_image_file(str(tmp_path / "half.png")),
        [[[127, 127, 127], [200, 100, 0]]],
    )
    gray_alpha = np.array([[[0, 0], [90, 255]]], np.uint8)
    Image.fromarray(gray_alpha, "LA").save(tmp_path / "gray_alpha.png")
    np.testing.assert_array_equal(
        read_image_file(str(tmp_path / "gray_alpha.png")),
        [[[255, 255, 255], [90, 90, 90]]],
    )


def test_the_output_suffix_names_the_format(tmp_path):
    save_image(tmp_path / "shapes.png", (48, 48), "RGB", "PNG")
    run_lbie(
        tmp_path, "edit", "shapes.png", "The circle is red.", "-o",
        "edited.jpg", "--model", "cosal_paper",
    )  # fmt: skip
    assert read_image(tmp_path / "edited.jpg", "JPEG").shape == (48, 48, 3)
    pixels = CLASS_COLORS[np.arange(48 * 48).reshape(48, 48) % 7]
    for name, image_format in (
        ("a.JPEG", "JPEG"),
        ("a.bmp", "BMP"),
        ("a.tif", "TIFF"),
        ("a.webp", "WEBP"),
    ):
        path = str(tmp_path / name)
        write_image(pixels, path, output_format(path))
        written = read_image(path, image_format)
        if image_format != "JPEG":  # lossless: the exact class colours
            np.testing.assert_array_equal(written, pixels)


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
    colour = read_image(output)
    assert colour.shape == (40, 64, 3)
    # Lab colours outside sRGB are clipped, which changes their L: compare
    # where no channel saturated.
    inside = np.all((colour > 0) & (colour < 255), axis=-1)
    assert inside.any()
    gray = read_image(tmp_path / "gray.png")
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
    colour = read_image(tmp_path / "colour.png")
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
