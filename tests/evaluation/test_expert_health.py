"""Expert health: gate entropy, utilisation, dead units; the callback; LoadBalanceLoss."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.evaluation import expert_health
from keras_mtl.training import ExpertHealthCallback

ROWS = 16
X = {"x": np.random.RandomState(0).normal(size=(ROWS, 3)).astype("float32")}
Y = {"a": (X["x"][:, 0] > 0).astype("float32"), "b": (X["x"][:, 1] > 0).astype("float32")}
FEATURES = [keras_mtl.DenseFeat("x", dimension=3)]
UNITS = 4


def _mmoe(**kwargs):
    return keras_mtl.MMoE(
        FEATURES,
        task_names=("a", "b"),
        num_experts=3,
        expert_units=(UNITS,),
        tower_units=(),
        **kwargs,
    )


def _entropy(p):
    p = np.asarray(p, "float64")
    return -np.sum(p * np.log(p))


def test_constructed_collapse_is_measured():
    model = _mmoe()
    # experts: kernel 0, so expert outputs are relu(bias): expert 0 all dead,
    # expert 1 half its units dead, expert 2 alive
    bias = np.array([[-1.0] * 4, [1.0, -1.0, 1.0, -1.0], [1.0] * 4]).reshape(-1)
    model.get_layer("experts").set_weights([np.zeros((3, 3 * UNITS)), bias])
    logits = {"a": [4.0, 0.0, 0.0], "b": [0.0, 0.0, 0.0]}
    for task, b in logits.items():
        model.get_layer(f"gate_{task}").set_weights([np.zeros((3, 3)), np.array(b)])
    health = expert_health.expert_health(model, X, batch_size=5)  # 4 batches, last short

    (gates,) = health["gates"]
    assert gates["rows"] == ["a", "b"] and health["rows"] == ROWS
    p_a = np.exp(logits["a"]) / np.exp(logits["a"]).sum()
    np.testing.assert_allclose(gates["utilisation"], [p_a, [1 / 3] * 3], rtol=1e-6)
    np.testing.assert_allclose(gates["entropy"], [_entropy(p_a), np.log(3)], rtol=1e-5)
    np.testing.assert_allclose(
        gates["normalized_entropy"], [_entropy(p_a) / np.log(3), 1.0], rtol=1e-5
    )
    (experts,) = health["experts"]
    np.testing.assert_allclose(experts["zero_fraction"], [1.0, 0.5, 0.0])
    np.testing.assert_allclose(experts["dead_fraction"], [1.0, 0.5, 0.0])
    logs = expert_health.summary_logs(health)
    assert logs == pytest.approx(
        {
            "gate_entropy_a": _entropy(p_a) / np.log(3),
            "gate_entropy_b": 1.0,
            "expert_max_utilisation": p_a[0],
            "expert_zero_fraction": 0.5,
            "expert_dead_fraction": 0.5,
        }
    )


@pytest.mark.parametrize(
    "builder, kwargs",
    [(keras_mtl.PLE, dict(num_levels=2)), (keras_mtl.HoME, dict(feature_gate_rank=2))],
)
def test_every_level_and_hierarchy_is_reported(builder, kwargs):
    model = builder(
        FEATURES, task_names=("a", "b"), expert_units=(UNITS,), tower_units=(), **kwargs
    )
    health = expert_health.expert_health(model, X)
    titles = [g["title"] for g in health["gates"]] + [e["title"] for e in health["experts"]]
    if builder is keras_mtl.PLE:
        assert titles == ["extraction_1 experts", "extraction_2 experts"] * 2
    else:
        assert titles == [
            "home meta gates",
            "home task gates",
            "home meta experts",
            "home task experts",
        ]
    for g in health["gates"]:
        np.testing.assert_allclose(np.nansum(g["utilisation"], axis=1), 1.0, rtol=1e-5)
        assert np.all((g["normalized_entropy"] >= 0) & (g["normalized_entropy"] <= 1 + 1e-6))
    logs = expert_health.summary_logs(health)
    # rows named alike in several tables are prefixed by their table
    # (HoME's default categories are named after the tasks)
    table = "home_task_gates" if builder is keras_mtl.HoME else "extraction_2_experts"
    assert {f"gate_entropy_{table}_a", "gate_entropy_shared_gate"} <= set(logs)


def test_callback_logs_health_and_leaves_training_unchanged():
    histories = []
    for callbacks in ([], [ExpertHealthCallback(X, every=2)]):
        tf.keras.utils.set_random_seed(1)
        model = _mmoe()
        model.compile(optimizer=tf.keras.optimizers.Adam(0.01))
        histories.append(
            model.fit(X, Y, epochs=2, batch_size=8, verbose=0, callbacks=callbacks).history
        )
    plain, logged = histories
    for key, values in plain.items():
        np.testing.assert_allclose(logged[key], values, rtol=0, atol=0, err_msg=key)
    assert logged["gate_entropy_a"][-1] == pytest.approx(
        expert_health.summary_logs(expert_health.expert_health(model, X))["gate_entropy_a"]
    )
    assert len(logged["gate_entropy_a"]) == 1  # every=2: logged at epoch 2 only


def test_load_balance_loss_is_the_importance_cv2(tmp_path):
    model = _mmoe(load_balance=0.5)
    assert "expert_load" in model.output_names
    model.compile(optimizer="adam")
    load = model.predict(X, verbose=0)["expert_load"]  # (B, E)
    share = load.mean(axis=0)
    expected = 0.5 * (3 * np.sum(share**2) - 1.0)
    logs = model.evaluate(X, Y, batch_size=ROWS, verbose=0, return_dict=True)
    assert logs["load_balance_loss"] == pytest.approx(expected, rel=1e-5)
    gates = [
        model.get_layer(f"gate_{t}").gate_weights([X["x"], tf.zeros((ROWS, 3, UNITS))])
        for t in ("a", "b")
    ]
    mean = np.mean([g[0].weights.numpy()[:, 0] for g in gates], axis=0)
    np.testing.assert_allclose(load, mean, rtol=1e-6)
    path = str(tmp_path / "balanced.keras")
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    assert [t.coefficient for t in loaded.auxiliary_losses] == [0.5]
    assert "expert_load" not in _mmoe().output_names
    with pytest.raises(ValueError, match="load_balance=-1"):
        _mmoe(load_balance=-1)
