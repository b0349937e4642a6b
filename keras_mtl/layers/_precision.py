"""Mixed precision helpers of the layers: what must run in float32.

Under `mixed_bfloat16` / `mixed_float16` a layer computes in its compute
dtype (16 bits) while its variables stay float32. A few reductions lose too
much there (a softmax's normaliser, batch statistics), so they run in
float32 and their result is cast back where it meets 16-bit activations.
Under the float32 policy every cast below is the identity.
"""

import tensorflow as tf


def softmax(logits, axis=-1):
    """`softmax(logits)` computed and returned in float32."""
    return tf.nn.softmax(tf.cast(logits, tf.float32), axis=axis)


def like(value, reference):
    """`value` cast to the dtype of `reference` (a no-op when they agree)."""
    return tf.cast(value, reference.dtype)


def bias_add(x, bias):
    """`tf.nn.bias_add(x, bias)` for `x` of shape `(batch, units)`.

    Under a 16-bit compute dtype its bias gradient is `1ᵀ · dy`, a matmul
    (oneDNN's bfloat16 kernels), not `BiasAddGrad`, whose column sums ran at
    a fraction of the matmul rate (the largest op outside the matmuls in the
    profile of a bfloat16 MMoE step). In float32 it is plain `bias_add`.
    """
    if x.dtype not in (tf.bfloat16, tf.float16):
        return tf.nn.bias_add(x, bias)
    # a tensor, not the variable: custom gradients of variables need a `variables` argument
    return _bias_add_16(x, tf.cast(bias, x.dtype))


@tf.custom_gradient
def _bias_add_16(x, bias):
    def grad(dy):
        ones = tf.ones((1, tf.shape(dy)[0]), dy.dtype)
        return dy, tf.reshape(tf.matmul(ones, dy), tf.shape(bias))  # (1, B) x (B, n)

    return tf.nn.bias_add(x, bias), grad
