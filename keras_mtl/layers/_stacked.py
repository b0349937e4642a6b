"""Stacked-branch helpers: the `(batch, branches, features)` input check,
initial values of stacked kernels (one independently seeded kernel per copy),
the dense arguments the stacked-kernel layers share, and SNR's connection gates."""

import math

import tensorflow as tf

from keras_mtl.layers import _validation
from keras_mtl.layers.hard_concrete_gate import HardConcreteGate


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


def stacked_shape(layer, input_shape, what, axis, features_known=True):
    """`input_shape` as a tuple if it is `(batch, <axis>, features)`, else a ValueError.

    The branch count must be known, and the feature width too unless
    `features_known=False`; the error names the layer, what it expected
    (`what`, e.g. "stacked branches") and what it received.
    """
    shape = tuple(input_shape)
    if len(shape) != 3 or shape[1] is None or (features_known and shape[2] is None):
        raise ValueError(
            f"{type(layer).__name__} expected {what} of shape (batch, {axis}, features). "
            f"Received: input_shape={shape}"
        )
    return shape


def dense_arguments(activation, kernel_initializer, bias_initializer, kernel_regularizer):
    """`(activation, kernel_initializer, bias_initializer, kernel_regularizer)`
    normalised by the `.get` helpers; `dense_config` serializes them back."""
    return (
        tf.keras.activations.get(activation),
        tf.keras.initializers.get(kernel_initializer),
        tf.keras.initializers.get(bias_initializer),
        tf.keras.regularizers.get(kernel_regularizer),
    )


def dense_config(layer):
    """The `get_config` entries of `layer`'s `dense_arguments`, serialized."""
    return {
        "activation": tf.keras.activations.serialize(layer.activation),
        "kernel_initializer": tf.keras.initializers.serialize(layer.kernel_initializer),
        "bias_initializer": tf.keras.initializers.serialize(layer.bias_initializer),
        "kernel_regularizer": _validation.regularizer_config(layer.kernel_regularizer),
    }


def connection_gate(layer, lower, input_shape):
    """A built `HardConcreteGate` `z_ij`, shape `(num_outputs, lower)`, for the
    connections of an SNR layer (its `num_outputs`, `l0_coefficient`,
    `log_alpha_initializer` and `seed`) from `lower` sub-networks."""
    gate = HardConcreteGate(
        (layer.num_outputs, int(lower)),
        l0_coefficient=layer.l0_coefficient,
        log_alpha_initializer=layer.log_alpha_initializer,
        seed=layer.seed,
        name="gate",
    )
    with tf.name_scope(gate.name):  # unique variable names on tf_keras 2
        gate.build(input_shape)
    return gate
