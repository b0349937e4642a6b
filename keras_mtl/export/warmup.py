"""TF Serving warmup records: `assets.extra/tf_serving_warmup_requests`.

TF Serving replays the `PredictionLog` records of that TFRecord file when it
loads a version, so the first real requests do not pay for graph
initialisation. The records are `tensorflow.serving.PredictionLog` messages
holding a `PredictLog` whose `PredictRequest` carries the raw features.

The messages are encoded here from their public field numbers (see
tensorflow_serving/apis/prediction_log.proto, predict.proto, model.proto) by
the protobuf encoder the tf.Example writer uses
(`keras_mtl.data._example_encoding`), with TensorFlow's own `TensorProto` for
the values. This keeps the export free of the `tensorflow-serving-api`
package, whose wheels pin a `tensorflow` distribution (installing it next to
`tensorflow-cpu` or a nightly pulls a second TensorFlow). The tests parse the
file with `tensorflow-serving-api`'s own classes.
"""

import os
from collections.abc import Mapping
from typing import Optional
from typing import Union

import numpy as np
import tensorflow as tf

from keras_mtl.data import _example_encoding as wire
from keras_mtl.export.layout import WARMUP_FILE
from keras_mtl.export.serving_inputs import num_rows

# Field numbers of the TF Serving messages written here.
_PREDICTION_LOG_PREDICT_LOG = 6  # PredictionLog.predict_log
_PREDICT_LOG_REQUEST = 1  # PredictLog.request
_REQUEST_MODEL_SPEC = 1  # PredictRequest.model_spec
_REQUEST_INPUTS = 2  # PredictRequest.inputs, map<string, TensorProto>
_MODEL_SPEC_NAME = 1  # ModelSpec.name
_MODEL_SPEC_SIGNATURE_NAME = 3  # ModelSpec.signature_name
_MAP_KEY, _MAP_VALUE = 1, 2


def tensor_proto(values):
    """A `TensorProto` of one raw feature column (strings, ints or floats)."""
    values = np.asarray(values)
    if values.dtype.kind in "OUS":
        values = values.astype(object)
        return tf.make_tensor_proto(values, dtype=tf.string)
    return tf.make_tensor_proto(values)


def predict_request(inputs, model_name, signature_name="serving_default"):
    """A serialized `tensorflow.serving.PredictRequest`.

    Args:
        inputs: `{input name: array}`, rows along the first axis.
        model_name: the model's name on the server (its base_dir folder name).
        signature_name: the signature to call.
    """
    spec = wire.field(_MODEL_SPEC_NAME, model_name.encode()) + wire.field(
        _MODEL_SPEC_SIGNATURE_NAME, signature_name.encode()
    )
    request = wire.field(_REQUEST_MODEL_SPEC, spec)
    for name in sorted(inputs):  # sorted keys: a deterministic encoding
        entry = wire.field(_MAP_KEY, name.encode()) + wire.field(
            _MAP_VALUE, tensor_proto(inputs[name]).SerializeToString()
        )
        request += wire.field(_REQUEST_INPUTS, entry)
    return request


def prediction_log(inputs, model_name, signature_name="serving_default"):
    """A serialized `tensorflow.serving.PredictionLog` of one predict request."""
    request = predict_request(inputs, model_name, signature_name)
    return wire.field(_PREDICTION_LOG_PREDICT_LOG, wire.field(_PREDICT_LOG_REQUEST, request))


def write_warmup_requests(
    saved_model_dir: Union[str, os.PathLike],
    examples: Mapping[str, np.ndarray],
    model_name: Optional[str] = None,
    signature_name: str = "serving_default",
) -> str:
    """Writes warmup requests for the example rows into the SavedModel.

    One request per row (batch 1) and, for more than one row, one request with
    all rows, so both the single-row and the batched paths are warm.

    Args:
        saved_model_dir: the version folder (`base_dir/<version>`).
        examples: `{input name: array}` of a few rows, the raw values
            `keras_mtl.data.features_to_arrays` gives.
        model_name: the name TF Serving serves the model under; defaults to
            the name of the folder holding the version folders.
        signature_name: the signature the requests call.

    Returns:
        The path of the warmup file.
    """
    rows = num_rows(examples)
    if model_name is None:
        model_name = os.path.basename(os.path.dirname(os.path.abspath(saved_model_dir)))
    batches = [slice(i, i + 1) for i in range(rows)]
    if rows > 1:
        batches.append(slice(0, rows))
    path = os.path.join(saved_model_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for batch in batches:
            inputs = {name: np.asarray(values)[batch] for name, values in examples.items()}
            writer.write(prediction_log(inputs, model_name, signature_name))
    return path
