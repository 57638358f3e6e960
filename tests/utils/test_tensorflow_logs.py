"""Quiet TensorFlow (`keras_lbie.utils.tensorflow_logs`), as the example
scripts use it: each case needs a fresh process that imports TensorFlow."""

import subprocess
import sys

import pytest

from tests.cli.runner import REPOSITORY

SCRIPT = """
import sys
from keras_lbie.utils.tensorflow_logs import quiet_tensorflow_logs
quiet_tensorflow_logs(sys.argv[1:])
import keras
import tensorflow as tf
# Logs from the C++ runtime too (oneDNN's DT_BOOL error on some CPUs).
print(keras.ops.convert_to_numpy(tf.reduce_any(tf.constant([True]))))
"""


def run(*args):
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "0"},
    )


def test_scripts_print_no_tensorflow_log_lines():
    result = run()
    assert result.stdout.strip() == "True"
    assert result.stderr == ""


@pytest.mark.large
def test_verbose_shows_them():
    assert run("--verbose").stderr != ""
