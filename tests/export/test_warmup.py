"""Warmup requests and tf.Examples share one protobuf encoder; the messages it
builds parse with the official classes."""

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2
from tensorflow_serving.apis import prediction_log_pb2

from keras_mtl.data import _example_encoding as wire
from keras_mtl.export import warmup


def test_prediction_log_parses_with_tensorflow_serving():
    inputs = {"color": np.array(["red", "ünï"], dtype=object), "price": np.array([1.5, 2.0])}
    log = prediction_log_pb2.PredictionLog.FromString(warmup.prediction_log(inputs, "ranker"))
    request = log.predict_log.request
    assert (request.model_spec.name, request.model_spec.signature_name) == (
        "ranker",
        "serving_default",
    )
    assert sorted(request.inputs) == ["color", "price"]
    assert tf.make_ndarray(request.inputs["color"]).tolist() == [b"red", "ünï".encode()]
    np.testing.assert_array_equal(tf.make_ndarray(request.inputs["price"]), [1.5, 2.0])


def test_fields_past_fifteen_take_a_two_byte_tag():
    # TensorProto.uint32_val is field 16, uint64_val 17: packed, so length-delimited
    payload = wire.field(17, b"".join(wire.varint(v) for v in (1, 300, 2**40)))
    assert payload[:2] == bytes([17 << 3 | 2 | 0x80, (17 << 3 | 2) >> 7])
    assert tensor_pb2.TensorProto.FromString(payload).uint64_val == [1, 300, 2**40]
    assert wire.field(1, b"ab") == b"\x0a\x02ab"  # one-byte tag, length, payload
    assert wire.varint(-1) == b"\xff" * 9 + b"\x01"  # int64 -1: ten bytes, two's complement
