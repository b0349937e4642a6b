"""The calibrator as an auxiliary loss: by hand, in the logs, saved, effective."""

import json

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.losses import BehaviorCalibrator

TASKS = ("click", "action")


def test_calibrator_equals_hand_computation():
    rng = np.random.default_rng(0)
    y = {t: rng.uniform(size=(8, 1)).astype("float32") for t in ("a", "b", "c")}
    term = BehaviorCalibrator(("a", "b", "c"), alpha=0.6)
    expected = 0.6 * (np.maximum(y["b"] - y["a"], 0).mean() + np.maximum(y["c"] - y["b"], 0).mean())
    got = term({k: tf.constant(v) for k, v in y.items()}, {}, {})
    assert float(got) == pytest.approx(expected, rel=1e-6)
    assert float(BehaviorCalibrator(("a", "b"))({"a": y["a"], "b": y["a"]}, {}, {})) == 0.0


@pytest.fixture(scope="module")
def funnel():
    df = keras_mtl.data.funnel_data(rows=2000, seed=0, click_rate=0.3, action_rate=0.99)
    feats = keras_mtl.features.adapt(
        [
            keras_mtl.SparseFeat("user_id", embedding_dim=4),
            keras_mtl.SparseFeat("item_id", embedding_dim=4),
            keras_mtl.SparseFeat("category", embedding_dim=2),
            keras_mtl.DenseFeat("price", log1p=True, normalize=True),
            keras_mtl.DenseFeat("user_activity", normalize=True),
        ],
        df,
    )
    return df, feats


def _trained_aitm(funnel, alpha, epochs):
    df, feats = funnel
    model = keras_mtl.AITM(
        feats, task_names=TASKS, tower_units=(16,), attention_units=8, calibrator_alpha=alpha
    )
    model.compile(optimizer=tf.keras.optimizers.Adam(0.02))
    ds = keras_mtl.data.df_to_dataset(df, feats, list(TASKS), batch_size=256)
    model.fit(ds, epochs=epochs, verbose=0)
    return model, ds


def test_calibrator_is_logged_and_added_to_the_loss(funnel):
    model, ds = _trained_aitm(funnel, alpha=0.6, epochs=1)
    x = keras_mtl.data.features_to_arrays(funnel[0], funnel[1])
    p = model.predict(x, verbose=0, batch_size=2000)
    whole = keras_mtl.data.df_to_dataset(funnel[0], funnel[1], list(TASKS), batch_size=2000)
    logs = model.evaluate(whole, return_dict=True, verbose=0)
    expected = 0.6 * np.maximum(p["action"] - p["click"], 0).mean()
    assert logs["calibration_loss"] == pytest.approx(expected, rel=1e-4, abs=1e-7)
    assert logs["loss"] == pytest.approx(
        logs["click_loss"] + logs["action_loss"] + logs["calibration_loss"], rel=1e-5
    )


def test_calibrator_leaves_fewer_rows_out_of_funnel_order(funnel):
    """Same seeds, α = 0 vs the paper's α = 0.6: rows with ŷ_action > ŷ_click."""
    x = keras_mtl.data.features_to_arrays(funnel[0], funnel[1])
    violations = {}
    for alpha in (0.0, 0.6):
        tf.keras.utils.set_random_seed(7)
        model, _ = _trained_aitm(funnel, alpha=alpha, epochs=4)
        p = model.predict(x, verbose=0, batch_size=2000)
        violations[alpha] = int((p["action"] > p["click"]).sum())
    assert violations[0.0] > 50  # the order is not learned by itself here
    assert violations[0.6] < violations[0.0]


def test_calibrator_is_saved_with_the_model(funnel, tmp_path):
    df, feats = funnel
    model = keras_mtl.AITM(
        feats, task_names=TASKS, tower_units=(4,), attention_units=4, calibrator_alpha=1.5
    )
    config = model.get_config()
    json.dumps(config)
    (term,) = keras_mtl.MultiTaskModel.from_config(config).auxiliary_losses
    assert (type(term), term.alpha, term.task_names) == (BehaviorCalibrator, 1.5, TASKS)
    model.compile()
    path = str(tmp_path / "aitm.keras")
    model.save(path)
    (term,) = tf.keras.models.load_model(path).auxiliary_losses
    assert (term.alpha, term.task_names, term.name) == (1.5, TASKS, "calibration_loss")
    no_term = keras_mtl.AITM(feats, task_names=TASKS, tower_units=(4,), calibrator_alpha=0)
    assert no_term.auxiliary_losses == ()


def _two_heads():
    x = tf.keras.Input(shape=(2,), name="x")
    heads = {t: keras_mtl.layers.TaskHead(name=t)(x) for t in ("a", "b")}
    return {"x": x}, heads


@pytest.mark.parametrize(
    "term, error, message",
    [
        (BehaviorCalibrator(("a", "c")), ValueError, r"funnel steps \['c'\] are not outputs"),
        (BehaviorCalibrator(("a", "b"), name="a"), ValueError, "name 'a' is taken"),
        ("not a term", TypeError, "AuxiliaryLoss"),
    ],
)
def test_model_checks_auxiliary_losses(term, error, message):
    with pytest.raises(error, match=message):
        keras_mtl.MultiTaskModel(*_two_heads(), auxiliary_losses=[term])


def test_auxiliary_names_must_differ_from_logged_metrics():
    model = keras_mtl.MultiTaskModel(
        *_two_heads(), auxiliary_losses=[BehaviorCalibrator(("a", "b"), name="a_loss")]
    )
    with pytest.raises(ValueError, match=r"\['a_loss'\] are named like other logged"):
        model.compile()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"task_names": ("a",)}, "at least two"),
        ({"task_names": ("a", "b"), "alpha": -1}, "alpha=-1"),
    ],
)
def test_calibrator_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BehaviorCalibrator(**kwargs)
