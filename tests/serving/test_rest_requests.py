"""REST payloads against https://www.tensorflow.org/tfx/serving/api_rest.

No TF Serving server runs here: `body_to_tensors` turns a request body into
tensors the way TF Serving's `json_tensor.cc` does (row or columnar format,
`{"b64": ...}` objects decoded for `DT_STRING` inputs), and the tests feed
them to the exported signatures. `rapidjson_string` writes strings as TF
Serving writes a response's non-`_bytes` strings: raw bytes, with only
quotes, backslashes and control characters escaped.
"""

import base64
import json

import numpy as np
import pytest
import tensorflow as tf

from keras_lbie.serving import parse_rest_predict_response
from keras_lbie.serving import rest_predict_request
from keras_lbie.serving import rest_predict_url
from tests.serving.images import jpeg
from tests.serving.images import png
from tests.serving.images import random_image

IMAGE = random_image()


def body_to_tensors(body, signature):
    """The input tensors TF Serving builds from a predict request body."""
    body = json.loads(json.dumps(body))
    specs = signature.structured_input_signature[1]
    assert set(body) - {"signature_name"} in ({"instances"}, {"inputs"})
    if "instances" in body:
        for instance in body["instances"]:
            # Each instance must name every input of the signature.
            assert set(instance) == set(specs)
        columns = {
            name: [instance[name] for instance in body["instances"]]
            for name in specs
        }
    else:
        assert set(body["inputs"]) == set(specs)
        columns = body["inputs"]
    return {
        name: tf.constant(decode_b64(columns[name]), dtype=spec.dtype)
        for name, spec in specs.items()
    }


def decode_b64(value):
    if isinstance(value, dict):
        assert list(value) == ["b64"]
        return base64.b64decode(value["b64"], validate=True)
    if isinstance(value, list):
        return [decode_b64(item) for item in value]
    return value


def leaves(value):
    if isinstance(value, list):
        for item in value:
            yield from leaves(item)
    else:
        yield value


def rapidjson_string(data):
    escaped = bytearray(b'"')
    for byte in data:
        if byte in b'"\\':
            escaped += b"\\" + bytes([byte])
        elif byte < 0x20:
            escaped += b"\\u%04x" % byte
        else:
            escaped.append(byte)
    return bytes(escaped + b'"')


# rest_predict_url ---------------------------------------------------------


def test_url_of_the_latest_version():
    assert (
        rest_predict_url("localhost", "cosal")
        == "http://localhost:8501/v1/models/cosal:predict"
    )


def test_url_of_a_version_on_another_port():
    assert (
        rest_predict_url("10.0.0.7", "cosal", version=3, port=9000)
        == "http://10.0.0.7:9000/v1/models/cosal/versions/3:predict"
    )


@pytest.mark.parametrize("host", ["::1", "[::1]"])
def test_url_brackets_ipv6_hosts(host):
    assert (
        rest_predict_url(host, "cosal")
        == "http://[::1]:8501/v1/models/cosal:predict"
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"host": ""}, "`host` must be a non-empty str"),
        ({"host": None}, "`host` must be a non-empty str"),
        ({"host": "http://localhost"}, "`host` must be a host name"),
        ({"host": "localhost:8501"}, "`host` must be a host name"),
        ({"host": "localhost/v1"}, "`host` must be a host name"),
        ({"model_name": ""}, "`model_name` must be a non-empty str"),
        ({"model_name": 7}, "`model_name` must be a non-empty str"),
        ({"model_name": "a/b"}, "`model_name` must not contain"),
        ({"model_name": "a:b"}, "`model_name` must not contain"),
        ({"model_name": "a b"}, "`model_name` must not contain"),
        ({"version": 0}, "`version` must be a positive integer"),
        ({"version": "1"}, "`version` must be a positive integer"),
        ({"version": True}, "`version` must be a positive integer"),
        ({"port": 0}, "`port` must be a positive integer"),
        ({"port": 70000}, "`port` must be at most 65535"),
    ],
)
def test_url_rejects_bad_arguments(kwargs, match):
    kwargs = {"host": "localhost", "model_name": "cosal", **kwargs}
    with pytest.raises(ValueError, match=match):
        rest_predict_url(**kwargs)


