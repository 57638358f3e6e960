"""Requests to, and responses from, TF Serving's gRPC `Predict` method.

Builds `tensorflow_serving.apis.predict_pb2` messages, from the optional
`tensorflow-serving-api` package (`pip install keras-lbie[serving]`),
imported only when a function here is called so that the rest of
`keras_lbie`, and REST clients, do without it.
"""

import tensorflow as tf

from keras_lbie.serving.request_inputs import IMAGE_INPUT
from keras_lbie.serving.request_inputs import TEXT_INPUT
from keras_lbie.serving.request_inputs import check_model_name
from keras_lbie.serving.request_inputs import check_version
from keras_lbie.serving.request_inputs import standardize_request_inputs


def grpc_predict_request(
    model_name,
    texts,
    images=None,
    image_bytes=None,
    signature_name=None,
    version=None,
):
    """A gRPC `PredictRequest` to an exported segmenter or colorizer.

    Pass pixels as `images` (for the `"serving_default"` signature) or
    image files as `image_bytes` (for `"serving_encoded"`), one text per
    image. The request's inputs are `TensorProto`s: `image`, `DT_UINT8`
    `(batch, height, width, 3)`, or `image_bytes`, `DT_STRING` `(batch,)`,
    and `text`, `DT_STRING` `(batch,)` of UTF-8 bytes. Send it with
    `PredictionServiceStub(channel).Predict(request, timeout)` and read the
    answer with `parse_grpc_predict_response`.

    Args:
        model_name: str, the model's name on the server (`--model_name`,
            or `name` of `export_saved_model`).
        texts: str, or list of str with one description per image.
        images: uint8 array-like (or integers in 0..255), one image
            `(height, width, 3)` or a batch `(batch, height, width, 3)`;
            one size per request. Floats are rejected, not rescaled.
        image_bytes: bytes or list of bytes, the contents of PNG, JPEG,
            GIF, BMP or WebP files; sizes may differ.
        signature_name: str, or None for the signature that takes the kind
            of image given.
        version: positive int, or None for the latest version served.

    Returns:
        A `tensorflow_serving.apis.predict_pb2.PredictRequest`.

    Raises:
        ImportError: if `tensorflow-serving-api` is not installed.
        ValueError: if `model_name` is empty, `version` is not a positive
            int, both or neither of `images` and `image_bytes` are given,
            the batch is empty, an image is malformed, the number of texts
            differs from the number of images, or `signature_name` is
            empty or names the signature of the other kind of image.
        TypeError: if `images` is not an integer array, or `texts`,
            `image_bytes` or `signature_name` holds the wrong types.

    Example:
    >>> images = np.zeros((1, 64, 64, 3), "uint8")
    >>> request = grpc_predict_request(
    ...     "cosal", ["the flower is red"], images=images
    ... )
    >>> channel = grpc.insecure_channel("localhost:8500")
    >>> stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    >>> outputs = parse_grpc_predict_response(stub.Predict(request, 30.0))
    >>> outputs["edited_image"].shape
    (1, 64, 64, 3)
    """
    predict_pb2 = _import_predict_pb2()
    check_model_name(model_name)
    check_version(version)
    inputs = standardize_request_inputs(
        texts, images, image_bytes, signature_name
    )
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = inputs.signature_name
    if version is not None:
        request.model_spec.version.value = version
    num_images = len(inputs.texts)
    if inputs.image_input == IMAGE_INPUT:
        image_tensor = tf.make_tensor_proto(inputs.images, dtype=tf.uint8)
    else:
        image_tensor = tf.make_tensor_proto(
            inputs.images, dtype=tf.string, shape=[num_images]
        )
    request.inputs[inputs.image_input].CopyFrom(image_tensor)
    request.inputs[TEXT_INPUT].CopyFrom(
        tf.make_tensor_proto(
            [text.encode("utf-8") for text in inputs.texts],
            dtype=tf.string,
            shape=[num_images],
        )
    )
    return request


def parse_grpc_predict_response(response):
    """Turns a gRPC `PredictResponse` into numpy arrays.

    Args:
        response: a `tensorflow_serving.apis.predict_pb2.PredictResponse`,
            the return value of `PredictionServiceStub.Predict`.

    Returns:
        dict mapping output names to numpy arrays (`tf.make_ndarray`) with
        the signature's dtypes: for the segmenter, `logits` float32 and
        `labels` int32 and `edited_image` uint8 (`"serving_default"`), or
        `edited_png_bytes` an object array of PNG `bytes` (`"serving_encoded"`);
        for the colorizer, `ab` float32 and `colorized_image` uint8, or
        `colorized_png_bytes`.

    Raises:
        ImportError: if `tensorflow-serving-api` is not installed.
        TypeError: if `response` is not a `PredictResponse`.

    Example:
    >>> response = stub.Predict(grpc_predict_request("cosal", texts, images))
    >>> parse_grpc_predict_response(response)["labels"].dtype
    dtype('int32')
    """
    predict_pb2 = _import_predict_pb2()
    if not isinstance(response, predict_pb2.PredictResponse):
        raise TypeError(
            "`response` must be a tensorflow_serving PredictResponse. "
            f"Received: {type(response).__name__}"
        )
    return {
        name: tf.make_ndarray(tensor)
        for name, tensor in sorted(response.outputs.items())
    }


def _import_predict_pb2():
    try:
        from tensorflow_serving.apis import predict_pb2
    except ImportError as error:
        raise ImportError(
            "gRPC requests need the `tensorflow-serving-api` package: "
            "`pip install keras-lbie[serving]`. REST requests "
            "(`rest_predict_request`) need nothing extra."
        ) from error
    return predict_pb2
