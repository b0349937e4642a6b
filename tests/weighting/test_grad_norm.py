import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import TaskHead
from keras_mtl.weighting import GradNorm
from tests.weighting import toy


def times_100(y_true, y_pred):
    return 100.0 * tf.reduce_mean((y_true - y_pred) ** 2, axis=-1)


def compiled(strategy, lr=0.01):
    """Two regression tasks; task b's loss is scaled ×100."""
    model = toy.model(("regression", "regression"))
    model.compile(optimizer=tf.keras.optimizers.SGD(lr), loss={"b": times_100}, weighting=strategy)
    return model


def gradient_norms(model):
    """||∇_W L_k|| at the shared layer for the toy data."""
    shared = model.get_layer("shared").trainable_variables
    out = []
    for task, y, scale in (("a", toy.Y_A, 1.0), ("b", toy.Y_B, 100.0)):
        with tf.GradientTape() as tape:
            pred = model({"x": tf.constant(toy.X)})[task][:, 0]
            loss = scale * tf.reduce_mean((pred - y) ** 2)
        grads = tape.gradient(loss, shared)
        out.append(float(tf.linalg.global_norm(grads)))
    return np.array(out)


def test_weights_move_toward_equal_gradient_norms_stay_positive_and_sum_to_t():
    model = compiled(GradNorm(alpha=1.5), lr=0.001)
    norms = gradient_norms(model)
    assert norms[1] > 20 * norms[0]  # task b dominates the shared layer
    history = model.fit(toy.dataset(batch_size=4), epochs=10, verbose=0)
    w_a = np.array(history.history["weight_a"])
    w_b = np.array(history.history["weight_b"])
    assert np.all(w_a > 0) and np.all(w_b > 0)
    np.testing.assert_allclose(w_a + w_b, 2.0, rtol=1e-5)
    assert w_a[-1] > w_a[0] and w_b[-1] < w_b[0]  # weight moves to the weak task
    final = model.weighting.weights_vector.numpy()
    weighted = final * gradient_norms(model)
    assert weighted.max() / weighted.min() < norms.max() / norms.min()


def test_network_update_is_the_gradient_of_the_weighted_sum():
    model = compiled(GradNorm())
    model.weighting.weights_vector.assign([0.5, 1.5])
    network = model.trainable_variables
    with tf.GradientTape() as tape:
        out = model({"x": tf.constant(toy.X)})
        total = 0.5 * tf.reduce_mean(
            (out["a"][:, 0] - toy.Y_A) ** 2
        ) + 1.5 * 100.0 * tf.reduce_mean((out["b"][:, 0] - toy.Y_B) ** 2)
    expected = [
        v.numpy() - 0.01 * g.numpy() for v, g in zip(network, tape.gradient(total, network))
    ]
    model.fit(toy.dataset(), epochs=1, verbose=0)
    for variable, value in zip(network, expected):
        np.testing.assert_allclose(variable.numpy(), value, rtol=1e-5, atol=1e-6)


def test_gradient_norm_loss_formula():
    strategy = GradNorm(alpha=1.0)
    strategy.attach({"a": "binary", "b": "binary"})
    strategy.weights_vector.assign([1.0, 1.0])
    strategy.initial_losses.assign([2.0, 1.0])
    losses, norms = tf.constant([1.0, 1.0]), tf.constant([3.0, 1.0])
    loss_grad, g = strategy.gradient_norm_loss(losses, norms)
    ratio = np.array([0.5, 1.0])
    r = ratio / ratio.mean()
    target = np.mean([3.0, 1.0]) * r
    assert float(loss_grad) == pytest.approx(np.abs(np.array([3.0, 1.0]) - target).sum())


def test_needs_a_shared_layer():
    x = tf.keras.Input(shape=(3,), name="x")
    import keras_mtl

    model = keras_mtl.MultiTaskModel(
        inputs={"x": x},
        outputs={"a": TaskHead("binary", name="a")(x), "b": TaskHead("binary", name="b")(x)},
    )
    model.compile(weighting=GradNorm())
    with pytest.raises(ValueError, match="last shared layer"):
        model.fit(toy.dataset(), epochs=1, verbose=0)
