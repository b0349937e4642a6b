"""Initial values of stacked kernels: one independently seeded kernel per copy."""

import math

import tensorflow as tf

from keras_mtl.layers import _validation


def per_copy_initializer(initializer, copy_dims, offset=0):
    """An initial-value function for kernels stacked on `copy_dims` leading axes.

    A kernel of shape `(N_1, ..., N_c, fan_in, fan_out)` holds `N_1·...·N_c`
    kernels of shape `(fan_in, fan_out)`. Each is drawn by its own clone of
    `initializer` (seed + `offset` + copy index, see `clone_initializer`), so
    the fans the initializer sees are those of one kernel and no two copies
    start equal.
    """

    def initial_value(shape, dtype=None):
        shape = tuple(int(d) for d in shape)
        copies = math.prod(shape[:copy_dims])
        kernels = [
            _validation.clone_initializer(initializer, offset=offset + i)(
                shape[copy_dims:], dtype=dtype
            )
            for i in range(copies)
        ]
        # (copies, fan_in, fan_out) -> (N_1, ..., N_c, fan_in, fan_out)
        return tf.reshape(tf.stack(kernels, axis=0), shape)

    return initial_value
