"""Per-row domain routing shared by the multi-domain layers.

A row's domain id p selects slot p of a per-domain table. Ids outside
`[0, num_domains)` (unseen domains, the OOV row of a pre-encoded domain
feature, corrupt values) select the extra slot `num_domains`, which every
multi-domain layer fills with its shared parameters only: an unknown domain is
served by what all domains share, never by another domain's weights or NaN.
"""

import tensorflow as tf


def check_inputs(layer, input_shape):
    """`(x_shape, domain_shape)` of `[x, domain]`, with an error naming both."""
    if (
        not isinstance(input_shape, (list, tuple))
        or len(input_shape) != 2
        or not all(isinstance(s, (list, tuple, tf.TensorShape)) for s in input_shape)
    ):
        raise ValueError(
            f"{type(layer).__name__} expected inputs [x, domain] (features "
            f"(batch, d) and integer domain ids (batch,)). Received: "
            f"input_shape={input_shape}"
        )
    x_shape, domain_shape = (tuple(s) for s in input_shape)
    if len(x_shape) != 2 or x_shape[-1] is None:
        raise ValueError(
            f"{type(layer).__name__} expected x of shape (batch, d) with a known "
            f"d. Received: {x_shape}"
        )
    if len(domain_shape) not in (1, 2) or (len(domain_shape) == 2 and domain_shape[1] != 1):
        raise ValueError(
            f"{type(layer).__name__} expected domain ids of shape (batch,) or "
            f"(batch, 1). Received: {domain_shape}"
        )
    return x_shape, domain_shape


def slot(domain, num_domains):
    """Domain ids → slots `(batch,)` int32 in `[0, num_domains]` (D = OOV)."""
    ids = tf.reshape(tf.cast(domain, tf.int64), [-1])  # (B,)
    valid = tf.logical_and(ids >= 0, ids < num_domains)
    return tf.cast(tf.where(valid, ids, tf.cast(num_domains, tf.int64)), tf.int32)


def one_hot(domain, num_domains, dtype):
    """`(batch, num_domains + 1)` one-hot routing matrix, OOV in the last column."""
    return tf.one_hot(slot(domain, num_domains), num_domains + 1, dtype=dtype)
