"""PEPNet's EPNet: domain-personalised embeddings."""

from collections.abc import Sequence
from typing import Any
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _validation
from keras_mtl.layers import gate_nu
from keras_mtl.layers.gate_nu import GateNU


@keras_mtl_export
class EPNetLayer(tf.keras.layers.Layer):
    """`E' = g_ep([E_domain ; stop_gradient(E)]) ⊙ E`, g_ep a `GateNU`.

    The gate reads the domain-side embedding and the general embedding E,
    the latter under stop-gradient: the gate learns how each domain scales
    each embedding dimension, but its input path sends no gradient into E.
    E is trained only through the gated product `g ⊙ E` (as in the paper).

    Args:
        hidden_units: hidden width of the gate; None uses the width of E.
        gamma: the gate's scale γ (2 in the paper).
        kernel_initializer: initializer of the gate kernels.
        bias_initializer: initializer of the gate biases.
        kernel_regularizer: regularizer of the gate kernels.

    Input shape: a list `[domain (batch, d_domain), embeddings (batch, d)]`.
    Output shape: `(batch, d)`.

    Call arguments:
        inputs: `[domain, embeddings]`.

    Example:
    >>> epnet = EPNetLayer(kernel_initializer="zeros")  # every gate 2·sigmoid(0) = 1
    >>> epnet([tf.ones((2, 3)), tf.fill((2, 4), 5.0)]).numpy().tolist()[0]
    [5.0, 5.0, 5.0, 5.0]

    References:
        Chang et al., "PEPNet: Parameter and Embedding Personalized Network
        for Infusing with Personalized Prior Information", KDD 2023.
    """

    def __init__(
        self,
        hidden_units: Optional[int] = None,
        gamma: float = 2.0,
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        bias_initializer: Union[str, tf.keras.initializers.Initializer] = "zeros",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.hidden_units = (
            None if hidden_units is None else _validation.positive_int("hidden_units", hidden_units)
        )
        self.gamma = gate_nu.check_gamma(gamma)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.bias_initializer = tf.keras.initializers.get(bias_initializer)
        self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)

    def _check_shapes(self, input_shape):
        domain_shape, embedding_shape = _validation.input_pair(
            "EPNetLayer", "domain, embeddings", input_shape
        )
        if (
            len(domain_shape) != 2
            or len(embedding_shape) != 2
            or None in (domain_shape[-1], embedding_shape[-1])
        ):
            raise ValueError(
                "EPNetLayer expected inputs [domain (batch, d_domain), embeddings "
                f"(batch, d)] with known widths. Received: input_shape={input_shape}"
            )
        return domain_shape, embedding_shape

    def build(self, input_shape):
        domain_shape, embedding_shape = self._check_shapes(input_shape)
        self.gate = GateNU(
            embedding_shape[-1],
            hidden_units=self.hidden_units,
            gamma=self.gamma,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            kernel_regularizer=self.kernel_regularizer,
            name="gate",
        )
        with tf.name_scope(self.gate.name):  # unique variable names on tf_keras 2
            self.gate.build((domain_shape[0], domain_shape[-1] + embedding_shape[-1]))
        super().build(input_shape)

    def call(self, inputs: Sequence[tf.Tensor]) -> tf.Tensor:
        domain, embeddings = inputs
        gate_input = tf.concat([domain, tf.stop_gradient(embeddings)], axis=-1)  # (B, d_dom + d)
        return self.gate(gate_input) * embeddings  # (B, d)

    def compute_output_shape(self, input_shape):
        return self._check_shapes(input_shape)[1]

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_units": self.hidden_units,
            "gamma": self.gamma,
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": tf.keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _validation.regularizer_config(self.kernel_regularizer),
        }
