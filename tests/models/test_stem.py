"""STEM's forward pass against its formula and its stop-gradient routing."""

import numpy as np
import tensorflow as tf

import keras_mtl
from tests import fusion_reference as ref
from tests.routing_reference import relu
from tests.routing_reference import sigmoid

X = np.random.default_rng(6).normal(size=(5, 3)).astype("float32")
TASKS = ("a", "b", "c")


def _tower(model, task, h):
    weights = model.get_layer(f"tower_{task}").get_weights()
    for kernel, bias in zip(weights[::2], weights[1::2]):
        h = relu(h @ kernel + bias)
    kernel, bias = model.get_layer(task).get_weights()
    return sigmoid(h @ kernel + bias)


def test_stem_equals_its_formula():
    # a dense feature only: every branch x_t = x_s = x
    model = keras_mtl.STEM(
        [keras_mtl.DenseFeat("x", dimension=3)],
        task_names=TASKS,
        num_specific_experts=2,
        expert_units=(4, 3),
        tower_units=(2,),
    )
    level = ref.stem_level(model.get_layer("stem_1"), np.stack([X] * 4, axis=1))
    out = model({"x": X})
    for t, task in enumerate(TASKS):
        np.testing.assert_allclose(
            out[task].numpy(), _tower(model, task, level[:, t]), rtol=1e-5, atol=1e-6
        )


def test_task_loss_reaches_only_its_own_and_the_shared_tables_and_experts():
    features = [
        keras_mtl.SparseFeat("item", vocabulary_size=6, embedding_dim=2),
        keras_mtl.DenseFeat("price"),
    ]
    # tanh: no dead units, so every gradient the routing allows is non-zero
    model = keras_mtl.STEM(
        features, task_names=TASKS, expert_units=(4,), tower_units=(2,), activation="tanh"
    )
    inputs = {"item": tf.constant([0, 1, 2, 5]), "price": tf.constant([0.5, 1.0, -1.0, 2.0])}
    experts = model.get_layer("stem_1").expert_layers[0].kernel  # (E, d, u): a, b, c, shared
    for t, task in enumerate(TASKS):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.math.log(model(inputs)[task]))
        tables = {
            # each prefix's stack of width 2 holds its item table alone
            name: model.get_layer(f"{name}embedding_tables_2").embeddings
            for name in ("a_", "b_", "c_", "")
        }
        grads = tape.gradient(loss, list(tables.values()) + [experts])
        for (name, _), grad in zip(tables.items(), grads[:-1]):
            values = 0 if grad is None else tf.convert_to_tensor(grad).numpy()
            if name in (f"{task}_", ""):  # own and shared tables
                assert np.any(values != 0), name
            else:
                assert np.all(values == 0), (task, name)
        expert_grad = grads[-1].numpy()
        for e in range(len(TASKS) + 1):
            assert np.any(expert_grad[e] != 0) == (e in (t, len(TASKS))), (task, e)
