"""Requests to, and responses from, TF Serving's REST predict API.

Follows https://www.tensorflow.org/tfx/serving/api_rest: the body is JSON,
tensors are nested lists, and binary strings are `{"b64": ...}` objects.
Needs only the standard library and numpy.
"""

import base64
import ipaddress
import json

import numpy as np

from keras_lbie.serving.request_inputs import IMAGE_INPUT
from keras_lbie.serving.request_inputs import TEXT_INPUT
from keras_lbie.serving.request_inputs import check_model_name
from keras_lbie.serving.request_inputs import check_version
from keras_lbie.serving.request_inputs import standardize_request_inputs
from keras_lbie.utils.validation import check_bool
from keras_lbie.utils.validation import check_positive_int

# JSON has no dtypes: the signatures' output dtypes, restored on parsing
# (the segmenter's, then the colorizer's).
_OUTPUT_DTYPES = {
    "logits": np.float32,
    "labels": np.int32,
    "edited_image": np.uint8,
    "ab": np.float32,
    "colorized_image": np.uint8,
}

# `/` and `:` delimit the parts of `/v1/models/NAME[/versions/N]:predict`
# for TF Serving's router; `?`, `#`, `%` and whitespace mean something else
# in any URL.
_URL_UNSAFE = set("/:?#%") | set(" \t\r\n")


def rest_predict_url(host, model_name, version=None, port=8501):
    """The URL of a model's REST predict endpoint on a TF Serving server.

    Args:
        host: str, the server's host name or IP address, without scheme or
            port (`"localhost"`, `"10.0.0.7"`, `"::1"`).
        model_name: str, the model's name on the server (`--model_name`,
            or `name` of `export_saved_model`).
        version: positive int, or None for the latest version served.
        port: positive int, the server's `--rest_api_port`.

    Returns:
        str, `http://HOST:PORT/v1/models/NAME[/versions/VERSION]:predict`.

    Raises:
        ValueError: if `host` is empty or holds a scheme, port or path,
            `model_name` is empty or holds characters that would change the
            URL (`/ : ? # %` or whitespace), or `version` or `port` is not a
            positive int (`port` at most 65535).

    Example:
    >>> rest_predict_url("localhost", "cosal", version=2)
    'http://localhost:8501/v1/models/cosal/versions/2:predict'
    """
    host = _url_host(host)
    check_model_name(model_name)
    if _URL_UNSAFE & set(model_name):
        raise ValueError(
            "`model_name` must not contain `/ : ? # %` or whitespace: TF "
            f"Serving reads them as URL syntax. Received: {model_name!r}"
        )
    check_version(version)
    check_positive_int(port, "port")
    if port > 65535:
        raise ValueError(f"`port` must be at most 65535. Received: {port}")
    url = f"http://{host}:{port}/v1/models/{model_name}"
    if version is not None:
        url += f"/versions/{version}"
    return url + ":predict"


def rest_predict_request(
    texts, images=None, image_bytes=None, signature_name=None, columnar=False
):
    """The JSON body of a REST predict request to an exported model.

    Pass pixels as `images` (for the `"serving_default"` signature) or
    image files as `image_bytes` (for `"serving_encoded"`), one text per
    image. The body names its signature explicitly. In the default row
    format every instance is one image and its text:

        {"signature_name": "serving_default",
         "instances": [{"image": [[[r, g, b], ...], ...], "text": "..."},
                       ...]}

    and image files are base64-encoded `{"b64": "..."}` objects, as TF
    Serving requires for binary strings in JSON. The columnar format holds
    each input as one batched tensor instead:
    `{"signature_name": ..., "inputs": {"image": [...], "text": [...]}}`.
    Both give the same tensors on the server; the response is in the same
    format as the request (see `parse_rest_predict_response`).

    Pixels are sent as JSON numbers, several bytes of text per pixel:
    prefer `image_bytes` (PNG or JPEG) for large images.

    Args:
        texts: str, or list of str with one description per image.
        images: uint8 array-like (or integers in 0..255), one image
            `(height, width, 3)` or a batch `(batch, height, width, 3)`;
            one size per request. Floats are rejected, not rescaled.
        image_bytes: bytes or list of bytes, the contents of PNG, JPEG,
            GIF, BMP or WebP files; sizes may differ.
        signature_name: str, or None for the signature that takes the kind
            of image given.
        columnar: bool, whether to use the columnar (`"inputs"`) format
            instead of the row (`"instances"`) format.

    Returns:
        dict, the request body: serialise it with `json.dumps` and POST it
        to `rest_predict_url(...)`.

    Raises:
        ValueError: if both or neither of `images` and `image_bytes` are
            given, the batch is empty, an image is malformed, the number of
            texts differs from the number of images, or `signature_name`
            is empty or names the signature of the other kind of image.
        TypeError: if `images` is not an integer array, `texts`,
            `image_bytes` or `signature_name` holds the wrong types, or
            `columnar` is not a bool.

    Example:
    >>> body = rest_predict_request(
    ...     ["the flower is red"], image_bytes=[open("rose.png", "rb").read()]
    ... )
    >>> body["instances"][0]["text"], body["signature_name"]
    ('the flower is red', 'serving_encoded')
    >>> requests.post(rest_predict_url("localhost", "cosal"), json=body)
    """
    check_bool(columnar, "columnar")
    inputs = standardize_request_inputs(
        texts, images, image_bytes, signature_name
    )
    if inputs.image_input == IMAGE_INPUT:
        image_values = inputs.images.tolist()
    else:
        image_values = [_b64_object(data) for data in inputs.images]
    body = {"signature_name": inputs.signature_name}
    if columnar:
        body["inputs"] = {
            inputs.image_input: image_values,
            TEXT_INPUT: inputs.texts,
        }
    else:
        body["instances"] = [
            {inputs.image_input: image, TEXT_INPUT: text}
            for image, text in zip(image_values, inputs.texts, strict=True)
        ]
    return body


