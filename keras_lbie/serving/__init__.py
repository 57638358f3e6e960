"""keras_lbie.serving: TF Serving requests for `keras_lbie.export` models.

- `rest_predict_url(host, model_name, version, port)`: the REST predict
  endpoint, `http://HOST:8501/v1/models/NAME[/versions/N]:predict`.
- `rest_predict_request(texts, images, image_bytes, signature_name,
  columnar)`: the JSON body, row (`"instances"`) or columnar (`"inputs"`)
  format, image files as `{"b64": ...}`.
- `parse_rest_predict_response(response)`: a REST response body to numpy
  arrays with the signatures' dtypes.
- `grpc_predict_request(model_name, texts, images, image_bytes,
  signature_name, version)`: a `PredictRequest` of `TensorProto`s (needs
  `pip install keras-lbie[serving]`).
- `parse_grpc_predict_response(response)`: a `PredictResponse` to numpy
  arrays.

Pixels (`images`, uint8) go to the `"serving_default"` signature and image
files (`image_bytes`) to `"serving_encoded"`, one text per image; inputs
are checked on the client, with errors naming the argument.
"""

from keras_lbie.serving.grpc_requests import grpc_predict_request
from keras_lbie.serving.grpc_requests import parse_grpc_predict_response
from keras_lbie.serving.rest_requests import parse_rest_predict_response
from keras_lbie.serving.rest_requests import rest_predict_request
from keras_lbie.serving.rest_requests import rest_predict_url

__all__ = [
    "grpc_predict_request",
    "parse_grpc_predict_response",
    "parse_rest_predict_response",
    "rest_predict_request",
    "rest_predict_url",
]
