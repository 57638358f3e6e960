"""The `lbie studio` web app: a hand-written page over `EditSession`s.

A Starlette (ASGI) app, run by uvicorn (`pip install
"keras_lbie[studio]"`). Everything it serves is in the package: the page
loads nothing from the network, and nothing is written to disk (images
travel as PNG data URLs; "Download" saves the current one in the
browser).

Routes (JSON in and out; errors are `{"error": message}` with status 400
for bad input, 404 for an unknown dialogue, 413 for a too-large upload):

- `GET /`, `GET /static/{studio.js,studio.css}`: the page;
- `POST /api/sessions` `{"model"?, "example"?}`: a new dialogue on a
  generated CoSaL example, returns its state (`id`, ...);
- `POST /api/sessions/{id}/say` `{"text"}`: a turn, returns it;
- `POST /api/sessions/{id}/undo`: returns `{"turns": n}`;
- `POST /api/sessions/{id}/reset`: returns the state;
- `POST /api/sessions/{id}/image`, the body a PNG or JPEG file: a new
  source image (the dialogue restarts), returns the state;
- `POST /api/sessions/{id}/example` `{"index"}`: a generated example;
- `POST /api/sessions/{id}/model` `{"model"}`: another of the served
  models, on the same image (the dialogue restarts).
"""

import base64
import functools
import importlib.resources
import json
import logging
import threading
import time

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.responses import Response
from starlette.routing import Route

from keras_lbie.studio.edit_session import EditSession
from keras_lbie.studio.edit_session import split_sentences
from keras_lbie.studio.image_io import MAX_IMAGE_PIXELS
from keras_lbie.studio.image_io import decode_image
from keras_lbie.studio.image_io import encode_png
from keras_lbie.studio.session_store import MAX_SESSIONS
from keras_lbie.studio.session_store import SessionStore
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.visualize import STEP_COLORS

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
# Generated examples are drawn at 48 px: CoSaL's size, resized as uploads.
EXAMPLE_SIZE = 48
MAX_EXAMPLE_INDEX = 9999
_STATIC = {
    "studio.js": "text/javascript; charset=utf-8",
    "studio.css": "text/css; charset=utf-8",
}
# The page may load its own files and data URLs, nothing else.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; connect-src 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
}
_log = logging.getLogger("keras_lbie.studio")