def parse_rest_predict_response(response):
    """Turns a REST predict response back into numpy arrays.

    Reads both of TF Serving's formats: row (`{"predictions": [{name:
    value, ...}, ...]}`, the answer to an `"instances"` request) and
    columnar (`{"outputs": {name: value, ...}}`). The exported models'
    outputs get their signature dtypes back (the segmenter's `logits`
    float32, `labels` int32 and `edited_image` uint8, the colorizer's `ab`
    float32 and `colorized_image` uint8); other numeric outputs keep
    numpy's defaults. String outputs become object arrays of `bytes`, as
    `tf.make_ndarray` gives them: `{"b64": ...}` objects are decoded,
    plain strings UTF-8-encoded.

    TF Serving base64-encodes only outputs whose name ends in `_bytes`
    (hence the encoded signature's `edited_png_bytes` and
    `colorized_png_bytes`); it writes other binary strings as raw bytes
    inside a JSON string, which makes the body invalid UTF-8 that strict
    JSON decoders (`requests`' `.json()`) reject. Pass such a body as the
    raw `bytes` (`response.content`): it is decoded here with
    `surrogateescape`, which gives back every byte.

    Args:
        response: the response body, as `bytes` or `str` (JSON text), or as
            the dict already decoded from it.

    Returns:
        dict mapping output names to numpy arrays with the batch axis
        first. A response whose signature has one output, which TF Serving
        leaves unnamed, gives that output's array alone.

    Raises:
        RuntimeError: if the response is TF Serving's error object,
            `{"error": message}`.
        ValueError: if `response` is not valid JSON or has neither a
            `"predictions"` nor an `"outputs"` key, or a row-format
            response's instances name different outputs.
        TypeError: if `response` is not bytes, str or a dict.

    Example:
    >>> reply = requests.post(url, json=rest_predict_request(texts, images))
    >>> outputs = parse_rest_predict_response(reply.content)
    >>> outputs["edited_image"].dtype, outputs["edited_image"].shape
    (dtype('uint8'), (2, 64, 64, 3))
    """
    response = _decode_json(response)
    if "error" in response:
        raise RuntimeError(f"TF Serving returned an error: {response['error']}")
    if "predictions" in response:
        return _parse_rows(response["predictions"])
    if "outputs" in response:
        outputs = response["outputs"]
        if _is_named_tensors(outputs):
            return {
                name: _to_array(value, name) for name, value in outputs.items()
            }
        return _to_array(outputs, None)
    raise ValueError(
        "`response` must have a 'predictions' (row format) or 'outputs' "
        f"(columnar format) key. Received keys: {sorted(response)}"
    )


def _url_host(host):
    if not isinstance(host, str) or not host:
        raise ValueError(f"`host` must be a non-empty str. Received: {host!r}")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        if ipaddress.ip_address(bare).version == 6:
            # An IPv6 address's colons would read as a port separator; a
            # zone index's `%` must itself be escaped (RFC 6874).
            return "[" + bare.replace("%", "%25") + "]"
    except ValueError:
        pass
    if (_URL_UNSAFE | set("[]@")) & set(host):
        raise ValueError(
            "`host` must be a host name or IP address alone, without "
            "scheme, port or path (pass the port as `port`). Received: "
            f"{host!r}"
        )
    return host


def _b64_object(data):
    return {"b64": base64.b64encode(data).decode("ascii")}


def _decode_json(response):
    if isinstance(response, (bytes, bytearray)):
        # Raw binary strings (see the docstring) survive as surrogates.
        response = bytes(response).decode("utf-8", "surrogateescape")
    if isinstance(response, str):
        try:
            response = json.loads(response)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"`response` is not valid JSON: {error}"
            ) from error
    if not isinstance(response, dict):
        raise TypeError(
            "`response` must be the response body (bytes or str) or the "
            f"dict decoded from it. Received: {type(response).__name__}"
        )
    return response


def _is_b64_object(value):
    return (
        isinstance(value, dict)
        and len(value) == 1
        and isinstance(value.get("b64"), str)
    )


def _is_named_tensors(value):
    return isinstance(value, dict) and not _is_b64_object(value)


def _parse_rows(predictions):
    if (
        not isinstance(predictions, list)
        or not predictions
        or not _is_named_tensors(predictions[0])
    ):
        return _to_array(predictions, None)
    names = set(predictions[0])
    for index, prediction in enumerate(predictions):
        if not _is_named_tensors(prediction) or set(prediction) != names:
            received = (
                sorted(prediction)
                if isinstance(prediction, dict)
                else type(prediction).__name__
            )
            raise ValueError(
                f"Prediction {index} of the response does not name the "
                f"outputs {sorted(names)} of prediction 0. Received: "
                f"{received}"
            )
    return {
        name: _to_array([prediction[name] for prediction in predictions], name)
        for name in predictions[0]
    }


def _to_array(value, name):
    value, has_strings = _decode_strings(value)
    if has_strings:
        # numpy's fixed-width `S` dtype would strip trailing NUL bytes;
        # objects keep every byte, as in `tf.make_ndarray`'s string arrays.
        return np.array(value, dtype=object)
    return np.asarray(value, dtype=_OUTPUT_DTYPES.get(name))


def _decode_strings(value):
    """Replaces b64 objects and strings by bytes; says whether any were."""
    if _is_b64_object(value):
        return base64.b64decode(value["b64"]), True
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape"), True
    if isinstance(value, list):
        decoded = [_decode_strings(item) for item in value]
        return [item for item, _ in decoded], any(s for _, s in decoded)
    return value, False
