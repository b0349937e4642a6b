"""Adam that updates only the rows a sparse gradient touches."""

from typing import Any
from typing import Union

import tensorflow as tf

from keras_mtl import keras_compat
from keras_mtl.api_export import keras_mtl_export
from keras_mtl.optimizers.sparse_rows import RowWise
from keras_mtl.optimizers.sparse_rows import summed_rows


@keras_mtl_export
class LazyAdam(RowWise, tf.keras.optimizers.Adam):
    """Adam with lazy updates of sparse (embedding) gradients.

    For a dense gradient this is `tf.keras.optimizers.Adam`, step for step.
    For a `tf.IndexedSlices` gradient g (an embedding table's: one row per id
    of the batch) only the rows i the batch touched change, with duplicate
    ids summed first:

        m_i ← β₁ m_i + (1 − β₁) g_i
        v_i ← β₂ v_i + (1 − β₂) g_i²
        (AMSGrad: v̂_i ← max(v̂_i, v_i), used in place of v_i)
        θ_i ← θ_i − α_t m_i / (√v_i + ε),   α_t = lr √(1 − β₂ᵗ) / (1 − β₁ᵗ)

    with t the optimizer's step count. Rows not in the batch keep their
    value and both moments; Adam would decay the moments of all rows and move
    every row that ever had a gradient, which costs a pass over the whole
    table (and both moments) per step: at 10⁶–10⁸ ids per feature that pass,
    not the model, sets the training speed. The rule is TF-Addons' LazyAdam
    (end of life) and the sparse Adam of PyTorch. Weight decay, if set, is
    applied to the whole variable as in Adam.

    Its slot variables are Adam's (`m`, `v`, and `v̂` with AMSGrad), named
    and laid out the same, so checkpoints move between the two.

    Args:
        as `tf.keras.optimizers.Adam` (`learning_rate`, `beta_1`, `beta_2`,
        `epsilon`, `amsgrad`, clipping, `name`, ...).

    Example:
    >>> table = tf.Variable(tf.ones((4, 2)))
    >>> optimizer = keras_mtl.optimizers.LazyAdam(learning_rate=0.1)
    >>> with tf.GradientTape() as tape:
    ...     loss = tf.reduce_sum(tf.gather(table, [1, 1]))
    >>> _ = optimizer.apply_gradients([(tape.gradient(loss, table), table)])
    >>> [round(float(v), 3) for v in table.numpy()[:, 0]]  # row 1 moved, the others did not
    [1.0, 0.9, 1.0, 1.0]

    References:
        Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
    """

    def __init__(
        self,
        learning_rate: Union[float, tf.keras.optimizers.schedules.LearningRateSchedule] = 0.001,
        name: str = "lazy_adam",
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)

    def update_rows(
        self,
        gradient: tf.IndexedSlices,
        variable: tf.Variable,
        learning_rate: Union[float, tf.Tensor],
    ) -> None:
        """The update above, on the rows of a `tf.IndexedSlices` gradient."""
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        alpha = (
            tf.cast(learning_rate, dtype)
            * tf.sqrt(1 - tf.pow(beta_2, step))
            / (1 - tf.pow(beta_1, step))
        )
        slots = ("_momentums", "_velocities") + (("_velocity_hats",) if self.amsgrad else ())
        m, v, *v_hat = keras_compat.optimizer_slots(self, variable, *slots)
        # m holds the summed gradient rows for a moment; its old rows come back
        indices, m_old, grad = summed_rows(self, m, gradient)  # (rows,), (rows, dim) x2
        m_rows = beta_1 * m_old + (1 - beta_1) * grad
        v_rows = beta_2 * keras_compat.gather_rows(v, indices) + (1 - beta_2) * tf.square(grad)
        keras_compat.scatter_update(self, m, tf.IndexedSlices(m_rows, indices))
        keras_compat.scatter_update(self, v, tf.IndexedSlices(v_rows, indices))
        if v_hat:
            v_rows = tf.maximum(keras_compat.gather_rows(v_hat[0], indices), v_rows)
            keras_compat.scatter_update(self, v_hat[0], tf.IndexedSlices(v_rows, indices))
        step_rows = alpha * m_rows / (tf.sqrt(v_rows) + tf.cast(self.epsilon, dtype))
        # written, not subtracted: a duplicate id writes the same row twice
        new_rows = keras_compat.gather_rows(variable, indices) - step_rows
        keras_compat.scatter_update(self, variable, tf.IndexedSlices(new_rows, indices))
