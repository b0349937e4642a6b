import numpy as np
import tensorflow as tf

from keras_mtl.weighting import PCGrad
from keras_mtl.weighting.pcgrad import project_conflicting
from tests.weighting import toy


def project_by_hand(grads, order):
    out = []
    for i, g in enumerate(grads):
        g = g.copy()
        for j in order[i]:
            if j != i and g @ grads[j] < 0:
                g = g - (g @ grads[j]) / (grads[j] @ grads[j]) * grads[j]
        out.append(g)
    return np.sum(out, axis=0)


def test_two_conflicting_vectors():
    g1, g2 = np.array([1.0, 0.0]), np.array([-1.0, 1.0])
    summed = project_conflicting(tf.constant([g1, g2], tf.float32), tf.zeros((2, 2)))
    # g1 ⟂ g2: g1 - (-1/2) g2 = (0.5, 0.5); g2 - (-1/1) g1 = (0, 1)
    np.testing.assert_allclose(summed.numpy(), [0.5, 1.5], atol=1e-6)


def test_three_vectors_follow_the_visiting_order():
    grads = np.array([[1.0, 0.2, 0.0], [-0.8, 1.0, 0.1], [-0.3, -0.9, 1.0]], "float32")
    keys = np.array([[0.1, 0.9, 0.5], [0.3, 0.2, 0.1], [0.7, 0.2, 0.4]], "float32")
    order = np.argsort(keys, axis=1)
    summed = project_conflicting(tf.constant(grads), tf.constant(keys))
    np.testing.assert_allclose(summed.numpy(), project_by_hand(grads, order), atol=1e-5)


def test_agreeing_vectors_are_summed_unchanged():
    grads = np.array([[1.0, 2.0], [0.5, 0.1]], "float32")
    summed = project_conflicting(tf.constant(grads), tf.zeros((2, 2)))
    np.testing.assert_allclose(summed.numpy(), grads.sum(axis=0), atol=1e-6)


def test_training_step_projects_shared_and_keeps_task_gradients():
    model = toy.model()
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1), weighting=PCGrad())
    x = tf.constant(toy.X)
    shared = model.get_layer("shared").trainable_variables
    head_a = model.get_layer("a").trainable_variables
    with tf.GradientTape(persistent=True) as tape:
        out = model({"x": x})
        losses = [
            tf.reduce_mean(tf.keras.losses.binary_crossentropy(y[:, None], out[t]))
            for t, y in (("a", toy.Y_A), ("b", toy.Y_B))
        ]
    flat = [
        tf.concat([tf.reshape(g, (-1,)) for g in tape.gradient(l, shared)], 0).numpy()
        for l in losses
    ]
    projected = project_by_hand(np.array(flat), [[0, 1], [0, 1]])
    expected_shared = np.concatenate([v.numpy().ravel() for v in shared]) - 0.1 * projected
    expected_head = [
        v.numpy() - 0.1 * g.numpy() for v, g in zip(head_a, tape.gradient(losses[0], head_a))
    ]
    model.fit(toy.dataset(), epochs=1, verbose=0)
    np.testing.assert_allclose(
        np.concatenate([v.numpy().ravel() for v in shared]), expected_shared, atol=1e-5
    )
    for v, e in zip(head_a, expected_head):
        np.testing.assert_allclose(v.numpy(), e, atol=1e-6)
