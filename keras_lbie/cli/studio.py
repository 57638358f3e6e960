"""`lbie studio`: the dialogue-based editing page, served locally."""

import socket

from keras_lbie.cli.common import DEFAULT_MODEL
from keras_lbie.cli.common import CLIError
from keras_lbie.cli.common import load_model
from keras_lbie.cli.common import model_help
from keras_lbie.cli.common import note

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_parsers(commands):
    """Adds the `studio` command."""
    parser = commands.add_parser(
        "studio",
        help="edit images in a dialogue, in the browser",
        description=(
            "Serves the studio page: upload an image or take a generated "
            "CoSaL example, say how to colour it, one sentence a turn, and "
            "see each turn's result with the sentence every region attended "
            "to at each step and its stopping step; undo, reset, download. "
            "Needs the studio extra (pip install 'keras_lbie[studio]'). "
            "Nothing is written to disk; the page loads nothing from the "
            "network."
        ),
    )
    parser.add_argument(
        "--model",
        action="append",
        metavar="PRESET_OR_PATH",
        help=f"{model_help(colorizers=True)}; repeat it to switch between "
        f"several in the page (default: {DEFAULT_MODEL})",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"the address to listen on (default: {DEFAULT_HOST}, this "
        "machine only)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"the port (default: {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--max-upload-mb",
        type=float,
        default=8.0,
        metavar="MB",
        help="the largest image file accepted (default: 8)",
    )
    parser.set_defaults(run=run)


def run(args):
    """Loads the models and serves the page until interrupted."""
    if not 0 <= args.port <= 65535:
        raise CLIError(f"--port must be in 0..65535, got {args.port}.")
    if not args.max_upload_mb > 0:
        raise CLIError(
            f"--max-upload-mb must be positive, got {args.max_upload_mb}."
        )
    uvicorn = _import_web_stack()
    # Listening first: a busy port fails before the models load.
    with _listen(args.host, args.port) as listener:
        _serve(args, listener, uvicorn)
    print("lbie studio: stopped", flush=True)


def _serve(args, listener, uvicorn):
    """Loads the models, then serves on `listener` until Ctrl+C."""
    host, port = listener.getsockname()[:2]
    names = list(dict.fromkeys(args.model or [DEFAULT_MODEL]))
    models = {name: load_model(name, early_exit=True) for name in names}
    from keras_lbie.studio.app import build_app
    from keras_lbie.studio.app import warm_up

    app = build_app(models, max_upload_bytes=int(args.max_upload_mb * 2**20))
    warm_up(models)
    if args.host not in _LOOPBACK:
        note(
            f"listening on {args.host}: anyone who can reach this machine "
            "can use the studio."
        )
    address = f"[{host}]" if ":" in host else host
    print(
        f"lbie studio: serving {', '.join(names)} at "
        f"http://{address}:{port}/ (Ctrl+C stops it)",
        flush=True,
    )
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off"
    )
    try:
        uvicorn.Server(config).run(sockets=[listener])
    except KeyboardInterrupt:
        # uvicorn has shut down cleanly, then re-raised the Ctrl+C: a
        # stopped studio is its normal end, not an interruption.
        pass


def _import_web_stack():
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError as error:
        raise CLIError(
            f'lbie studio needs {error.name}: pip install "keras_lbie[studio]"'
        ) from None
    return uvicorn


def _listen(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        raise CLIError(
            f"cannot listen on {host}:{port}: {error.strerror or error}"
        ) from None