class StudioError(Exception):
    """A request the studio refuses, with the HTTP status to answer."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def build_app(
    models,
    max_upload_bytes=MAX_UPLOAD_BYTES,
    max_pixels=MAX_IMAGE_PIXELS,
    max_sessions=MAX_SESSIONS,
):
    """The studio's Starlette app.

    Args:
        models: dict of name → `LBIESegmenter` or `LBIEColorizer`, in the
            order the page lists them; the first is the default.
        max_upload_bytes: positive int, the largest upload accepted.
        max_pixels: positive int, the largest image (width × height).
        max_sessions: positive int, dialogues kept (least recently used
            dropped).

    Returns:
        A `starlette.applications.Starlette`.
    """
    if not isinstance(models, dict) or not models:
        raise ValueError("`models` must be a non-empty dict name → model.")
    check_positive_int(max_upload_bytes, "max_upload_bytes")
    check_positive_int(max_pixels, "max_pixels")
    studio = _Studio(models, max_upload_bytes, max_pixels, max_sessions)
    routes = [
        Route("/", studio.page),
        Route("/static/{name}", studio.static),
        # Browsers ask for it; the page has none.
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/api/sessions", _api(studio.open), methods=["POST"]),
    ]
    for action in ("say", "undo", "reset", "image", "example", "model"):
        routes.append(
            Route(
                f"/api/sessions/{{key}}/{action}",
                _api(getattr(studio, action)),
                methods=["POST"],
            )
        )
    return Starlette(routes=routes)


def _api(handler):
    """Runs `handler(request)` and answers its dict, or an error, as JSON.

    Mistakes a user can make become `{"error": message}`; anything else is
    logged with its traceback and answered with a status 500 and no trace,
    and the server keeps serving.
    """

    @functools.wraps(handler)
    async def endpoint(request):
        try:
            return JSONResponse(await handler(request), headers=_HEADERS)
        except StudioError as error:
            status, message = error.status, str(error)
        except (ValueError, TypeError) as error:
            status, message = 400, str(error)
        except Exception as error:  # noqa: BLE001 - the page gets a message
            _log.exception("lbie studio: %s failed", request.url.path)
            status = 500
            message = (
                f"internal error ({type(error).__name__}); the studio's "
                "log has the details."
            )
        return JSONResponse({"error": message}, status, headers=_HEADERS)

    return endpoint


class _Studio:
    """The handlers, the models and the dialogues behind one lock.

    One lock serialises every model call and dialogue change: Keras'
    compiled functions are not meant for concurrent first calls, and one
    turn at a time already uses the CPU's cores.
    """

    def __init__(self, models, max_upload_bytes, max_pixels, max_sessions):
        self.models = dict(models)
        self.max_upload_bytes = max_upload_bytes
        self.max_pixels = max_pixels
        self.store = SessionStore(max_sessions)
        self.lock = threading.Lock()
        files = importlib.resources.files("keras_lbie.studio") / "static"
        self.files = {name: (files / name).read_bytes() for name in _STATIC}
        self.files["index.html"] = (files / "index.html").read_bytes()

    async def page(self, request):
        return Response(
            self.files["index.html"],
            media_type="text/html; charset=utf-8",
            headers=_HEADERS,
        )

    async def static(self, request):
        name = request.path_params["name"]
        if name not in _STATIC:
            return Response("not found", 404, media_type="text/plain")
        return Response(self.files[name], media_type=_STATIC[name])

    async def open(self, request):
        body = await _json(request)
        name = self._model_name(body.get("model", next(iter(self.models))))
        index = _example_index(body.get("example", 0))
        return await self._locked(self._open, name, index)

    async def say(self, request):
        text = (await _json(request)).get("text")
        if not isinstance(text, str):
            raise StudioError('send {"text": "a sentence"}.')
        key = request.path_params["key"]
        return await self._locked(self._say, key, text)

    async def undo(self, request):
        key = request.path_params["key"]
        return await self._locked(self._undo, key)

    async def reset(self, request):
        key = request.path_params["key"]
        return await self._locked(self._reset, key)

    async def image(self, request):
        data = await _body(request, self.max_upload_bytes, "the image file")
        key = request.path_params["key"]
        return await self._locked(self._upload, key, data)

    async def example(self, request):
        index = _example_index((await _json(request)).get("index"))
        key = request.path_params["key"]
        return await self._locked(self._example, key, index)

    async def model(self, request):
        name = self._model_name((await _json(request)).get("model"))
        key = request.path_params["key"]
        return await self._locked(self._switch_model, key, name)

    async def _locked(self, function, *args):
        def run():
            with self.lock:
                return function(*args)

        return await run_in_threadpool(run)

    def _open(self, name, index):
        dialogue = {"model": name}
        self._load_example(dialogue, index)
        return self._state(self.store.add(dialogue), dialogue)

    def _say(self, key, text):
        start = time.perf_counter()
        session = self._dialogue(key)["session"]
        turn = session.say(text)
        payload = turn_payload(turn, len(session.history))
        payload["server_ms"] = 1000 * (time.perf_counter() - start)
        return payload

    def _undo(self, key):
        session = self._dialogue(key)["session"]
        session.undo()
        return {"turns": len(session.history)}

    def _reset(self, key):
        dialogue = self._dialogue(key)
        dialogue["session"].reset()
        return self._state(key, dialogue)

    def _upload(self, key, data):
        dialogue = self._dialogue(key)
        dialogue["session"].reset(decode_image(data, self.max_pixels))
        dialogue["suggestions"] = []
        return self._state(key, dialogue)

    def _example(self, key, index):
        dialogue = self._dialogue(key)
        self._load_example(dialogue, index)
        return self._state(key, dialogue)

    def _switch_model(self, key, name):
        dialogue = self._dialogue(key)
        source = dialogue["session"].source
        dialogue["session"] = EditSession(self.models[name], source)
        dialogue["model"] = name
        return self._state(key, dialogue)

    def _load_example(self, dialogue, index):
        image, text = generated_example(self.models[dialogue["model"]], index)
        dialogue["session"] = EditSession(self.models[dialogue["model"]], image)
        dialogue["suggestions"] = split_sentences(text)

    def _dialogue(self, key):
        try:
            return self.store.get(key)
        except KeyError as error:
            raise StudioError(error.args[0], status=404) from None

    def _model_name(self, name):
        if name not in self.models:
            raise StudioError(
                f"unknown model {name!r}; this studio serves "
                f"{', '.join(self.models)}."
            )
        return name

    def _state(self, key, dialogue):
        session = dialogue["session"]
        height, width = session.source.shape[:2]
        return {
            "id": key,
            "model": dialogue["model"],
            "models": [
                {"name": name, "kind": model_kind(model)}
                for name, model in self.models.items()
            ],
            "kind": model_kind(session.model),
            "source": data_url(session.source),
            "width": width,
            "height": height,
            "suggestions": dialogue["suggestions"],
            "step_colors": [list(color) for color in STEP_COLORS],
            "max_upload_bytes": self.max_upload_bytes,
            "turns": [
                turn_payload(turn, index + 1)
                for index, turn in enumerate(session.history)
            ],
        }


def model_kind(model):
    """ "colorizer" for an `LBIEColorizer`, else "segmenter"."""
    from keras_lbie.models import LBIEColorizer

    return "colorizer" if isinstance(model, LBIEColorizer) else "segmenter"


def data_url(pixels):
    """A `data:image/png;base64,...` URL of uint8 RGB `pixels`."""
    return "data:image/png;base64," + base64.b64encode(
        encode_png(pixels)
    ).decode("ascii")


def turn_payload(turn, number):
    """The JSON-ready dict the page draws turn `number` (1-based) from."""
    return {
        "number": number,
        "text": turn.text,
        "added": list(turn.added),
        "replaced": list(turn.replaced),
        "description": turn.description,
        "unknown_words": list(turn.unknown_words),
        "image": data_url(turn.image),
        "units": list(turn.units),
        "attended": turn.attended.tolist(),
        "stop_step": turn.stop_step.tolist(),
        "model_ms": 1000 * turn.seconds,
    }


def warm_up(models):
    """Edits an example with each model once, so that the first turn a
    user takes does not wait for TensorFlow to trace the model."""
    for model in models.values():
        image, text = generated_example(model, 0)
        EditSession(model, image).say(split_sentences(text)[0])


def generated_example(model, index):
    """A generated example for `model`: `(uint8 RGB image, its text)`.

    CoSaL's black shapes for a segmenter; for a colorizer the CoSaL
    colorization silhouettes, in one gray, since black has no colour to
    give.
    """
    if model_kind(model) == "colorizer":
        from keras_lbie.datasets import cosal_colorization

        data = cosal_colorization.generate(
            1, image_size=EXAMPLE_SIZE, seed=1, start_index=index
        )
        image = np.repeat(data["gray"][0], 3, axis=-1)
    else:
        from keras_lbie.datasets import cosal

        data = cosal.generate(
            1, image_size=EXAMPLE_SIZE, seed=1, start_index=index
        )
        image = data["image"][0]
    return image, str(data["text"][0])


def _example_index(index):
    if (
        isinstance(index, bool)
        or not isinstance(index, int)
        or not 0 <= index <= MAX_EXAMPLE_INDEX
    ):
        raise StudioError(
            f"an example number is an integer in 0..{MAX_EXAMPLE_INDEX}; "
            f"received {index!r}."
        )
    return index


async def _json(request):
    """The request's JSON object; {} for an empty body."""
    body = await _body(request, 64 * 1024)
    if not body:
        return {}
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise StudioError("the request is not JSON.") from None
    if not isinstance(value, dict):
        raise StudioError("the request must be a JSON object.")
    return value


async def _body(request, limit, what="the request"):
    """The request's body, refused (413) if it exceeds `limit` bytes.

    A refused body is still read to its end, and dropped, so that the
    browser gets the answer rather than a connection reset mid-upload.
    """
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
    if size > limit:
        raise StudioError(
            f"{what} is larger than the {limit / 2**20:g} MB allowed.",
            status=413,
        )
    return b"".join(chunks)
