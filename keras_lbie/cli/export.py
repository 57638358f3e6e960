"""`lbie export`: a SavedModel for TensorFlow Serving."""

import os

from keras_lbie.cli.common import CLIError
from keras_lbie.cli.common import load_model
from keras_lbie.cli.common import model_help
from keras_lbie.cli.common import output_folder
from keras_lbie.utils.validation import check_folder_name
from keras_lbie.utils.validation import check_positive_int


def add_parsers(commands):
    """Adds the `export` command."""
    parser = commands.add_parser(
        "export",
        help="export a model for TensorFlow Serving",
        description=(
            "Writes MODEL as a SavedModel in TF Serving's layout, "
            "DIR/NAME/VERSION, taking raw images (any size, or PNG/JPEG "
            "bytes) and raw descriptions (keras_lbie.export). MODEL is a "
            "segmenter or a colorizer."
        ),
    )
    parser.add_argument(
        "model",
        metavar="MODEL",
        help=model_help(colorizers=True),
    )
    parser.add_argument(
        "export_dir", metavar="DIR", help="the model base folder"
    )
    parser.add_argument(
        "--name", default="lbie", help="the model name (default: lbie)"
    )
    parser.add_argument(
        "--version", type=int, default=1, help="the version (default: 1)"
    )
    parser.set_defaults(run=run)


def run(args):
    """Checks every argument, then loads, exports and prints where.

    The checks come first: loading a model takes seconds.
    """
    check_folder_name(args.name, "--name")
    check_positive_int(args.version, "--version")
    path = os.path.join(os.path.abspath(args.export_dir), args.name)
    path = os.path.join(path, str(args.version))
    if os.path.exists(path):
        raise CLIError(
            f"{args.export_dir} already holds version {args.version} of "
            f"{args.name!r} ({path}). TF Serving versions are immutable: "
            "pass a new --version."
        )
    export_dir = output_folder(args.export_dir)
    model = load_model(args.model)
    from keras_lbie.export import export_saved_model

    path = export_saved_model(
        model, export_dir, name=args.name, version=args.version
    )
    print(f"Exported {args.model} to {path}")
