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
