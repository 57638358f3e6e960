"""What the `lbie` subcommands share: errors, models, outputs, figures.

Functions that need TensorFlow import it inside (after
`import_tensorflow`), so that building the parsers stays fast.
"""

import os
import sys
import zipfile

# Re-exported: the commands import TensorFlow through it, quietly unless
# `lbie --verbose`.
from keras_lbie.utils.tensorflow_logs import import_tensorflow  # noqa: F401

DEFAULT_MODEL = "cosal"
# The presets the help lists, which cannot import the preset tables without
# TensorFlow; tests/cli checks them against `available_presets()` and
# `available_colorizer_presets()`.
SEGMENTER_PRESET_NAMES = ("cosal", "cosal_paper")
COLORIZER_PRESET_NAMES = ("cosal_colorizer", "flowers_paper")
# Suffix → Pillow format of the images `lbie edit` and `lbie demo` write.
OUTPUT_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
}


class CLIError(Exception):
    """A mistake of the user's: `lbie` prints the message, no traceback."""


def note(message):
    """Prints an informational line on stderr, beside the results."""
    print(f"lbie: note: {message}", file=sys.stderr)


def model_help(colorizers=False):
    """What `--model` (or `lbie export`'s MODEL) takes, for its help."""
    presets = f"segmenters: {', '.join(SEGMENTER_PRESET_NAMES)}"
    if colorizers:
        presets += f"; colorizers: {', '.join(COLORIZER_PRESET_NAMES)}"
    return (
        f"a preset name ({presets}) or a .keras file saved by `lbie train` "
        "or Keras' model.save"
    )


def add_model_argument(parser, colorizers=False):
    """Adds `--model PRESET_OR_PATH`, default `DEFAULT_MODEL`.

    Args:
        parser: the command's parser.
        colorizers: bool, whether the command also takes colorizers.
    """
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        metavar="PRESET_OR_PATH",
        help=f"{model_help(colorizers)} (default: {DEFAULT_MODEL})",
    )


def load_segmenter(model):
    """The `LBIESegmenter` of a preset name or a `.keras` file path.

    Raises:
        CLIError: `model` is neither a segmenter preset nor a loadable
            `.keras` file of an `LBIESegmenter`; the message lists the
            presets.
    """
    return load_model(model, colorizers=False)


def load_model(model, colorizers=True, early_exit=False):
    """The model of a preset name or a `.keras` file path.

    Args:
        model: str, a preset name or a path.
        colorizers: bool, whether an `LBIEColorizer` is accepted besides
            an `LBIESegmenter`.
        early_exit: bool, build segmenter presets with `early_exit=True`
            (same outputs, fewer steps; see `ConvGRUFusion`).

    Raises:
        CLIError: `model` is neither an accepted preset nor a loadable
            `.keras` file of an accepted model; the message lists the
            accepted presets.
    """
    import_tensorflow()
    from keras_lbie.models import LBIEColorizer
    from keras_lbie.models import LBIESegmenter

    kinds = {"segmenter": (LBIESegmenter.presets, LBIESegmenter)}
    if colorizers:
        kinds["colorizer"] = (LBIEColorizer.presets, LBIEColorizer)
    for presets, model_class in kinds.values():
        if model in presets:
            if presets[model]["weights"] is None:
                note(
                    f"preset {model!r} has no trained weights yet: it is "
                    "randomly initialised."
                )
            if early_exit and model_class is LBIESegmenter:
                return model_class.from_preset(model, early_exit=True)
            return model_class.from_preset(model)
    accepted = "; ".join(
        f"{kind} presets: {', '.join(sorted(presets))}"
        for kind, (presets, _) in kinds.items()
    )
    if not colorizers and model in LBIEColorizer.presets:
        raise CLIError(
            f"{model!r} is a colorizer preset; this command takes a "
            f"segmenter ({accepted}) or a .keras file of one."
        )
    if not os.path.isfile(model):
        problem = (
            f"no such model file: {model}"
            if model.endswith(".keras") or os.sep in model
            else f"unknown preset {model!r}"
        )
        raise CLIError(
            f"{problem}; a model is a preset ({accepted}) or a .keras file "
            "saved by `lbie train` or Keras' model.save."
        )
    return load_keras_file(
        model, tuple(model_class for _, model_class in kinds.values())
    )