# rest_predict_request -----------------------------------------------------


def test_row_format_with_pixels():
    images = np.stack([IMAGE, IMAGE[::-1]])
    body = rest_predict_request(["a red circle", "é"], images=images)
    assert body == {
        "signature_name": "serving_default",
        "instances": [
            {"image": IMAGE.tolist(), "text": "a red circle"},
            {"image": IMAGE[::-1].tolist(), "text": "é"},
        ],
    }
    # DT_UINT8 inputs must be JSON integers (TF Serving's `IsInt`).
    assert all(type(v) is int for v in leaves(body["instances"][0]["image"]))
    assert json.loads(json.dumps(body)) == body


def test_row_format_with_image_files():
    files = [png(IMAGE), jpeg(IMAGE)]
    body = rest_predict_request(["a", "b"], image_bytes=files)
    assert body == {
        "signature_name": "serving_encoded",
        "instances": [
            {
                "image_bytes": {"b64": base64.b64encode(files[0]).decode()},
                "text": "a",
            },
            {
                "image_bytes": {"b64": base64.b64encode(files[1]).decode()},
                "text": "b",
            },
        ],
    }
    decoded = json.loads(json.dumps(body))
    assert [
        base64.b64decode(instance["image_bytes"]["b64"], validate=True)
        for instance in decoded["instances"]
    ] == files


def test_columnar_format():
    body = rest_predict_request("a", images=IMAGE, columnar=True)
    assert body == {
        "signature_name": "serving_default",
        "inputs": {"image": [IMAGE.tolist()], "text": ["a"]},
    }
    body = rest_predict_request(
        ["a", "b"], image_bytes=[png(IMAGE)] * 2, columnar=True
    )
    b64 = {"b64": base64.b64encode(png(IMAGE)).decode()}
    assert body == {
        "signature_name": "serving_encoded",
        "inputs": {"image_bytes": [b64, b64], "text": ["a", "b"]},
    }
    json.dumps(body)


def test_explicit_signature_name_is_sent():
    body = rest_predict_request("a", images=IMAGE, signature_name="edit")
    assert body["signature_name"] == "edit"


def test_columnar_must_be_a_bool():
    with pytest.raises(TypeError, match="`columnar` must be a bool"):
        rest_predict_request("a", images=IMAGE, columnar="yes")


@pytest.mark.parametrize("columnar", [False, True], ids=["row", "columnar"])
def test_pixel_request_fits_the_default_signature(served, examples, columnar):
    signature = served.signatures["serving_default"]
    body = rest_predict_request(
        examples["text"], images=examples["image"], columnar=columnar
    )
    inputs = body_to_tensors(body, served.signatures[body["signature_name"]])
    np.testing.assert_array_equal(inputs["image"], examples["image"])
    assert inputs["text"].numpy().tolist() == [
        text.encode() for text in examples["text"]
    ]
    outputs = signature(**inputs)
    expected = signature(
        image=tf.constant(examples["image"]),
        text=tf.constant(examples["text"]),
    )
    for name in ("logits", "labels", "edited_image"):
        np.testing.assert_array_equal(outputs[name], expected[name])
    assert outputs["edited_image"].shape == (2, 36, 36, 3)


@pytest.mark.parametrize("columnar", [False, True], ids=["row", "columnar"])
def test_file_request_fits_the_encoded_signature(served, examples, columnar):
    files = [png(examples["image"][0]), png(examples["image"][1][:12])]
    body = rest_predict_request(
        examples["text"], image_bytes=files, columnar=columnar
    )
    inputs = body_to_tensors(body, served.signatures[body["signature_name"]])
    assert inputs["image_bytes"].numpy().tolist() == files
    outputs = served.signatures["serving_encoded"](**inputs)
    edited = [
        tf.io.decode_png(data).shape for data in outputs["edited_png_bytes"]
    ]
    assert edited == [(36, 36, 3), (12, 36, 3)]


# parse_rest_predict_response ----------------------------------------------


