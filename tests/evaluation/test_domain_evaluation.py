"""Per-domain AUC equals sklearn's roc_auc_score on each domain's rows."""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from sklearn.metrics import roc_auc_score

import keras_mtl
from keras_mtl.evaluation import evaluate_by_domain
from tests.models import builder_cases


def _identity_model():
    """Outputs its "score" input as task "a" and 1 − score as task "b"."""
    score = tf.keras.Input((), name="score")
    domain = tf.keras.Input((), dtype="int64", name="domain")
    a = tf.keras.layers.Reshape((1,), name="a")(score)
    b = tf.keras.layers.Rescaling(-1.0, offset=1.0, name="b")(a)
    return tf.keras.Model({"score": score, "domain": domain}, {"a": a, "b": b})


def _fixed_set(rows=300):
    rng = np.random.default_rng(0)
    domain = rng.choice(3, rows, p=[0.6, 0.3, 0.1]).astype("int64")
    score = rng.uniform(size=rows).round(2).astype("float32")  # ties on purpose
    a = (rng.uniform(size=rows) < 0.3 + 0.4 * score).astype("float32")
    b = (rng.uniform(size=rows) < 0.5).astype("float32")
    b[:20] = np.nan  # missing labels are left out
    df = pd.DataFrame({"score": score, "domain": domain, "a": a, "b": b})
    feats = [keras_mtl.DenseFeat("score"), keras_mtl.SparseFeat("domain", vocabulary_size=3)]
    return df, feats


def _sklearn(df, task, scores):
    keep = df[task].notna().to_numpy()
    return roc_auc_score(df[task].to_numpy()[keep], scores[keep])


def test_per_domain_auc_equals_sklearn_on_a_fixed_set():
    df, feats = _fixed_set()
    result = evaluate_by_domain(
        _identity_model(), df, "domain", features=feats, labels=["a", "b"], batch_size=64
    )
    assert list(result.index) == [0, 1, 2, "all"]
    assert list(result.columns) == ["rows", "a_auc", "b_auc"]
    for domain in [0, 1, 2, "all"]:
        part = df if domain == "all" else df[df["domain"] == domain]
        assert result.loc[domain, "rows"] == len(part)
        score = part["score"].to_numpy()
        assert result.loc[domain, "a_auc"] == pytest.approx(_sklearn(part, "a", score), abs=1e-12)
        assert result.loc[domain, "b_auc"] == pytest.approx(
            _sklearn(part, "b", 1 - score), abs=1e-6
        )


def test_dataset_input_and_one_class_domain():
    df, feats = _fixed_set()
    df.loc[df["domain"] == 2, "a"] = 1.0  # domain 2 has positives only
    ds = keras_mtl.data.df_to_dataset(df, feats, ["a"], batch_size=50)
    result = evaluate_by_domain(_identity_model(), ds, "domain", labels=["a"])
    assert np.isnan(result.loc[2, "a_auc"])
    assert result.loc["all", "a_auc"] == pytest.approx(_sklearn(df, "a", df["score"].to_numpy()))


def test_star_per_domain_auc_defaults_to_its_binary_tasks():
    df = builder_cases.frame(rows=128)
    feats = builder_cases.features(df)
    model, labels = builder_cases.build(keras_mtl.STAR, feats)
    result = evaluate_by_domain(model, df, "domain", features=feats)
    assert list(result.columns) == ["rows", "ctr_auc", "cvr_auc"]
    assert list(result.index) == [0, 1, 2, 3, "all"]  # 3: a domain the model does not know
    predictions = model.predict(keras_mtl.data.features_to_arrays(df, feats), verbose=0)
    part = df["domain"] == 1
    assert result.loc[1, "ctr_auc"] == pytest.approx(
        roc_auc_score(df["ctr"][part], predictions["ctr"][part.to_numpy()].ravel()), abs=1e-6
    )


def test_evaluate_by_domain_errors():
    df, feats = _fixed_set()
    with pytest.raises(ValueError, match="labels="):
        evaluate_by_domain(_identity_model(), df, "domain", features=feats)
    with pytest.raises(KeyError, match="domain_feature='country'"):
        evaluate_by_domain(_identity_model(), df, "country", features=feats, labels=["a"])


def test_a_task_with_a_sample_space_is_scored_on_its_rows_in_every_domain():
    df, feats = _fixed_set()
    df["b"] = df["b"].fillna(0.0)  # b defined on a's positives only: the rest must not count
    spaced = evaluate_by_domain(
        _identity_model(), df, "domain", features=feats, labels=["a", "b"], sample_spaces={"b": "a"}
    )
    for domain in [0, 1, 2, "all"]:
        part = df if domain == "all" else df[df["domain"] == domain]
        clicked = part[part["a"] == 1]
        expected = roc_auc_score(clicked["b"], 1 - clicked["score"])
        assert spaced.loc[domain, "b_auc"] == pytest.approx(expected, abs=1e-12)
        assert spaced.loc[domain, "a_auc"] == pytest.approx(
            _sklearn(part, "a", part["score"].to_numpy()), abs=1e-12
        )


def test_a_compiled_models_spaces_are_the_default():
    x = tf.keras.Input((), name="score")
    domain = tf.keras.Input((), dtype="int64", name="domain")
    a = tf.keras.layers.Reshape((1,), name="a")(x)
    b = tf.keras.layers.Rescaling(-1.0, offset=1.0, name="b")(a)
    model = keras_mtl.MultiTaskModel({"score": x, "domain": domain}, {"a": a, "b": b})
    model.compile(sample_spaces={"b": "a"})
    df, feats = _fixed_set()
    df["b"] = df["b"].fillna(0.0)
    default = evaluate_by_domain(model, df, "domain", features=feats)
    clicked = df[df["a"] == 1]
    assert default.loc["all", "b_auc"] == pytest.approx(
        roc_auc_score(clicked["b"], 1 - clicked["score"]), abs=1e-12
    )
    everywhere = evaluate_by_domain(model, df, "domain", features=feats, sample_spaces={})
    assert everywhere.loc["all", "b_auc"] == pytest.approx(
        roc_auc_score(df["b"], 1 - df["score"]), abs=1e-12
    )
