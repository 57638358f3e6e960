"""The `lbie` command: parser, dispatch and the user-error handler."""

import argparse
import sys

from keras_lbie import __version__
from keras_lbie.cli import cosal
from keras_lbie.cli import demo
from keras_lbie.cli import edit
from keras_lbie.cli import evaluate
from keras_lbie.cli import export
from keras_lbie.cli import studio
from keras_lbie.cli import train
from keras_lbie.cli.common import CLIError
from keras_lbie.utils.tensorflow_logs import configure_tensorflow_logs

DESCRIPTION = """\
Language-based image editing (Chen et al., CVPR 2018): colour an image from
a description, and make, train, evaluate and export the models.

  lbie demo                                  edit a CoSaL example
  lbie edit shapes.png "The circle is red." -o edited.png --steps
  lbie edit gray.png "The circle is red." -o colour.png --model cosal_colorizer
  lbie cosal generate --out data             CoSaL TFRecords
  lbie train --data-dir data --output-dir run
  lbie evaluate --model run/model.keras --data-dir data
  lbie export run/model.keras models --name cosal --version 1
  lbie studio                                the editing page in a browser

TensorFlow's own log lines are hidden; --verbose (before or after the
command) shows them.
"""

# Failures a user can cause: bad paths, unreadable files (Pillow's
# UnidentifiedImageError is an OSError), bad values our checks reject.
_USER_ERRORS = (CLIError, OSError, ValueError, TypeError)
_INTERRUPTED = 130
VERBOSE_HELP = "show TensorFlow's log lines (hidden by default)"


def build_parser():
    """The `lbie` argument parser, one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="lbie",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND"
    )
    for module in (
        demo,
        edit,
        cosal,
        train,
        evaluate,
        export,
        studio,
    ):
        module.add_parsers(commands)
    _add_verbose_to_commands(parser)
    return parser


def _add_verbose_to_commands(parser):
    """Adds `--verbose` to every (sub)command below `parser`.

    Their default is "not given" (SUPPRESS), so that `lbie --verbose edit`
    keeps the top-level flag.
    """
    for action in parser._subparsers._group_actions:
        for command in action.choices.values():
            command.add_argument(
                "--verbose",
                action="store_true",
                default=argparse.SUPPRESS,
                help=VERBOSE_HELP,
            )
            if command._subparsers is not None:
                _add_verbose_to_commands(command)


def main(argv=None):
    """Runs `lbie` with `argv` (default: the command line).

    Returns:
        The exit status: 0, or 1 after a user error (one line on stderr).
        Usage errors exit with status 2 from argparse.
    """
    args = build_parser().parse_args(argv)
    configure_tensorflow_logs(args.verbose)
    try:
        args.run(args)
    except _USER_ERRORS + _tensorflow_errors() as error:
        print(f"lbie: error: {_message(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lbie: interrupted", file=sys.stderr)
        return _INTERRUPTED
    return 0


def _tensorflow_errors():
    """TensorFlow's runtime errors (corrupt data files), if it is loaded."""
    tensorflow = sys.modules.get("tensorflow")
    return () if tensorflow is None else (tensorflow.errors.OpError,)


def _message(error):
    """One line: the error's message, with the file name when it has one."""
    if isinstance(error, OSError) and error.strerror and error.filename:
        text = f"{error.filename}: {error.strerror}"
    elif _tensorflow_errors() and isinstance(error, _tensorflow_errors()):
        text = error.message
    else:
        text = str(error)
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
