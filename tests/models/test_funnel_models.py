"""AITM, ESM² and MetaHeac beyond the generic builder tests."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from tests.models import builder_cases


@pytest.fixture(scope="module")
def data():
    df = builder_cases.frame()
    feats = builder_cases.features(df)
    return df, feats, keras_mtl.data.features_to_arrays(df, feats)


def test_esm2_outputs_follow_the_product_formulas(data):
    df, feats, x = data
    model = keras_mtl.ESM2(feats, tower_units=(4,))
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05))
    ds = keras_mtl.data.df_to_dataset(df, feats, ["ctr", "ctavr", "ctcvr"], batch_size=32)
    history = model.fit(ds, epochs=2, verbose=0).history
    assert {k for k in history if k.endswith("_loss")} == {
        "ctr_loss",
        "ctavr_loss",
        "ctcvr_loss",
        "regularization_loss",
    }  # conditionals are not trained
    p = {k: v[:, 0].astype("float64") for k, v in model.predict(x, verbose=0).items()}
    y1, y2, y3, y4 = p["ctr"], p["p_action"], p["p_buy_after_action"], p["p_buy_after_other"]
    np.testing.assert_allclose(p["ctavr"], y1 * y2, rtol=1e-5)
    np.testing.assert_allclose(p["cvr"], y2 * y3 + (1 - y2) * y4, rtol=1e-5)
    np.testing.assert_allclose(p["ctcvr"], y1 * (y2 * y3 + (1 - y2) * y4), rtol=1e-5)
    assert np.all(p["ctcvr"] <= p["ctr"] + 1e-7)
    assert np.all(p["ctavr"] <= p["ctr"] + 1e-7)


def test_aitm_wires_one_ait_module_per_later_task(data):
    feats = data[1]
    model = keras_mtl.AITM(
        feats,
        task_names=("click", "cart", "buy"),
        tower_units=(4,),
        attention_units=3,
        head_units=(2,),
    )
    names = [layer.name for layer in model.layers]
    assert [n for n in names if n.startswith("ait_")] == ["ait_cart", "ait_buy"]
    assert model.get_layer("ait_buy").get_config()["units"] == 3
    (term,) = model.auxiliary_losses
    assert (term.task_names, term.alpha) == (("click", "cart", "buy"), 0.6)
    predictions = model.predict(data[2], verbose=0)
    assert sorted(predictions) == ["buy", "cart", "click"]


def test_metaheac_meta_training_moves_shared_and_task_weights(data):
    df, feats, x = data
    model = keras_mtl.MetaHeac(
        feats,
        task_names=("ctr", "cvr"),
        task_types=("binary", "regression"),
        num_experts=2,
        expert_units=(4,),
        critic_units=(3,),
        inner_learning_rate=0.1,
    )
    assert isinstance(model.training_procedure, keras_mtl.training.MetaLearningStep)
    assert model.training_procedure.inner_learning_rate == 0.1
    experts = model.get_layer("experts").kernels[0].numpy()
    embeddings = model.get_layer("hybrid_experts_critics").task_embeddings.numpy()
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01))
    ds = keras_mtl.data.df_to_dataset(df, feats, ["ctr", "cvr"], batch_size=32)
    history = model.fit(ds, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"][0]) and "cvr_mse" in history
    assert not np.allclose(model.get_layer("experts").kernels[0].numpy(), experts)
    assert not np.allclose(
        model.get_layer("hybrid_experts_critics").task_embeddings.numpy(), embeddings
    )
    plain = keras_mtl.MetaHeac(feats, num_experts=2, expert_units=(4,), meta_learning=False)
    assert plain.training_procedure is None


@pytest.mark.parametrize(
    "builder, kwargs, message",
    [
        (keras_mtl.AITM, {"task_names": ("ctr",)}, "at least 2 task"),
        (keras_mtl.AITM, {"calibrator_alpha": -0.5}, "calibrator_alpha=-0.5"),
        (keras_mtl.AITM, {"attention_units": 0}, "attention_units=0"),
        (keras_mtl.ESM2, {"task_names": ("ctr", "ctcvr")}, "three task names"),
        (keras_mtl.ESM2, {"cvr_name": "ctr"}, "unique"),
        (keras_mtl.MetaHeac, {"num_critics": 0}, "num_critics=0"),
        (keras_mtl.MetaHeac, {"inner_learning_rate": -1}, "inner_learning_rate=-1"),
    ],
)
def test_funnel_builders_reject_bad_arguments(builder, kwargs, message, data):
    with pytest.raises(ValueError, match=message):
        builder(data[1], **kwargs)
