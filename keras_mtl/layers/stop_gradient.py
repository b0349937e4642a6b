"""Identity in the forward pass, no gradient in the backward pass."""

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export


@keras_mtl_export
class StopGradient(tf.keras.layers.Layer):
    """Returns its input unchanged and blocks gradients through it.

    Builders use it to feed task A's prediction into task B's tower without
    letting task B's loss train task A ("task A's prediction as an input of
    task B").

    Input shape: any.
    Output shape: the same.

    Call arguments:
        inputs: a tensor.

    Example:
    >>> x = tf.Variable([2.0])
    >>> with tf.GradientTape() as tape:
    ...     y = StopGradient()(x) * x
    >>> tape.gradient(y, x).numpy().tolist()
    [2.0]
    """

    def build(self, input_shape):
        super().build(input_shape)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return tf.stop_gradient(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return super().get_config()
