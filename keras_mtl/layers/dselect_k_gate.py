"""DSelect-k: a differentiable gate that selects (at most) k experts."""

import math

import numpy as np
import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _validation
from keras_mtl.layers._mixture_gate import MixtureGate

#: Keeps logarithms and the renormalisation finite.
EPSILON = 1e-6


def smooth_step(t, gamma):
    """`S_γ(t)`: 0 below −γ/2, 1 above γ/2, `−2t³/γ³ + 3t/(2γ) + 1/2` between."""
    cubic = -2.0 / gamma**3 * t**3 + 3.0 / (2.0 * gamma) * t + 0.5
    return tf.where(
        t <= -gamma / 2, tf.zeros_like(t), tf.where(t >= gamma / 2, tf.ones_like(t), cubic)
    )


def binary_codes(num_experts):
    """`(num_experts, ⌈log₂ n⌉)` bools: row e is e in binary, most significant bit first."""
    bits = max(1, math.ceil(math.log2(num_experts)))
    return np.array(
        [[(e >> (bits - 1 - b)) & 1 for b in range(bits)] for e in range(num_experts)], dtype=bool
    )


def selector_entropy(r):
    """`mean_batch Σ_i H(r_i)` of selectors `r` `(batch, k, n)`."""
    return tf.reduce_mean(tf.reduce_sum(-r * tf.math.log(r + EPSILON), axis=[1, 2]))


def _mixed_selectors(r, alpha):
    """`α = Σ_i softmax(w)_i r_i` `(batch, n)` of selectors `r` `(batch, k, n)`."""
    return tf.reduce_sum(alpha[:, :, None] * r, axis=1)  # (B, n)


