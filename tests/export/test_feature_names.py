"""The serving contract: feature names as the DataFrame has them, end to end.

One module fixture trains and exports (with warmup records) a model on the
columns `capital-loss`, `work class`, `2nd_id`, `_id` and `x.y z(1)`, then a
hypothesis property collects generated names and values (each case built,
fitted one step and exported, or refused by the spec constructor); ONE fresh
process where keras_mtl cannot be imported serves all of them, replays the
warmup requests and sends the awkward requests (OOV, empty string, batch of
one, `[batch, 1]`, int as float, NaN).
"""

import json

import hypothesis
import numpy as np
import onnxruntime
import pandas as pd
import pytest
import tensorflow as tf
from hypothesis import strategies as st
from tensorflow.core.function.polymorphism.function_type import sanitize_arg_name

import keras_mtl
from keras_mtl.export import signature
from tests.export.serving_process import serve_in_fresh_process

ROWS = 16
ATOL = 1e-5
COLUMNS = ("capital-loss", "work class", "2nd_id", "_id", "x.y z(1)")
# characters of generated names: ASCII and non-ASCII letters, digits and
# the punctuation DataFrame columns carry
NAME_ALPHABET = st.sampled_from(list("abcXYZ019_-. ():/") + ["é", "ß", "ж", "名"])
ASCII_ALPHABET = st.sampled_from(list("abcXYZ019_-. ():"))
# three of four names drawn from ASCII alone, so most cases serve
NAMES = st.one_of(
    *[st.text(ASCII_ALPHABET, min_size=1, max_size=6)] * 3,
    st.text(NAME_ALPHABET, min_size=1, max_size=6),
)


def _refused(name):
    """The rule of keras_mtl.features.names, restated for the oracle."""
    return any(not (c.isascii() and c.isprintable()) or c == "/" for c in name)


def _frame(rng, rows=ROWS):
    return pd.DataFrame(
        {
            "capital-loss": rng.lognormal(size=rows),
            "work class": rng.choice(["Private", "State-gov", "Self-emp"], rows),
            "2nd_id": rng.randint(0, 5, rows),
            "_id": rng.choice(["a", "b"], rows),
            "x.y z(1)": rng.normal(size=rows),
            "y": rng.randint(0, 2, rows).astype("float32"),
        }
    )


def _fit_one_step(model, df, feats):
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01))
    data = keras_mtl.data.df_to_dataset(df, feats, ["y"], batch_size=len(df))
    model.fit(data, epochs=1, verbose=0)
    return model


def _awkward_model(tmp):
    df = _frame(np.random.RandomState(0))
    feats = keras_mtl.features.adapt(
        [
            keras_mtl.DenseFeat("capital-loss", log1p=True, normalize=True),
            keras_mtl.SparseFeat("work class", embedding_dim=3),
            keras_mtl.SparseFeat("2nd_id", embedding_dim=3),
            keras_mtl.SparseFeat("_id", embedding_dim=3),
            keras_mtl.DenseFeat("x.y z(1)"),
        ],
        df,
    )
    model = keras_mtl.MMoE(
        feats, task_names=("y",), num_experts=2, expert_units=(4,), tower_units=(4,)
    )
    _fit_one_step(model, df, feats)
    x = keras_mtl.data.features_to_arrays(df, feats)
    rows = keras_mtl.data.features_to_arrays(df.head(3), feats)
    path = keras_mtl.export.export_saved_model(model, str(tmp / "census"), examples=rows)
    model.save(str(tmp / "census.keras"))
    return model, feats, x, rows, path


def _requests(x):
    """The awkward requests, keyed as a client sends them."""
    row0 = {k: v[:1] for k, v in x.items()}
    oov = {k: np.concatenate([v, v]) for k, v in row0.items()}
    oov["work class"] = np.array(["never-seen", ""], dtype=object)
    return {
        "all_rows": x,
        "batch_of_one": row0,
        "oov_and_empty": oov,
        "column_2d": {**x, "capital-loss": x["capital-loss"].reshape(-1, 1)},
        "int_as_float": {**x, "2nd_id": x["2nd_id"].astype("float32")},
        "nan": {
            **x,
            "capital-loss": np.where(np.arange(ROWS) == 2, np.nan, x["capital-loss"]).astype(
                "float32"
            ),
        },
    }


