"""TensorFlow's log lines: quiet unless asked for (`lbie`, `examples/`).

TensorFlow prints lines nobody asked for: while it loads (oneDNN, CUDA
stubs, "All log messages before absl::InitializeLog() ..."), and later
from its C++ runtime (`E0000 ... oneDNN supports DT_BOOL only on platforms
with AVX-512`, logged as an error on CPUs without AVX-512). The `lbie`
command and the example scripts hide them unless run with `--verbose`:

    configure_tensorflow_logs(verbose)  # before TensorFlow is imported
    import_tensorflow()                 # when a command needs it

or, at the top of a script, before anything imports TensorFlow,

    quiet_tensorflow_logs()             # reads --verbose from sys.argv

Stdlib only at import time, so that it runs before TensorFlow is loaded.
Once TensorFlow is imported (e.g. `lbie`'s `main()` called from a test)
nothing changes: its C++ logging reads the environment once.
"""

import logging
import os
import sys

# TF_CPP_MIN_LOG_LEVEL: 0 all, 1 no info, 2 no warnings, 3 no errors.
QUIET_LOG_LEVEL = "3"

_verbose = None


def configure_tensorflow_logs(verbose=False):
    """Chooses, before TensorFlow is imported, whether it may log.

    Quiet (`verbose=False`): sets `TF_CPP_MIN_LOG_LEVEL=3`, whatever the
    environment held, so that TensorFlow's C++ runtime logs nothing, and
    `import_tensorflow` hides the lines printed while it loads and sets
    the `tensorflow` and absl Python loggers to errors. Python exceptions
    are raised as always. Verbose: the environment's settings and
    TensorFlow's defaults, untouched.

    Args:
        verbose: bool, show TensorFlow's log lines.
    """
    global _verbose
    _verbose = bool(verbose)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if not _verbose and "tensorflow" not in sys.modules:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = QUIET_LOG_LEVEL


def import_tensorflow():
    """Imports TensorFlow and finds its devices, quietly unless verbose.

    The lines TensorFlow logs while it loads (no CUDA driver, oneDNN) and
    while it lists the devices (a failed `cuInit` on a machine without a
    GPU) bypass `TF_CPP_MIN_LOG_LEVEL`: in quiet mode stderr points at
    /dev/null for both. Does nothing when TensorFlow is loaded already.
    Quiet unless `configure_tensorflow_logs(verbose=True)` ran first.
    """
    if _verbose is None:
        configure_tensorflow_logs()
    if "tensorflow" in sys.modules:
        return
    if _verbose:
        import tensorflow  # noqa: F401

        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow

        tensorflow.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    # Python-side warnings ("5 out of the last 5 calls ... retracing").
    tensorflow.get_logger().setLevel(logging.ERROR)
    try:
        from absl import logging as absl_logging
    except ImportError:  # pragma: no cover - TensorFlow depends on absl
        return
    absl_logging.set_verbosity(absl_logging.ERROR)


def quiet_tensorflow_logs(argv=None):
    """For scripts: configure and import TensorFlow; `--verbose` logs.

    Call it at the top of a script, before anything imports TensorFlow
    (`keras`, `keras_lbie.models`, ...); the script's parser should accept
    `--verbose` (`add_verbose_argument`).

    Args:
        argv: the arguments to look for `--verbose` in (default:
            `sys.argv[1:]`).

    Returns:
        bool, whether `--verbose` was given.
    """
    argv = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in argv
    configure_tensorflow_logs(verbose)
    import_tensorflow()
    return verbose


def add_verbose_argument(parser):
    """Adds `--verbose` (TensorFlow's log lines) to an argparse parser."""
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's log lines (hidden by default)",
    )
