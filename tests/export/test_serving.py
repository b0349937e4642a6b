"""Every builder, over every feature option, served three ways: SavedModel in a
fresh process, warmup, ONNX (the parity matrix: tests/export/feature_options).

One subprocess (`serving_process`) loads every builder's SavedModel (a TF
import costs seconds) while `saved_model_cli` runs beside it; the parametrized
test then checks each builder's outputs from the SavedModel and from ONNX
Runtime against Keras.
"""

import json
import os
import subprocess
import sys

import numpy as np
import onnxruntime
import pytest
import tensorflow as tf
from google.protobuf import json_format
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_log_pb2

import keras_mtl
from keras_mtl.export import warmup
from tests.export import feature_options
from tests.export.serving_process import serve_in_fresh_process
from tests.models import builder_cases

IDS = [b.__name__ for b in builder_cases.BUILDERS]
WARMUP_ROWS = 3
ATOL = 1e-5


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Exports every builder (every feature option: tests/export/feature_options),
    serves them in one fresh process, runs ONNX."""
    tmp = tmp_path_factory.mktemp("serving")
    df = feature_options.frame()
    feats = feature_options.features(df)
    x = feature_options.arrays(df, feats)
    rows = feature_options.arrays(df.head(WARMUP_ROWS), feats)
    jobs, results = {}, {}
    for builder in builder_cases.BUILDERS:
        name = builder.__name__
        model = feature_options.moved(builder_cases.build(builder, feats)[0])
        path = keras_mtl.export.export_saved_model(model, str(tmp / name), examples=rows)
        jobs[name] = {"path": path, "calls": {"all": x}}
        results[name] = {"path": path, "keras": model.predict(x, verbose=0)}
        results[name]["onnx_export"] = keras_mtl.export.export_onnx(
            model, str(tmp / f"{name}.onnx"), examples=x
        )
    _example_signature_jobs(tmp, builder_cases.frame(), jobs, results)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    first = results[IDS[0]]["path"]
    cli = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "saved_model_cli"),
            "show",
            "--dir",
            first,
            "--tag_set",
            "serve",
            "--signature_def",
            "serving_default",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    served = serve_in_fresh_process(jobs, tmp)
    cli_out, cli_err = cli.communicate(timeout=300)
    assert cli.returncode == 0, cli_err[-3000:]
    for name, result in served.items():
        results[name]["saved_model"] = result["calls"]["all"]
        results[name]["calls"] = result["calls"]
    return {"results": results, "x": x, "rows": rows, "saved_model_cli": cli_out}


def _example_signature_jobs(tmp, raw, jobs, results):
    """An MMoE with a bucketized price, exported with `predict_examples`
    (records parsed by the specs, and by the layout read from the inputs)."""
    specs = keras_mtl.features.adapt(
        [s.replace(buckets=4) if s.name == "price" else s for s in builder_cases.features(raw)], raw
    )
    model = feature_options.moved(builder_cases.build(keras_mtl.MMoE, specs)[0])
    files = keras_mtl.data.write_tfrecords(raw, str(tmp / "rows"), specs)
    records = np.array([r.numpy() for r in tf.data.TFRecordDataset(files)], dtype=object)
    no_price = tf.train.Example.FromString(records[0])
    del no_price.features.feature["price"]
    inputs = keras_mtl.data.features_to_arrays(raw, specs)
    for name, features in (("examples_by_specs", specs), ("examples_by_inputs", None)):
        path = keras_mtl.export.export_saved_model(
            model, str(tmp / name), example_signature=True, features=features
        )
        jobs[name] = {
            "path": path,
            "signature": "predict_examples",
            "calls": {
                "all": {"examples": records},
                "no_price": {"examples": np.array([no_price.SerializeToString()], dtype=object)},
            },
        }
        jobs[name + "_default"] = {"path": path, "calls": {"all": inputs}}
        for key in (name, name + "_default"):
            results[key] = {"path": path, "keras": model.predict(inputs, verbose=0)}


@pytest.mark.parametrize("name", ["examples_by_specs", "examples_by_inputs"])
def test_predict_examples_equals_serving_default_without_keras_mtl(served, name):
    by_examples = served["results"][name]
    by_tensors = served["results"][name + "_default"]["saved_model"]
    _assert_close(by_examples["saved_model"], by_examples["keras"])
    for task, values in by_tensors.items():  # the same rows, the same outputs
        np.testing.assert_array_equal(by_examples["saved_model"][task], values)
    message = by_examples["calls"]["no_price"]
    assert isinstance(message, str) and "Feature: price (data type: float) is required" in message


def _assert_close(got, expected):
    assert sorted(got) == sorted(expected)  # outputs named by task
    for task, values in expected.items():
        np.testing.assert_allclose(np.asarray(got[task]).reshape(values.shape), values, atol=ATOL)


@pytest.mark.parametrize("builder", builder_cases.BUILDERS, ids=IDS)
def test_builder_serves_from_saved_model_warmup_and_onnx(builder, served):
    result = served["results"][builder.__name__]
    keras_out = result["keras"]
    # SavedModel loaded where keras_mtl cannot be imported
    _assert_close(result["saved_model"], keras_out)
    # TF Serving warmup: PredictionLogs parsed with tensorflow_serving's classes
    records = list(
        tf.data.TFRecordDataset(
            os.path.join(result["path"], warmup.WARMUP_FILE)
        ).as_numpy_iterator()
    )
    assert len(records) == WARMUP_ROWS + 1  # one per row, then all rows
    for i, record in enumerate(records):
        log = prediction_log_pb2.PredictionLog.FromString(record)
        request = log.predict_log.request
        assert request.model_spec.name == builder.__name__
        assert request.model_spec.signature_name == "serving_default"
        batch = slice(i, i + 1) if i < WARMUP_ROWS else slice(0, WARMUP_ROWS)
        assert sorted(request.inputs) == sorted(served["rows"])
        for name, values in served["rows"].items():
            parsed = tf.make_ndarray(request.inputs[name])
            expected = values[batch]
            if expected.dtype == object:
                expected = expected.astype(str).astype(object)
                parsed = np.vectorize(bytes.decode, otypes=[object])(parsed)
            np.testing.assert_array_equal(parsed, expected)
    # ONNX: the export's own check, then ONNX Runtime on the written file (the
    # hashed features need the extensions' library, as the export says)
    export = result["onnx_export"]
    assert sorted(export.max_abs_diff) == [1, feature_options.ROWS]
    assert max(export.max_abs_diff.values()) <= ATOL
    assert export.custom_ops == "onnxruntime_extensions"
    session = onnxruntime.InferenceSession(
        export.path, export.session_options(), providers=["CPUExecutionProvider"]
    )
    assert sorted(i.name for i in session.get_inputs()) == sorted(served["x"])
    names = [o.name for o in session.get_outputs()]
    feed = feature_options.onnx_feed(served["x"])
    _assert_close(dict(zip(names, session.run(names, feed))), keras_out)


def test_show_signature_prints_like_saved_model_cli(served, capsys):
    path = served["results"][IDS[0]]["path"]
    rows = served["rows"]
    bodies = keras_mtl.export.show_signature(path, examples=rows)
    printed = capsys.readouterr().out
    assert printed.startswith(served["saved_model_cli"].strip() + "\n")
    rest = bodies["rest"]
    assert rest["path"] == f"/v1/models/{IDS[0]}/versions/1:predict"
    json.dumps(bodies)  # both bodies are plain JSON
    assert len(rest["body"]["instances"]) == WARMUP_ROWS
    assert rest["body"]["instances"][1]["color"] == rows["color"][1]
    assert rest["body"]["instances"][2]["history"] == list(rows["history"][2])
    assert rest["body"]["instances"][0]["vec"] == pytest.approx(rows["vec"][0].tolist())
    request = json_format.ParseDict(bodies["grpc"]["body"], predict_pb2.PredictRequest())
    assert request.model_spec.name == IDS[0]
    for name, values in rows.items():
        parsed = tf.make_ndarray(request.inputs[name])
        if values.dtype == object:  # UTF-8 bytes in the request, str in the rows
            parsed = np.vectorize(lambda b: b.decode("utf-8"), otypes=[object])(parsed)
            values = feature_options.onnx_feed({name: values})[name]
        np.testing.assert_array_equal(parsed, values.astype(parsed.dtype))
    placeholder = keras_mtl.export.show_signature(path, print_fn=None)
    assert placeholder["rest"]["body"]["instances"][0]["history"] == ["", "", ""]


def test_export_checks_examples(served, tmp_path):
    feats = feature_options.features(feature_options.frame())
    model, _ = builder_cases.build(keras_mtl.SharedBottom, feats)
    rows = dict(served["rows"])
    del rows["color"]
    with pytest.raises(ValueError, match=r"lack inputs \['color'\]"):
        keras_mtl.export.export_saved_model(model, str(tmp_path / "sb"), examples=rows)
    assert not (tmp_path / "sb").exists()
    with pytest.raises(ValueError, match="same, non-zero number of rows"):
        keras_mtl.export.export_onnx(
            model, str(tmp_path / "m.onnx"), examples={**served["rows"], "color": np.array([])}
        )
    with pytest.raises(ValueError, match="opset=19"):
        keras_mtl.export.export_onnx(model, str(tmp_path / "m.onnx"), opset=19)
