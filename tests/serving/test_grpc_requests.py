"""gRPC payloads: `PredictRequest`s and `PredictResponse`s of TF Serving.

No TF Serving server runs here. Requests go through their wire format
(`SerializeToString`), and their tensors, converted back with
`tf.make_ndarray` as TF Serving converts them, are fed to the exported
signatures; responses are built from the signatures' real outputs.
"""

import sys

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import predict_pb2

from keras_lbie.serving import grpc_predict_request
from keras_lbie.serving import parse_grpc_predict_response
from keras_lbie.serving import rest_predict_request
from tests.serving.images import png
from tests.serving.images import random_image

IMAGE = random_image()


def over_the_wire(message):
    return type(message).FromString(message.SerializeToString())


def shape_of(tensor_proto):
    return [dim.size for dim in tensor_proto.tensor_shape.dim]


def request_tensors(request):
    return {
        name: tf.constant(tf.make_ndarray(tensor))
        for name, tensor in request.inputs.items()
    }


# grpc_predict_request -----------------------------------------------------


def test_pixel_request_fields():
    images = np.stack([IMAGE, IMAGE[::-1]])
    request = over_the_wire(
        grpc_predict_request("cosal", ["a red circle", "é"], images=images)
    )
    assert isinstance(request, predict_pb2.PredictRequest)
    assert request.model_spec.name == "cosal"
    assert request.model_spec.signature_name == "serving_default"
    assert not request.model_spec.HasField("version")
    assert sorted(request.inputs) == ["image", "text"]
    image, text = request.inputs["image"], request.inputs["text"]
    assert image.dtype == types_pb2.DT_UINT8
    assert shape_of(image) == [2, 5, 7, 3]
    np.testing.assert_array_equal(tf.make_ndarray(image), images)
    assert tf.make_ndarray(image).dtype == np.uint8
    assert text.dtype == types_pb2.DT_STRING
    assert shape_of(text) == [2]
    assert list(text.string_val) == [b"a red circle", "é".encode()]


def test_file_request_fields():
    files = [png(IMAGE), png(IMAGE[:2])]
    request = over_the_wire(
        grpc_predict_request("cosal", ["a", "b"], image_bytes=files, version=3)
    )
    assert request.model_spec.name == "cosal"
    assert request.model_spec.signature_name == "serving_encoded"
    assert request.model_spec.HasField("version")
    assert request.model_spec.version.value == 3
    assert sorted(request.inputs) == ["image_bytes", "text"]
    image_bytes = request.inputs["image_bytes"]
    assert image_bytes.dtype == types_pb2.DT_STRING
    assert shape_of(image_bytes) == [2]
    assert list(image_bytes.string_val) == files
    assert shape_of(request.inputs["text"]) == [2]


def test_one_image_is_a_batch_of_one():
    request = grpc_predict_request("cosal", "a", images=IMAGE)
    assert shape_of(request.inputs["image"]) == [1, 5, 7, 3]
    assert shape_of(request.inputs["text"]) == [1]
    request = grpc_predict_request("cosal", "a", image_bytes=png(IMAGE))
    assert shape_of(request.inputs["image_bytes"]) == [1]


def test_explicit_signature_name_is_sent():
    request = grpc_predict_request(
        "cosal", "a", images=IMAGE, signature_name="edit"
    )
    assert request.model_spec.signature_name == "edit"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"model_name": ""}, "`model_name` must be a non-empty str"),
        ({"model_name": None}, "`model_name` must be a non-empty str"),
        ({"version": 0}, "`version` must be a positive integer"),
        ({"version": 1.0}, "`version` must be a positive integer"),
        ({"version": True}, "`version` must be a positive integer"),
    ],
)
def test_rejects_bad_model_spec(kwargs, match):
    kwargs = {"model_name": "cosal", "texts": "a", "images": IMAGE, **kwargs}
    with pytest.raises(ValueError, match=match):
        grpc_predict_request(**kwargs)


def test_same_tensors_as_the_rest_request():
    images = np.stack([IMAGE, IMAGE[::-1]])
    request = grpc_predict_request("cosal", ["a", "b"], images=images)
    body = rest_predict_request(["a", "b"], images=images, columnar=True)
    image = tf.make_ndarray(request.inputs["image"])
    assert image.tolist() == body["inputs"]["image"]
    texts = [text.decode() for text in request.inputs["text"].string_val]
    assert texts == body["inputs"]["text"]


