import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.weighting import MGDA
from keras_mtl.weighting.mgda import min_norm_weights
from tests.weighting import toy


def test_two_task_closed_form():
    g1, g2 = np.array([2.0, 1.0, 0.0]), np.array([-1.0, 0.5, 1.0])
    alpha = min_norm_weights(tf.constant([g1, g2], tf.float32)).numpy()
    expected = np.clip((g2 - g1) @ g2 / ((g1 - g2) @ (g1 - g2)), 0, 1)
    np.testing.assert_allclose(alpha, [expected, 1 - expected], atol=1e-6)
    # a dominated direction gets all the weight
    alpha = min_norm_weights(tf.constant([[1.0, 0.0], [2.0, 0.0]])).numpy()
    np.testing.assert_allclose(alpha, [1.0, 0.0])


def test_frank_wolfe_on_orthogonal_vectors():
    grads = np.diag([1.0, 2.0, 4.0]).astype("float32")
    alpha = min_norm_weights(tf.constant(grads), iterations=500).numpy()
    expected = (1 / np.diag(grads) ** 2) / (1 / np.diag(grads) ** 2).sum()
    np.testing.assert_allclose(alpha, expected, atol=2e-3)
    assert alpha.sum() == pytest.approx(1.0)


def test_step_uses_weights_from_gradients_at_the_representation():
    model = toy.model()
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1), weighting=MGDA())
    x = tf.constant(toy.X)
    z_model = tf.keras.Model(model.inputs, [model.output, model.get_layer("shared").output])
    with tf.GradientTape(persistent=True) as tape:
        out, z = z_model({"x": x})
        losses = [
            tf.reduce_mean(tf.keras.losses.binary_crossentropy(y[:, None], out[t]))
            for t, y in (("a", toy.Y_A), ("b", toy.Y_B))
        ]
    at_z = np.stack([tf.reshape(tape.gradient(l, z), (-1,)).numpy() for l in losses])
    g1, g2 = at_z
    first = np.clip((g2 - g1) @ g2 / ((g1 - g2) @ (g1 - g2)), 0, 1)
    history = model.fit(toy.dataset(), epochs=1, verbose=0).history
    assert history["weight_a"][0] == pytest.approx(first, rel=1e-4)
    assert history["weight_b"][0] == pytest.approx(1 - first, rel=1e-4)