def test_parses_a_row_format_response():
    response = {
        "predictions": [
            {
                "logits": [[[0.5, -1.0]]],
                "labels": [[0]],
                "edited_image": [[[255, 0, 0]]],
            },
            {
                "logits": [[[2.0, 1.5]]],
                "labels": [[1]],
                "edited_image": [[[0, 0, 255]]],
            },
        ]
    }
    outputs = parse_rest_predict_response(response)
    assert sorted(outputs) == ["edited_image", "labels", "logits"]
    assert outputs["logits"].dtype == np.float32
    assert outputs["labels"].dtype == np.int32
    assert outputs["edited_image"].dtype == np.uint8
    np.testing.assert_array_equal(
        outputs["logits"], [[[[0.5, -1.0]]], [[[2.0, 1.5]]]]
    )
    np.testing.assert_array_equal(outputs["labels"], [[[0]], [[1]]])
    np.testing.assert_array_equal(
        outputs["edited_image"], [[[[255, 0, 0]]], [[[0, 0, 255]]]]
    )


def test_parses_a_columnar_response_with_b64_strings():
    response = {
        "outputs": {
            "logits": [[[[0.25]]]],
            "edited_png_bytes": [
                {"b64": base64.b64encode(b"\x89PNG").decode()}
            ],
        }
    }
    outputs = parse_rest_predict_response(json.dumps(response))
    assert outputs["logits"].dtype == np.float32
    assert outputs["logits"].shape == (1, 1, 1, 1)
    assert outputs["edited_png_bytes"].dtype == object
    assert outputs["edited_png_bytes"].tolist() == [b"\x89PNG"]


def test_plain_strings_become_utf8_bytes():
    outputs = parse_rest_predict_response(
        '{"predictions": [{"word": "café", "n": 1}, {"word": "a", "n": 2}]}'
    )
    assert outputs["word"].tolist() == ["café".encode(), b"a"]
    # Outputs the segmenter does not have keep numpy's default dtypes.
    assert outputs["n"].dtype == np.int64


def test_parses_non_finite_numbers():
    body = b'{"outputs": {"logits": [NaN, Infinity, -Infinity], "x": [1]}}'
    outputs = parse_rest_predict_response(body)
    assert np.isnan(outputs["logits"][0])
    np.testing.assert_array_equal(outputs["logits"][1:], [np.inf, -np.inf])


def test_an_unnamed_single_output_is_returned_alone():
    # TF Serving omits the name when a signature has one output.
    np.testing.assert_array_equal(
        parse_rest_predict_response({"predictions": [3.5, 4.0]}), [3.5, 4.0]
    )
    np.testing.assert_array_equal(
        parse_rest_predict_response({"outputs": [[1, 2]]}), [[1, 2]]
    )
    single = parse_rest_predict_response({"outputs": {"b64": "AAE="}})
    assert single.shape == ()
    assert single.item() == b"\x00\x01"


def test_raw_binary_strings_survive_when_parsed_from_bytes():
    # An output whose name does not end in `_bytes` is written by TF
    # Serving into the JSON string as it is: every byte value, invalid
    # UTF-8.
    data = bytes(range(256)) + "é".encode()
    body = b'{"outputs": {"raw_png": [' + rapidjson_string(data) + b"]"
    body += b', "logits": [[0.5]]}}'
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    outputs = parse_rest_predict_response(body)
    assert outputs["raw_png"].tolist() == [data]


def test_parses_real_outputs_written_as_tf_serving_writes_them(
    served, examples
):
    outputs = served.signatures["serving_default"](
        image=tf.constant(examples["image"]),
        text=tf.constant(examples["text"]),
    )
    arrays = {name: value.numpy() for name, value in outputs.items()}
    rows = [
        {name: value[i].tolist() for name, value in arrays.items()}
        for i in range(2)
    ]
    parsed = parse_rest_predict_response(json.dumps({"predictions": rows}))
    assert sorted(parsed) == sorted(arrays)
    for name, value in arrays.items():
        assert parsed[name].dtype == value.dtype
        np.testing.assert_array_equal(parsed[name], value)


