"""How the CLI tests run `lbie` (a helper module: it holds no tests).

`run_lbie` calls `keras_lbie.cli.main.main` in this process, in a given
working folder, and captures what it prints: a subprocess would only add
the 5-10 s of importing TensorFlow. `run_lbie_process` runs the installed
script for the few tests where the process is the point (TensorFlow's log
lines, the imports of `lbie --help`), with this checkout on `PYTHONPATH`
so that it runs the code under test.
"""

import contextlib
import io
import os
import shutil
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
from PIL import Image

from keras_lbie.cli.main import main
from keras_lbie.models import available_colorizer_presets
from keras_lbie.models import available_presets

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def run_lbie(cwd, *args, status=0):
    """Runs `lbie *args` in `cwd` in-process; checks the exit status.

    Returns:
        A namespace with `returncode`, `stdout` and `stderr` (what `lbie`
        printed; usage errors exit through argparse with status 2).
    """
    stdout, stderr = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with (
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            try:
                returncode = main([str(arg) for arg in args])
            except SystemExit as exit_:
                returncode = exit_.code
    finally:
        os.chdir(previous)
    result = SimpleNamespace(
        returncode=returncode,
        stdout=stdout.getvalue(),
        stderr=stderr.getvalue(),
    )
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    return result


def lbie_command():
    """The installed `lbie` script of this interpreter, else `-m`."""
    script = os.path.join(os.path.dirname(sys.executable), "lbie")
    if shutil.which(script):
        return [script]
    return [sys.executable, "-m", "keras_lbie.cli.main"]


def run_lbie_process(cwd, *args, status=0, env=None):
    """Runs `lbie *args` in a new process, importing this checkout."""
    path = os.environ.get("PYTHONPATH")
    environment = {
        **os.environ,
        "PYTHONPATH": REPOSITORY + (os.pathsep + path if path else ""),
        **(env or {}),
    }
    result = subprocess.run(
        [*lbie_command(), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
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


def read_image(path, image_format="PNG"):
    with Image.open(path) as image:
        assert image.format == image_format
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