def load_keras_file(path, expected_classes):
    """The model of a `.keras` file, if it is one of `expected_classes`.

    Args:
        path: str, the file.
        expected_classes: a class, or a tuple of classes.
    """
    import keras

    if not path.endswith(".keras"):
        raise CLIError(f"{path} is not a .keras file.")
    invalid = f"{path} is not a valid .keras model file"
    if not zipfile.is_zipfile(path):
        raise CLIError(
            f"{invalid}: it is not a zip archive (truncated, or not written "
            "by Keras' model.save)."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as error:
        raise CLIError(f"{invalid}: {error}.") from error
    if "config.json" not in names:
        raise CLIError(
            f"{invalid}: the archive holds no config.json (not written by "
            "Keras' model.save)."
        )
    try:
        model = keras.saving.load_model(path)
    except (
        ValueError,
        TypeError,
        KeyError,
        OSError,
        EOFError,
        zipfile.BadZipFile,
    ) as error:
        first_line = str(error).strip().splitlines()[0] if str(error) else ""
        raise CLIError(
            f"cannot load the model {path}: {type(error).__name__}: "
            f"{first_line}"
        ) from error
    if not isinstance(model, expected_classes):
        if not isinstance(expected_classes, tuple):
            expected_classes = (expected_classes,)
        expected = " or ".join(c.__name__ for c in expected_classes)
        raise CLIError(
            f"{path} holds a {type(model).__name__}, not an {expected}."
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


def output_format(path):
    """The Pillow format `path`'s suffix names, or a `CLIError`."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in OUTPUT_FORMATS:
        named = f"its suffix {suffix!r}" if suffix else "it has no suffix"
        raise CLIError(
            f"cannot write {path}: {named} names no image format lbie "
            f"writes ({', '.join(OUTPUT_FORMATS)})."
        )
    return OUTPUT_FORMATS[suffix]


def save_image(image, path, image_format):
    """Writes a `PIL.Image` to `path` as `image_format` (Pillow's name)."""
    options = {"JPEG": {"quality": 95}, "WEBP": {"lossless": True}}
    image.save(path, format=image_format, **options.get(image_format, {}))


def _check_writable_folder(folder):
    if not os.path.exists(folder):
        raise CLIError(f"the output folder {folder} does not exist.")
    if not os.path.isdir(folder):
        raise CLIError(f"the output folder {folder} is not a folder.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CLIError(f"the output folder {folder} is not writable.")


def write_attention_figure(
    image, edited, details, path, title, target=None, image_format="PNG"
):
    """Writes the Figure-5-style panel of one `edit(..., details=True)`.

    Args:
        image, edited, target: uint8 (H, W, 3) at the model's size.
        details: the details of a batch of one.
        path: the file to write.
        title: str drawn above the panels.
        image_format: str, the Pillow format of the file (`output_format`).
    """
    from keras_lbie.visualize import attention_figure

    attention = details["attention"][0]
    # `edit` drops the all-padding sentences at the end; the figure takes
    # one sentence per attention entry.
    sentences = details["sentences"][0]
    sentences = sentences + [""] * (attention.shape[-1] - len(sentences))
    figure = attention_figure(
        image,
        edited,
        sentences,
        attention,
        details["stop_step"][0],
        title=title,
        target=target,
    )
    save_image(figure, path, image_format)


def print_metrics(overall, by_num_direct):
    """One line per setting, and one over all settings when several."""
    rows = [(f"num_direct={n}", m) for n, m in by_num_direct.items()]
    if len(rows) > 1:
        rows.append(("all settings", overall))
    for label, metrics in rows:
        print(
            f"{label}: region IoU {metrics['cosal_region_iou']:.4f}, "
            f"colour mean IoU {metrics['color_mean_iou']:.4f}"
        )