@st.composite
def _cases(draw):
    names = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
    kinds = [draw(st.sampled_from(("dense", "string", "int"))) for _ in names]
    values = {}
    for name, kind in zip(names, kinds):
        if kind == "dense":
            element = st.floats(-1e3, 1e3, allow_nan=False, width=32)
        elif kind == "string":
            element = st.text(NAME_ALPHABET, max_size=3)
        else:
            element = st.integers(-3, 3)
        # adapt needs one non-missing value ("" and the id 0 are padding)
        column = st.lists(element, min_size=4, max_size=4)
        values[name] = draw(column.filter(lambda v: any(x not in ("", 0) for x in v)))
    return list(zip(names, kinds)), values


def _run_case(index, case, tmp):
    """Builds, fits one step and exports a case, or records its refusal."""
    spec_kinds, values = case
    df = pd.DataFrame(values)
    df["y"] = np.arange(len(df)) % 2
    refused = [name for name, _ in spec_kinds if _refused(name)]
    try:
        specs = [
            keras_mtl.DenseFeat(name)
            if kind == "dense"
            else keras_mtl.SparseFeat(name, embedding_dim=2)
            for name, kind in spec_kinds
        ]
    except ValueError as error:
        return {"names": spec_kinds, "refused": refused, "error": str(error)}
    assert not refused, f"{refused} were accepted"
    feats = keras_mtl.features.adapt(specs, df)
    internal = [sanitize_arg_name(name) for name, _ in spec_kinds]
    if len(set(internal)) < len(internal):  # two names a Python client cannot tell apart
        with pytest.raises(ValueError, match="both become"):
            keras_mtl.SharedBottom(feats, task_names=("y",), bottom_units=(4,))
        return {"names": spec_kinds, "refused": [], "collision": True}
    model = keras_mtl.SharedBottom(feats, task_names=("y",), bottom_units=(4,), tower_units=())
    _fit_one_step(model, df, feats)
    x = keras_mtl.data.features_to_arrays(df, feats)
    path = keras_mtl.export.export_saved_model(model, str(tmp / f"case{index}"))
    return {
        "names": spec_kinds,
        "refused": [],
        "x": x,
        "path": path,
        "keras": model.predict(x, verbose=0),
    }


def _collect_cases(tmp):
    cases = []

    @hypothesis.settings(
        max_examples=8,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=_cases())
    @hypothesis.example(case=([("naïve", "string")], {"naïve": ["a", "b", "a", ""]}))
    @hypothesis.example(case=([("a/b", "dense")], {"a/b": [1.0, 2.0, 3.0, 4.0]}))
    @hypothesis.example(
        case=(
            [("a-b", "dense"), ("a_b", "int")],
            {"a-b": [1.0, 2.0, 3.0, 4.0], "a_b": [1, 2, 1, 2]},
        )
    )
    @hypothesis.example(
        case=(
            [("1 .-x", "int"), ("capital-loss", "dense"), (" (a):b", "string")],
            {
                "1 .-x": [1, 2, 1, 2],
                "capital-loss": [1.0, 2.0, 3.0, 4.0],
                " (a):b": ["é", "", "x", "é"],
            },
        )
    )
    def collect(case):
        cases.append(_run_case(len(cases), case, tmp))

    collect()
    return cases


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("names")
    model, feats, x, rows, path = _awkward_model(tmp)
    requests = _requests(x)
    cases = _collect_cases(tmp)
    jobs = {"census": {"path": path, "calls": requests, "warmup": True}}
    for i, case in enumerate(cases):
        if "path" in case:
            jobs[f"case{i}"] = {"path": case["path"], "calls": {"all": case["x"]}}
    results = serve_in_fresh_process(jobs, tmp)
    return {
        "model": model,
        "feats": feats,
        "x": x,
        "rows": rows,
        "path": path,
        "requests": requests,
        "census": results["census"],
        "cases": cases,
        "case_results": results,
        "tmp": tmp,
    }


def _keras(model, inputs):
    return {
        k: np.asarray(v)
        for k, v in model({k: tf.constant(v) for k, v in inputs.items()}, training=False).items()
    }


