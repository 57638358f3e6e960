"""What the `lbie` subcommands share: errors, models, outputs, figures.

Functions that need TensorFlow import it inside (after
`import_tensorflow`), so that building the parsers stays fast.
"""

import os
import sys
import zipfile

DEFAULT_MODEL = "cosal"


class CLIError(Exception):
    """A mistake of the user's: `lbie` prints the message, no traceback."""


def note(message):
    """Prints an informational line on stderr, beside the results."""
    print(f"lbie: note: {message}", file=sys.stderr)


def import_tensorflow():
    """Imports TensorFlow and finds its devices without their log lines.

    `TF_CPP_MIN_LOG_LEVEL` silences TensorFlow's C++ info and warnings once
    its logging is set up, but the lines logged while TensorFlow loads (no
    CUDA driver, CPU features) bypass it, and a machine without a GPU logs
    a failed `cuInit` as an error when the devices are listed: stderr points
    at /dev/null for both.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "tensorflow" in sys.modules:
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


def add_model_argument(parser):
    """Adds `--model PRESET_OR_PATH`, default `DEFAULT_MODEL`."""
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        metavar="PRESET_OR_PATH",
        help="a preset name or a .keras file saved by `lbie train` "
        f"(default: {DEFAULT_MODEL})",
    )


def load_segmenter(model):
    """The `LBIESegmenter` of a preset name or a `.keras` file path.

    Raises:
        CLIError: `model` is neither a preset nor a loadable `.keras` file
            of an `LBIESegmenter`; the message lists the presets.
    """
    import_tensorflow()
    from keras_lbie.models import LBIESegmenter
    from keras_lbie.models.presets import PRESETS

    if model in PRESETS:
        if PRESETS[model]["weights"] is None:
            note(
                f"preset {model!r} has no trained weights yet: it is "
                "randomly initialised."
            )
        return LBIESegmenter.from_preset(model)
    if not os.path.isfile(model):
        problem = (
            f"no such model file: {model}"
            if model.endswith(".keras") or os.sep in model
            else f"unknown preset {model!r}"
        )
        raise CLIError(
            f"{problem}; a model is a preset ({', '.join(sorted(PRESETS))}) "
            "or a .keras file saved by `lbie train`."
        )
    return _load_keras_file(model, LBIESegmenter)


def _load_keras_file(path, expected_class):
    import keras

    if not path.endswith(".keras"):
        raise CLIError(f"{path} is not a .keras file.")
    try:
        model = keras.saving.load_model(path)
    except (ValueError, TypeError, OSError, zipfile.BadZipFile) as error:
        raise CLIError(f"cannot load the model {path}: {error}") from error
    if not isinstance(model, expected_class):
        raise CLIError(
            f"{path} holds a {type(model).__name__}, not an "
            f"{expected_class.__name__}."
        )
    return model


def output_file(path):
    """The absolute `path` of a new file, after checking its folder."""
    path = os.path.abspath(path)
    if os.path.isdir(path):
        raise CLIError(f"{path} is a folder: give a file name.")
    _check_writable_folder(os.path.dirname(path))
    return path


def output_folder(path):
    """The absolute `path` of an output folder, created if needed."""
    path = os.path.abspath(path)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise CLIError(
            f"cannot create the output folder {path}: {error.strerror}."
        ) from error
    _check_writable_folder(path)
    return path


def _check_writable_folder(folder):
    if not os.path.exists(folder):
        raise CLIError(f"the output folder {folder} does not exist.")
    if not os.path.isdir(folder):
        raise CLIError(f"the output folder {folder} is not a folder.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CLIError(f"the output folder {folder} is not writable.")


def write_attention_figure(image, edited, details, path, title, target=None):
    """Writes the Figure-5-style panel of one `edit(..., details=True)`.

    Args:
        image, edited, target: uint8 (H, W, 3) at the model's size.
        details: the details of a batch of one.
        path: the PNG to write.
        title: str drawn above the panels.
    """
    from keras_lbie.visualize import attention_figure

    attention = details["attention"][0]
    # `edit` drops the all-padding sentences at the end; the figure takes
    # one sentence per attention entry.
    sentences = details["sentences"][0]
    sentences = sentences + [""] * (attention.shape[-1] - len(sentences))
    attention_figure(
        image,
        edited,
        sentences,
        attention,
        details["stop_step"][0],
        path=path,
        title=title,
        target=target,
    )
