"""Tests of the `lbie` parser, dispatch, error handling and log lines.

The commands themselves are tested in `test_<command>.py`, in-process
(`tests.cli.runner.run_lbie`); the few tests here that need a real process
(which modules `lbie --help` imports, what TensorFlow prints) start one.
"""

import subprocess
import sys

import pytest

from keras_lbie.cli.main import build_parser
from tests.cli.runner import REPOSITORY
from tests.cli.runner import assert_quiet
from tests.cli.runner import read_image
from tests.cli.runner import run_lbie
from tests.cli.runner import run_lbie_process
from tests.cli.runner import save_image

COMMANDS = ("demo", "edit", "cosal", "train", "evaluate", "export", "studio")


def test_help_lists_the_commands_without_importing_tensorflow(tmp_path):
    result = run_lbie(tmp_path, "--help")
    for command in COMMANDS:
        assert f"    {command} " in result.stdout
    assert "--verbose" in result.stdout
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, keras_lbie.cli.main; "
            "print('tensorflow' in sys.modules)",
        ],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"


def test_usage_errors_exit_with_status_2(tmp_path):
    result = run_lbie(tmp_path, "edit", "image.png", status=2)
    assert "usage: lbie edit" in result.stderr
    assert "-o/--output" in result.stderr


@pytest.mark.parametrize(
    "argv, verbose",
    [
        (["demo"], False),
        (["--verbose", "demo"], True),
        (["demo", "--verbose"], True),
        (["cosal", "generate", "--out", "d", "--verbose"], True),
        (["--verbose", "export", "cosal", "models"], True),
    ],
)
def test_verbose_is_taken_before_or_after_the_command(argv, verbose):
    assert build_parser().parse_args(argv).verbose is verbose


def test_a_real_run_prints_no_tensorflow_log_lines(tmp_path):
    """TensorFlow logs while it loads and at run time (oneDNN's `E0000 ...
    DT_BOOL` on CPUs without AVX-512), whatever TF_CPP_MIN_LOG_LEVEL the
    environment holds: `lbie` hides all of it."""
    save_image(tmp_path / "shapes.png", (48, 48), "RGB", "PNG")
    result = run_lbie_process(
        tmp_path, "edit", "shapes.png", "The circle is red.", "-o",
        "edited.png", env={"TF_CPP_MIN_LOG_LEVEL": "0"},
    )  # fmt: skip
    assert result.stderr == ""
    assert result.stdout.startswith("Wrote the edited image to ")
    assert read_image(tmp_path / "edited.png").shape == (48, 48, 3)


@pytest.mark.large
def test_verbose_shows_the_log_lines(tmp_path):
    save_image(tmp_path / "shapes.png", (48, 48), "RGB", "PNG")
    args = ("edit", "shapes.png", "The circle is red.", "-o", "edited.png")
    verbose = run_lbie_process(tmp_path, *args, "--verbose").stderr
    assert any(not line.startswith("lbie: ") for line in verbose.splitlines())
    assert_quiet(run_lbie_process(tmp_path, *args).stderr)