def test_pixel_request_fits_the_default_signature(served, examples):
    request = over_the_wire(
        grpc_predict_request(
            "cosal", examples["text"], images=examples["image"]
        )
    )
    signature = served.signatures[request.model_spec.signature_name]
    outputs = signature(**request_tensors(request))
    expected = served.signatures["serving_default"](
        image=tf.constant(examples["image"]),
        text=tf.constant(examples["text"]),
    )
    for name in ("logits", "labels", "edited_image"):
        np.testing.assert_array_equal(outputs[name], expected[name])
    assert outputs["edited_image"].shape == (2, 36, 36, 3)


def test_file_request_fits_the_encoded_signature(served, examples):
    files = [png(examples["image"][0]), png(examples["image"][1][:, :10])]
    request = over_the_wire(
        grpc_predict_request("cosal", examples["text"], image_bytes=files)
    )
    signature = served.signatures[request.model_spec.signature_name]
    outputs = signature(**request_tensors(request))
    edited = [
        tf.io.decode_png(data).shape for data in outputs["edited_png_bytes"]
    ]
    assert edited == [(36, 36, 3), (36, 10, 3)]


def test_missing_serving_api_names_the_extra(monkeypatch):
    # A None entry makes `import` fail as if the package were missing.
    monkeypatch.setitem(sys.modules, "tensorflow_serving", None)
    monkeypatch.setitem(sys.modules, "tensorflow_serving.apis", None)
    with pytest.raises(ImportError, match=r"pip install keras-lbie\[serving\]"):
        grpc_predict_request("cosal", "a", images=IMAGE)
    with pytest.raises(ImportError, match=r"pip install keras-lbie\[serving\]"):
        parse_grpc_predict_response(predict_pb2.PredictResponse())


# parse_grpc_predict_response ----------------------------------------------


@pytest.mark.parametrize(
    "signature_name", ["serving_default", "serving_encoded"]
)
def test_parses_a_response_of_real_outputs(served, examples, signature_name):
    if signature_name == "serving_default":
        inputs = {"image": tf.constant(examples["image"])}
    else:
        files = [png(image) for image in examples["image"]]
        inputs = {"image_bytes": tf.constant(files)}
    outputs = served.signatures[signature_name](
        text=tf.constant(examples["text"]), **inputs
    )
    response = predict_pb2.PredictResponse()
    response.model_spec.name = "cosal"
    response.model_spec.signature_name = signature_name
    for name, value in outputs.items():
        response.outputs[name].CopyFrom(tf.make_tensor_proto(value.numpy()))
    parsed = parse_grpc_predict_response(over_the_wire(response))
    assert sorted(parsed) == sorted(outputs)
    for name, value in outputs.items():
        assert parsed[name].dtype == value.numpy().dtype
        np.testing.assert_array_equal(parsed[name], value.numpy())
    if signature_name == "serving_default":
        assert parsed["labels"].dtype == np.int32
        assert parsed["edited_image"].dtype == np.uint8
    else:
        assert parsed["edited_png_bytes"].dtype == object
        assert tf.io.decode_png(parsed["edited_png_bytes"][1]).shape == (
            36,
            36,
            3,
        )


@pytest.mark.parametrize(
    "signature_name", ["serving_default", "serving_encoded"]
)
def test_colorizer_requests_and_responses(
    served_colorizer, examples, signature_name
):
    if signature_name == "serving_default":
        kwargs = {"images": examples["image"]}
    else:
        image = examples["image"]
        kwargs = {"image_bytes": [png(image[0]), png(image[1][:, :10])]}
    request = over_the_wire(
        grpc_predict_request("colorizer", examples["text"], **kwargs)
    )
    assert request.model_spec.signature_name == signature_name
    outputs = served_colorizer.signatures[signature_name](
        **request_tensors(request)
    )
    response = predict_pb2.PredictResponse()
    for name, value in outputs.items():
        response.outputs[name].CopyFrom(tf.make_tensor_proto(value.numpy()))
    parsed = parse_grpc_predict_response(over_the_wire(response))
    assert parsed["ab"].dtype == np.float32
    assert parsed["ab"].shape == (2, 48, 48, 2)
    if signature_name == "serving_default":
        assert sorted(parsed) == ["ab", "colorized_image"]
        assert parsed["colorized_image"].dtype == np.uint8
        assert parsed["colorized_image"].shape == (2, 36, 36, 3)
    else:
        assert sorted(parsed) == ["ab", "colorized_png_bytes"]
        shapes = [
            tf.io.decode_png(data).shape
            for data in parsed["colorized_png_bytes"]
        ]
        assert shapes == [(36, 36, 3), (36, 10, 3)]


def test_parse_rejects_other_messages():
    with pytest.raises(TypeError, match="`response` must be a tensorflow"):
        parse_grpc_predict_response(predict_pb2.PredictRequest())
    with pytest.raises(TypeError, match="Received: dict"):
        parse_grpc_predict_response({"outputs": {}})