def test_parses_real_pngs_sent_as_base64(served, examples):
    outputs = served.signatures["serving_encoded"](
        image_bytes=tf.constant([png(image) for image in examples["image"]]),
        text=tf.constant(examples["text"]),
    )
    pngs = outputs["edited_png_bytes"].numpy().tolist()
    # The output's name ends in `_bytes`: TF Serving base64-encodes it.
    body = {
        "predictions": [
            {
                "edited_png_bytes": {"b64": base64.b64encode(data).decode()},
                "logits": logits.tolist(),
            }
            for data, logits in zip(
                pngs, outputs["logits"].numpy(), strict=True
            )
        ]
    }
    parsed = parse_rest_predict_response(json.dumps(body))
    assert parsed["edited_png_bytes"].tolist() == pngs
    np.testing.assert_array_equal(parsed["logits"], outputs["logits"])
    assert tf.io.decode_png(parsed["edited_png_bytes"][0]).shape == (36, 36, 3)


# The colorizer ------------------------------------------------------------


@pytest.mark.parametrize("columnar", [False, True], ids=["row", "columnar"])
def test_requests_fit_the_colorizers_signatures(
    served_colorizer, examples, columnar
):
    files = [png(examples["image"][0]), png(examples["image"][1][:12])]
    outputs = {}
    for kwargs in ({"images": examples["image"]}, {"image_bytes": files}):
        body = rest_predict_request(
            examples["text"], columnar=columnar, **kwargs
        )
        signature = served_colorizer.signatures[body["signature_name"]]
        outputs[body["signature_name"]] = signature(
            **body_to_tensors(body, signature)
        )
    pixels, encoded = outputs["serving_default"], outputs["serving_encoded"]
    assert pixels["ab"].shape == (2, 48, 48, 2)
    assert pixels["colorized_image"].shape == (2, 36, 36, 3)
    colorized = [
        tf.io.decode_png(data).shape for data in encoded["colorized_png_bytes"]
    ]
    assert colorized == [(36, 36, 3), (12, 36, 3)]


@pytest.mark.parametrize(
    "signature_name", ["serving_default", "serving_encoded"]
)
def test_parses_the_colorizers_outputs_with_their_dtypes(
    served_colorizer, examples, signature_name
):
    if signature_name == "serving_default":
        inputs = {"image": tf.constant(examples["image"])}
    else:
        files = [png(image) for image in examples["image"]]
        inputs = {"image_bytes": tf.constant(files)}
    outputs = served_colorizer.signatures[signature_name](
        text=tf.constant(examples["text"]), **inputs
    )
    arrays = {name: value.numpy() for name, value in outputs.items()}
    # TF Serving base64-encodes the `_bytes` outputs, writes the rest as
    # JSON numbers.
    rows = [
        {
            name: (
                {"b64": base64.b64encode(value[i]).decode()}
                if name.endswith("_bytes")
                else value[i].tolist()
            )
            for name, value in arrays.items()
        }
        for i in range(2)
    ]
    parsed = parse_rest_predict_response(json.dumps({"predictions": rows}))
    assert sorted(parsed) == sorted(arrays)
    for name, value in arrays.items():
        assert parsed[name].dtype == value.dtype, name
        np.testing.assert_array_equal(parsed[name], value)
    assert parsed["ab"].dtype == np.float32
    if signature_name == "serving_default":
        assert parsed["colorized_image"].dtype == np.uint8


def test_an_error_response_raises_with_the_servers_message():
    with pytest.raises(RuntimeError, match="TF Serving returned an error: "):
        parse_rest_predict_response(
            {"error": "`text` must hold one description per image."}
        )


@pytest.mark.parametrize(
    "response, error, match",
    [
        ("{not json", ValueError, "`response` is not valid JSON"),
        ({"result": [1.0]}, ValueError, "'predictions'.*'outputs'.*result"),
        ([1, 2], TypeError, "`response` must be the response body"),
        (None, TypeError, "`response` must be the response body"),
        (
            {"predictions": [{"a": 1}, {"b": 2}]},
            ValueError,
            r"Prediction 1 of the response does not name.*\['b'\]",
        ),
        (
            {"predictions": [{"a": 1}, 2]},
            ValueError,
            "Prediction 1 of the response does not name.*int",
        ),
    ],
    ids=[
        "invalid_json",
        "no_predictions",
        "list",
        "none",
        "different_names",
        "mixed",
    ],
)
def test_bad_responses_raise(response, error, match):
    with pytest.raises(error, match=match):
        parse_rest_predict_response(response)
