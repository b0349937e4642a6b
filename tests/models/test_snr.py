"""SNR (Trans and Avg): forward values, deterministic serving, L0 penalty in the loss."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.layers import HardConcreteGate
from tests import routing_reference as ref

X = np.random.RandomState(7).normal(size=(6, 3)).astype("float32")
FEATURES = [keras_mtl.DenseFeat("x", dimension=3)]  # x is the bottom input itself
TASKS = ("a", "b")


def _snr(variant, **kwargs):
    return keras_mtl.SNR(
        FEATURES,
        task_names=TASKS,
        variant=variant,
        num_subnetworks=(3, 2),
        subnetwork_units=(5, 4),
        tower_units=(3,),
        **kwargs,
    )


def _predict(model, training=False):
    return {k: np.asarray(v) for k, v in model({"x": tf.constant(X)}, training=training).items()}


def _z(layer):
    return ref.hard_concrete_estimator(layer.gate.log_alpha.numpy())


def _numpy_snr(model, variant):
    first = model.get_layer("subnetworks_1")  # ExpertLayer with one layer per sub-network
    kernel, bias = first.kernels[0].numpy(), first.biases[0].numpy()
    u = np.stack(
        [
            ref.relu(X @ kernel[:, 5 * j : 5 * (j + 1)] + bias[5 * j : 5 * (j + 1)])
            for j in range(3)
        ],
        axis=1,
    )  # (B, 3, 5)
    if variant == "trans":
        layer = model.get_layer("subnetworks_2")
        u = ref.snr_trans(layer, u, _z(layer), ref.relu)  # (B, 2, 4)
        connection = model.get_layer("task_connections")
        v = ref.snr_trans(connection, u, _z(connection), ref.relu)  # (B, T, 4)
    else:
        v = ref.snr_avg(u, _z(model.get_layer("connections_2")))  # (B, 2, 5)
        dense = model.get_layer("subnetworks_2")
        u = np.stack(
            [ref.relu(v[:, n] @ dense.kernel.numpy()[n] + dense.bias.numpy()[n]) for n in range(2)],
            axis=1,
        )  # (B, 2, 4)
        v = ref.snr_avg(u, _z(model.get_layer("task_connections")))  # (B, T, 4)
    out = {}
    for k, task in enumerate(TASKS):
        h = v[:, k]
        for layer in model.get_layer(f"tower_{task}").dense_layers:
            h = ref.relu(h @ layer.kernel.numpy() + layer.bias.numpy())
        head_kernel, head_bias = model.get_layer(task).get_weights()
        out[task] = ref.sigmoid(h @ head_kernel + head_bias)
    return out


def _randomize_log_alpha(model, seed=0):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        gate = getattr(layer, "gate", None)
        if isinstance(gate, HardConcreteGate):
            gate.log_alpha.assign(rng.normal(scale=2.0, size=gate.log_alpha.shape))


@pytest.mark.parametrize("variant", ["trans", "avg"])
def test_snr_inference_equals_numpy_with_the_gate_estimator(variant):
    model = _snr(variant)
    _randomize_log_alpha(model)
    out, expected = _predict(model), _numpy_snr(model, variant)
    for task in TASKS:
        np.testing.assert_allclose(out[task], expected[task], rtol=1e-5, atol=1e-6)
    # serving is deterministic, training samples the gates
    again = _predict(model)
    assert all(np.array_equal(out[t], again[t]) for t in TASKS)
    sampled = [_predict(model, training=True) for _ in range(2)]
    assert not np.allclose(sampled[0]["a"], sampled[1]["a"])


@pytest.mark.parametrize("variant", ["trans", "avg"])
def test_l0_penalty_is_part_of_the_model_loss(variant):
    model = _snr(variant, l0_coefficient=0.05)
    _randomize_log_alpha(model, seed=1)
    gates = [l.gate for l in model.layers if isinstance(getattr(l, "gate", None), HardConcreteGate)]
    assert len(gates) == 2  # layer 1 → 2 and layer 2 → towers
    penalty = 0.05 * sum(ref.expected_l0(g.log_alpha.numpy()) for g in gates)
    model.compile(optimizer="sgd")
    y = {t: (np.arange(len(X)) % 2).astype("float32") for t in TASKS}
    logs = model.evaluate({"x": X}, y, batch_size=len(X), return_dict=True, verbose=0)
    assert logs["loss"] == pytest.approx(logs["a_loss"] + logs["b_loss"] + penalty, rel=1e-5)


def test_penalty_closes_gates_when_it_dominates():
    model = _snr("avg", l0_coefficient=10.0)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.1))
    before = model.get_layer("task_connections").gate.log_alpha.numpy().copy()
    y = {t: np.zeros(len(X), "float32") for t in TASKS}
    model.fit({"x": X}, y, batch_size=len(X), epochs=5, verbose=0)
    after = model.get_layer("task_connections").gate.log_alpha.numpy()
    assert np.all(after < before)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"variant": "sum"}, "variant='sum'"),
        ({"num_subnetworks": (2,), "subnetwork_units": (4, 3)}, "one sub-network count per layer"),
        ({"num_subnetworks": 0}, "num_subnetworks=0"),
        ({"subnetwork_units": ()}, "subnetwork_units"),
        ({"l0_coefficient": -1}, "l0_coefficient=-1"),
    ],
)
def test_snr_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_mtl.SNR(FEATURES, task_names=TASKS, **kwargs)