def _assert_close(got, expected):
    assert isinstance(got, dict), got  # an error message otherwise
    assert sorted(got) == sorted(expected)
    for task, values in expected.items():
        np.testing.assert_allclose(np.asarray(got[task]).reshape(values.shape), values, atol=ATOL)


def test_signature_keys_are_the_column_names(served):
    sig = signature.signature_def(served["path"])
    assert sorted(sig.inputs) == sorted(COLUMNS)
    assert sorted(served["x"]) == sorted(COLUMNS)  # features_to_arrays' keys
    bodies = keras_mtl.export.show_signature(served["path"], served["rows"], print_fn=None)
    json.dumps(bodies)
    assert sorted(bodies["rest"]["body"]["instances"][0]) == sorted(COLUMNS)
    assert sorted(bodies["grpc"]["body"]["inputs"]) == sorted(COLUMNS)
    # TF Serving's own mapping: SignatureDef key -> tensor, fed in a TF1 session
    with tf.compat.v1.Session(graph=tf.Graph()) as session:
        graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], served["path"])
        sig = graph.signature_def["serving_default"]
        got = session.run(
            sig.outputs["y"].name, {sig.inputs[k].name: v for k, v in served["x"].items()}
        )
    np.testing.assert_allclose(got, _keras(served["model"], served["x"])["y"], atol=ATOL)


def test_keras_file_and_onnx_keep_the_names(served):
    reloaded = tf.keras.models.load_model(str(served["tmp"] / "census.keras"))
    _assert_close(_keras(reloaded, served["x"]), _keras(served["model"], served["x"]))
    onnx_path = str(served["tmp"] / "census.onnx")
    keras_mtl.export.export_onnx(served["model"], onnx_path, examples=served["x"])
    session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    assert sorted(i.name for i in session.get_inputs()) == sorted(COLUMNS)
    names = [o.name for o in session.get_outputs()]
    _assert_close(
        dict(zip(names, session.run(names, served["x"]))), _keras(served["model"], served["x"])
    )


def test_warmup_requests_replay_against_serving_default(served):
    replayed = served["census"]["warmup"]
    assert len(replayed) == 3 + 1  # one per row, then all rows
    for i, (inputs, outputs) in enumerate(replayed):
        assert sorted(inputs) == sorted(COLUMNS)
        rows = slice(i, i + 1) if i < 3 else slice(0, 3)
        _assert_close(
            outputs, _keras(served["model"], {k: v[rows] for k, v in served["rows"].items()})
        )


def test_requests_with_column_names(served):
    calls, model = served["census"]["calls"], served["model"]
    for label in ("all_rows", "batch_of_one", "oov_and_empty"):
        _assert_close(calls[label], _keras(model, served["requests"][label]))
    # an unseen value and "" both take the OOV row: the same prediction
    np.testing.assert_array_equal(calls["oov_and_empty"]["y"][0], calls["oov_and_empty"]["y"][1])
    # Assert messages come back with their quotes escaped
    message = calls["column_2d"].replace("\\'", "'")
    assert (
        "Feature 'capital-loss': expected shape [batch]. Received shape [16,1]. "
        "Fix: send the values the DataFrame column holds"
    ) in message
    assert "expected to be a int64 tensor but is a float tensor" in calls["int_as_float"]
    assert "Feature 'capital-loss': expected finite numbers" in calls["nan"]


def test_generated_names_serve_or_are_refused(served):
    cases = served["cases"]
    assert any("path" in c for c in cases) and any(c["refused"] for c in cases)
    assert any(c.get("collision") for c in cases)
    print({i: (c["names"], "served" if "path" in c else "refused") for i, c in enumerate(cases)})
    for i, case in enumerate(cases):
        if case["refused"]:
            assert f"Feature name {case['refused'][0]!r}" in case["error"]
            assert "Fix: rename the column, e.g. df = df.rename(columns=" in case["error"]
        elif "path" in case:
            assert sorted(signature.signature_def(case["path"]).inputs) == sorted(
                name for name, _ in case["names"]
            )
            _assert_close(served["case_results"][f"case{i}"]["calls"]["all"], case["keras"])
