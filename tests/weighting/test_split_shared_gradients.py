"""split_shared_gradients: the strategy's gradient on shared variables, plain elsewhere."""

import types

import numpy as np
import tensorflow as tf

from keras_mtl.weighting import weighting_strategy


def test_shared_get_the_strategy_gradient_others_the_sum_plus_extra():
    shared, own_a, own_b = tf.Variable(2.0), tf.Variable(3.0), tf.Variable(5.0)
    with tf.GradientTape(persistent=True) as tape:
        loss_a = shared * own_a  # ∂/∂shared = 3, ∂/∂own_a = 2
        loss_b = shared * shared * own_b  # ∂/∂shared = 20, ∂/∂own_b = 4
        extra = 0.5 * own_b * own_b  # ∂/∂own_b = 5
    variables = [own_a, shared, own_b]
    context = types.SimpleNamespace(shared=[False, True, False], extra_loss=extra)
    grads = weighting_strategy.split_shared_gradients(
        tape,
        [loss_a, loss_b],
        variables,
        context,
        lambda vs: tape.gradient([loss_a, loss_b], vs, output_gradients=[0.25, 0.75]),
    )
    np.testing.assert_allclose([float(g) for g in grads], [2.0, 0.25 * 3 + 0.75 * 20, 4 + 5])
