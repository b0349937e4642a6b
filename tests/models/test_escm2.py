"""ESCM²: its total loss is L_CTR + λ_c·L_CVR(IPS / DR) + λ_g·L_CTCVR, computed by hand."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.data import df_to_dataset
from keras_mtl.data import funnel_data
from keras_mtl.data import funnel_features

ROWS = 128


@pytest.fixture(scope="module")
def funnel():
    df = funnel_data(rows=ROWS, seed=4, click_rate=0.4)
    df["ctr"], df["ctcvr"] = df["click"], df["purchase"]
    return df, funnel_features(df, embedding_dim=3)


def _batch(df, feats):
    return df_to_dataset(df, feats, ["ctr", "ctcvr"], batch_size=ROWS, shuffle=False)


def _bce(y, q):
    q = np.clip(q, 1e-7, 1 - 1e-7)
    return -(y * np.log(q) + (1 - y) * np.log(1 - q))


@pytest.mark.parametrize("counterfactual", ["ips", "dr"])
def test_total_loss_equals_hand_computation_from_predictions(funnel, counterfactual):
    df, feats = funnel
    model = keras_mtl.ESCM2(
        feats,
        counterfactual=counterfactual,
        tower_units=(4,),
        counterfactual_weight=0.7,
        propensity_clip=0.2,
    )
    model.compile(optimizer="sgd", loss_weights={"ctr": 1.0, "ctcvr": 0.5})  # λ_g = 0.5
    logs = model.evaluate(_batch(df, feats), return_dict=True, verbose=0)
    pred = {
        k: v[:, 0].astype("float64") for k, v in model.predict(_batch(df, feats), verbose=0).items()
    }
    o, buy = df["click"].to_numpy("float64"), df["purchase"].to_numpy("float64")
    p = np.maximum(pred["ctr"], 0.2)
    e = _bce(buy, pred["cvr"])
    ctr_loss, ctcvr_loss = _bce(o, pred["ctr"]).mean(), _bce(buy, pred["ctcvr"]).mean()
    assert logs["ctr_loss"] == pytest.approx(ctr_loss, rel=1e-4)
    assert logs["ctcvr_loss"] == pytest.approx(ctcvr_loss, rel=1e-4)
    if counterfactual == "ips":
        terms = {"cvr_ips_loss": 0.7 * np.mean(o * e / p)}
    else:
        d = pred["cvr_imputation"]
        terms = {
            "cvr_dr_loss": 0.7 * np.mean(d + o * (e - d) / p),
            "imputation_loss": 0.7 * np.mean(o * (e - d) ** 2 / p),
        }
    for name, value in terms.items():
        assert logs[name] == pytest.approx(value, rel=1e-4)
    assert logs["loss"] == pytest.approx(
        ctr_loss + 0.5 * ctcvr_loss + sum(terms.values()), rel=1e-4
    )
    np.testing.assert_allclose(pred["ctcvr"], pred["ctr"] * pred["cvr"], rtol=1e-5)


def test_ips_model_reloads_from_a_keras_file_with_its_loss(funnel, tmp_path):
    df, feats = funnel
    model = keras_mtl.ESCM2(feats, counterfactual="ips", tower_units=(4,), propensity_clip=0.1)
    model.compile(optimizer="sgd")
    path = str(tmp_path / "escm2.keras")
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    assert sorted(loaded.output_names) == ["ctcvr", "ctr", "cvr"]
    [term] = loaded.auxiliary_losses
    assert type(term) is keras_mtl.losses.InversePropensityLoss
    assert term.propensity_clip == 0.1 and term.weight == 0.5
    x = keras_mtl.data.features_to_arrays(df, feats)
    for name, values in loaded.predict(x, verbose=0).items():
        np.testing.assert_allclose(values, model.predict(x, verbose=0)[name], atol=1e-6)
    history = loaded.fit(_batch(df, feats), epochs=1, verbose=0).history
    assert np.isfinite(history["cvr_ips_loss"]).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"counterfactual": "snips"}, "counterfactual='snips'"),
        ({"task_names": ("ctr", "cvr", "buy")}, "two task names"),
        ({"imputation_name": "ctr"}, "unique"),
        ({"propensity_clip": 1.5}, "propensity_clip=1.5"),
        ({"counterfactual_weight": -0.1}, "weight=-0.1"),
    ],
)
def test_bad_arguments_are_named(funnel, kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_mtl.ESCM2(funnel[1], tower_units=(4,), **kwargs)
