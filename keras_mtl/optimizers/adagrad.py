"""Adagrad whose sparse updates touch only the batch's rows, duplicates summed."""

from typing import Union

import tensorflow as tf

from keras_mtl import keras_compat
from keras_mtl.api_export import keras_mtl_export
from keras_mtl.optimizers.sparse_rows import RowWise
from keras_mtl.optimizers.sparse_rows import summed_rows


@keras_mtl_export
class Adagrad(RowWise, tf.keras.optimizers.Adagrad):
    """`tf.keras.optimizers.Adagrad` with a row-wise sparse path.

    For a dense gradient this is Keras' Adagrad, step for step. For a
    `tf.IndexedSlices` gradient g, with duplicate ids summed first, only the
    batch's rows i change:

        a_i ← a_i + g_i²,    θ_i ← θ_i − lr · g_i / √(a_i + ε)

    Keras 3's own Adagrad adds the square of every duplicate row separately
    (so a row seen twice gets a different update than one seen once with the
    summed gradient) and computes √(a + ε) over the whole table every step;
    tf_keras 2's sums duplicates and stays row-wise. Measured in
    tests/optimizers/test_adagrad.py and benchmarks/throughput.py.

    Args:
        as `tf.keras.optimizers.Adagrad`.

    Example:
    >>> table = tf.Variable(tf.ones((3, 1)))
    >>> optimizer = keras_mtl.optimizers.Adagrad(learning_rate=0.1,
    ...                                          initial_accumulator_value=0.0)
    >>> grad = tf.IndexedSlices(tf.constant([[1.0], [3.0]]), tf.constant([2, 2]))
    >>> _ = optimizer.apply_gradients([(grad, table)])
    >>> [round(float(v), 3) for v in table.numpy()[:, 0]]  # row 2: 1 - 0.1 * 4 / √16
    [1.0, 1.0, 0.9]

    References:
        Duchi, Hazan and Singer, "Adaptive Subgradient Methods for Online
        Learning and Stochastic Optimization", JMLR 2011.
    """

    def update_rows(
        self,
        gradient: tf.IndexedSlices,
        variable: tf.Variable,
        learning_rate: Union[float, tf.Tensor],
    ) -> None:
        """The update above, on the rows of a `tf.IndexedSlices` gradient."""
        dtype = variable.dtype
        (accumulator,) = keras_compat.optimizer_slots(self, variable, "_accumulators")
        # the accumulator holds the summed gradient rows for a moment
        indices, old, grad = summed_rows(self, accumulator, gradient)  # (rows,), (rows, dim) x2
        rows = old + tf.square(grad)
        keras_compat.scatter_update(self, accumulator, tf.IndexedSlices(rows, indices))
        step_rows = (
            tf.cast(learning_rate, dtype) * grad / tf.sqrt(rows + tf.cast(self.epsilon, dtype))
        )
        # written, not subtracted: a duplicate id writes the same row twice
        new_rows = keras_compat.gather_rows(variable, indices) - step_rows
        keras_compat.scatter_update(self, variable, tf.IndexedSlices(new_rows, indices))