@keras_mtl_export
class DSelectKGate(MixtureGate):
    """Mixes experts with DSelect-k weights: a smooth, sparse choice of k experts.

    Expert e of the n experts has the `m = ⌈log₂ n⌉`-bit code `bit(e)`. Each of
    the k selectors i has logits `z_i ∈ R^m`; with `s_i = S_γ(z_i)` (the
    smooth step, exactly 0 or 1 outside `[−γ/2, γ/2]`) it puts
    `r_i(e) = Π_b (s_ib if bit_b(e) else 1 − s_ib)` on expert e, a
    distribution over the `2^m` codes that becomes one-hot as the `s_ib`
    reach 0 or 1. The weights are `α = Σ_i softmax(w)_i · r_i` and the output
    is `Σ_e α_e f_e(x)`. Per example (`per_example=True`, the default) `z`
    and `w` are Dense layers of the gate input (after an optional hidden
    MLP); otherwise they are trainable constants (one gate for all rows).

    When n is not a power of two, `r_i` is renormalised over the n experts
    that have a code (`r_i / Σ_e r_i(e)`; our choice: the reference code
    instead adds a penalty `1 / Σ_e r_i(e)` to the loss), so α always sums to
    1. With `entropy_reg > 0` the layer adds
    `entropy_reg · mean_batch Σ_i H(r_i)` to the model's losses (the paper's
    entropy regulariser, which drives each selector to a single expert).

    `gate_weights` follows `GateLayer`: one `GateGroup` "gates" with one row.

    Args:
        num_experts: number of experts n (at least 2).
        k: number of selectors, the most experts any row mixes.
        gamma: width γ of the smooth step's cubic region.
        entropy_reg: coefficient of the entropy regulariser (0: none).
        per_example: whether the selection depends on the gate input.
        hidden_units: widths of hidden layers before `z` and `w` (per example).
        activation: activation of the hidden layers.
        z_initializer: initializer of the `z` kernel and bias (default
            uniform in ±γ/100: selectors start near uniform, as in the paper's
            code).
        w_initializer: initializer of the `w` kernel and bias.
        kernel_regularizer: regularizer of the Dense kernels.
        return_weights: also return the weights `(batch, n)`.

    Input shape: a list `[gate_input (batch, d), experts (batch, n, units)]`.
    Output shape: `(batch, units)`, and `(batch, n)` weights when
        `return_weights=True`.

    Call arguments:
        inputs: `[gate_input, experts]`.
        training: passed to the hidden MLP.

    Example:
    >>> gate = DSelectKGate(num_experts=4, k=2, name="gate_ctr")
    >>> tuple(gate([tf.ones((2, 5)), tf.ones((2, 4, 3))]).shape)
    (2, 3)
    >>> weights = gate.mixture_weights(tf.ones((2, 5)))
    >>> weights.numpy().sum(axis=1).round(5).tolist()
    [1.0, 1.0]

    References:
        Hazimeh et al., "DSelect-k: Differentiable Selection in the Mixture of
        Experts with Applications to Multi-Task Learning", NeurIPS 2021.
    """

    def __init__(
        self,
        num_experts,
        k=2,
        gamma=1.0,
        entropy_reg=0.0,
        per_example=True,
        hidden_units=(),
        activation="relu",
        z_initializer=None,
        w_initializer=None,
        kernel_regularizer=None,
        return_weights=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_experts = _validation.positive_int("num_experts", num_experts)
        if self.num_experts < 2:
            raise ValueError(
                "DSelectKGate expected at least 2 experts to select from. "
                f"Received: num_experts={num_experts!r}"
            )
        self.k = _validation.positive_int("k", k)
        if not isinstance(gamma, (int, float)) or gamma <= 0:
            raise ValueError(f"expected a number > 0. Received: gamma={gamma!r}")
        self.gamma = float(gamma)
        if not isinstance(entropy_reg, (int, float)) or entropy_reg < 0:
            raise ValueError(f"expected a number >= 0. Received: entropy_reg={entropy_reg!r}")
        self.entropy_reg = float(entropy_reg)
        self.per_example = bool(per_example)
        self.hidden_units = _validation.positive_int_tuple("hidden_units", hidden_units)
        self.activation = tf.keras.activations.get(activation)
        self.z_initializer = tf.keras.initializers.get(
            z_initializer
            or tf.keras.initializers.RandomUniform(-self.gamma / 100, self.gamma / 100)
        )
        self.w_initializer = tf.keras.initializers.get(
            w_initializer or tf.keras.initializers.RandomUniform(-0.05, 0.05)
        )
        self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)
        self.return_weights = bool(return_weights)
        self.codes = binary_codes(self.num_experts)  # (n, m)
        self.num_bits = self.codes.shape[1]

    def _dense(self, units, initializer, offset, name, shape):
        layer = tf.keras.layers.Dense(
            units,
            kernel_initializer=_validation.clone_initializer(initializer, offset),
            bias_initializer=_validation.clone_initializer(initializer, offset + 1),
            kernel_regularizer=self.kernel_regularizer,
            name=name,
        )
        with tf.name_scope(layer.name):  # unique variable names on tf_keras 2
            layer.build(shape)
        return layer

    def build(self, input_shape):
        gate_shape, _ = self._check_shapes(input_shape)
        self.hidden = None
        if not self.per_example:
            self.z_logits = self.add_weight(
                name="z_logits", shape=(self.k, self.num_bits), initializer=self.z_initializer
            )
            self.w_logits = self.add_weight(
                name="w_logits", shape=(self.k,), initializer=self.w_initializer
            )
            super().build(input_shape)
            return
        shape = self.build_hidden(gate_shape)
        self.z_dense = self._dense(self.k * self.num_bits, self.z_initializer, 0, "z", shape)
        self.w_dense = self._dense(self.k, self.w_initializer, 2, "w", shape)
        super().build(input_shape)

    def selectors(self, gate_input, training=None):
        """`(r, softmax(w))`: the selectors `(batch, k, n)` (renormalised over
        the n experts) and their weights `(batch, k)`, float32."""
        batch = tf.shape(gate_input)[0]
        if self.per_example:
            h = gate_input if self.hidden is None else self.hidden(gate_input, training=training)
            z = tf.reshape(
                tf.cast(self.z_dense(h), tf.float32), (-1, self.k, 1, self.num_bits)
            )  # (B, k, 1, m)
            w = tf.cast(self.w_dense(h), tf.float32)  # (B, k)
        else:
            z = tf.broadcast_to(
                tf.cast(self.z_logits, tf.float32)[None, :, None, :],
                (batch, self.k, 1, self.num_bits),
            )  # (B, k, 1, m)
            w = tf.broadcast_to(
                tf.cast(self.w_logits, tf.float32)[None, :], (batch, self.k)
            )  # (B, k)
        s = smooth_step(z, self.gamma)  # (B, k, 1, m)
        codes = tf.constant(self.codes[None, None, :, :])  # (1, 1, n, m)
        r = tf.reduce_prod(tf.where(codes, s, 1.0 - s), axis=-1)  # (B, k, n)
        # identity when n is a power of two (the codes then cover all 2^m)
        r = r / tf.maximum(tf.reduce_sum(r, axis=-1, keepdims=True), EPSILON)
        return r, tf.nn.softmax(w, axis=-1)

    def entropy(self, gate_input):
        """`mean_batch Σ_i H(r_i)`: the regulariser before its coefficient."""
        return selector_entropy(self.selectors(gate_input)[0])

    def mixture_weights(self, gate_input, training=None):
        """The weights `α = Σ_i softmax(w)_i r_i`, `(batch, n)` float32."""
        return _mixed_selectors(*self.selectors(gate_input, training=training))

    def call(self, inputs, training=None):
        gate_input, experts = inputs
        r, alpha = self.selectors(gate_input, training=training)
        if self.entropy_reg > 0:
            self.add_loss(self.entropy_reg * selector_entropy(r))
        return self.mix(_mixed_selectors(r, alpha), experts)

    def get_config(self):
        return {
            **super().get_config(),
            "num_experts": self.num_experts,
            "k": self.k,
            "gamma": self.gamma,
            "entropy_reg": self.entropy_reg,
            "per_example": self.per_example,
            "hidden_units": list(self.hidden_units),
            "activation": tf.keras.activations.serialize(self.activation),
            "z_initializer": tf.keras.initializers.serialize(self.z_initializer),
            "w_initializer": tf.keras.initializers.serialize(self.w_initializer),
            "kernel_regularizer": _validation.regularizer_config(self.kernel_regularizer),
            "return_weights": self.return_weights,
        }
