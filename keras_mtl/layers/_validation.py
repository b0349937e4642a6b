"""Argument checks and initializer helpers shared by the layers."""

import random

import tensorflow as tf


def positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected a positive integer. Received: {name}={value!r}")
    return value


def non_negative_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected an integer >= 0. Received: {name}={value!r}")
    return value


def positive_int_tuple(name, value, allow_empty=True):
    if isinstance(value, int):
        value = (value,)
    try:
        value = tuple(value)
    except TypeError:
        raise ValueError(
            f"expected a sequence of positive integers. Received: {name}={value!r}"
        ) from None
    if not value and not allow_empty:
        raise ValueError(f"expected at least one layer width. Received: {name}={value!r}")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(
                f"expected a sequence of positive integers. Received: {name}={value!r}"
            )
    return value


def input_pair(layer_name, names, input_shape):
    """The two shapes of a layer's `[a, b]` inputs, each as a tuple."""
    if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
        raise ValueError(
            f"{layer_name} expected inputs [{names}]. Received: input_shape={input_shape}"
        )
    return tuple(tuple(s) for s in input_shape)


def rate(name, value):
    if not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"expected a rate in [0, 1). Received: {name}={value!r}")
    return float(value)


def clone_initializer(initializer, offset):
    """A copy of `initializer` with its own seed, so no two copies draw alike.

    Keras draws the same values on every call of a seeded initializer (and
    Keras 3 gives unseeded ones a fixed seed at construction), so weights that
    must differ (experts, layers of one MLP) each get a clone whose seed is the
    base seed plus `offset`. Initializers without a seed (constants) are
    returned as they are.
    """
    config = initializer.get_config()
    if "seed" not in config:
        return initializer
    base = config["seed"]
    if base is None:
        base = random.randint(0, 2**30)
    config["seed"] = int(base) + int(offset)
    return initializer.__class__.from_config(config)


def serialize_or_none(obj, serialize):
    return None if obj is None else serialize(obj)


def regularizer_config(regularizer):
    return serialize_or_none(regularizer, tf.keras.regularizers.serialize)
