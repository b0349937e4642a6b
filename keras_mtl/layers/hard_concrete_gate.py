"""Hard-concrete gates: differentiable on/off switches with an L0 penalty."""

import math
from collections.abc import Sequence
from typing import Any
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _validation

# u is drawn from [EPSILON, 1 - EPSILON] so that log u and log(1 - u) stay finite.
EPSILON = 1e-6


@keras_mtl_export
class HardConcreteGate(tf.keras.layers.Layer):
    """Gates `z ∈ [0, 1]` of a given shape, exactly 0 or 1 with positive mass.

    Each gate has a trainable `log α`. In training every row of the batch
    draws its own gates from the hard-concrete distribution:
    `u ~ U(0, 1)`, `s = sigmoid((log u − log(1 − u) + log α) / β)`,
    `z = min(1, max(0, s·(ζ − γ) + γ))`. At inference the gates are the
    deterministic estimator `z = min(1, max(0, sigmoid(log α)·(ζ − γ) + γ))`,
    so predictions and exports do not depend on random numbers.

    The expected number of open gates, `L0 = Σ sigmoid(log α − β·log(−γ/ζ))`
    (`P(z ≠ 0)` summed over gates), is added to the layer's losses as
    `l0_coefficient · L0` on every call; `MultiTaskModel` adds layer losses to
    the training total. The layer computes in float32 unless given another
    `dtype` (also under mixed precision policies: the layers that read its
    gates cast them to their compute dtype).

    Args:
        gate_shape: shape of the gates of one row, e.g. `(4, 3)` for the
            connections of 3 lower to 4 upper sub-networks.
        l0_coefficient: λ of the expected-L0 penalty (0 adds none).
        beta: temperature β of the concrete distribution (> 0).
        gamma: lower end γ of the stretch interval (< 0).
        zeta: upper end ζ of the stretch interval (> 1).
        log_alpha_initializer: initializer of `log α` (0 opens a gate half way
            at inference: `z = 0.5`).
        seed: seed of the training noise (None: the global seed).

    Input shape: `(batch, ...)`; only the batch size is read.
    Output shape: `(batch, *gate_shape)`.

    Call arguments:
        inputs: any tensor with the batch as its first axis.
        training: True samples the gates; False / None gives the estimator.

    Example:
    >>> gate = HardConcreteGate((2,), log_alpha_initializer="zeros")
    >>> gate(tf.ones((1, 5))).numpy().tolist()
    [[0.5, 0.5]]

    References:
        Louizos et al., "Learning Sparse Neural Networks through L0
        Regularization", ICLR 2018.
    """

    def __init__(
        self,
        gate_shape: Sequence[int],
        l0_coefficient: float = 1e-3,
        beta: float = 2.0 / 3.0,
        gamma: float = -0.1,
        zeta: float = 1.1,
        log_alpha_initializer: Union[str, tf.keras.initializers.Initializer] = "zeros",
        seed: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        # log α, the noise and L0 stay float32 under mixed precision policies
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.gate_shape = _validation.positive_int_tuple(
            "gate_shape", gate_shape, allow_empty=False
        )
        self.l0_coefficient, self.seed = checked_l0_and_seed(l0_coefficient, seed)
        self.beta = _number("beta", beta, above=0.0)
        self.gamma = _number("gamma", gamma, below=0.0)
        self.zeta = _number("zeta", zeta, above=1.0)
        self.log_alpha_initializer = tf.keras.initializers.get(log_alpha_initializer)

    def build(self, input_shape):
        self.log_alpha = self.add_weight(
            name="log_alpha",
            shape=self.gate_shape,
            initializer=self.log_alpha_initializer,
        )
        super().build(input_shape)

    def l0_norm(self):
        """Expected number of non-zero gates, `Σ sigmoid(log α − β·log(−γ/ζ))`."""
        shift = self.beta * math.log(-self.gamma / self.zeta)
        return tf.reduce_sum(tf.sigmoid(self.log_alpha - shift))

    def call(self, inputs: tf.Tensor, training: Optional[bool] = None) -> tf.Tensor:
        if self.l0_coefficient > 0:
            self.add_loss(self.l0_coefficient * self.l0_norm())
        shape = tf.concat([tf.shape(inputs)[:1], self.gate_shape], axis=0)
        log_alpha = tf.convert_to_tensor(self.log_alpha)
        if training:
            u = tf.random.uniform(
                shape, minval=EPSILON, maxval=1.0 - EPSILON, seed=self.seed
            )  # (B, *gate_shape)
            s = tf.sigmoid((tf.math.log(u) - tf.math.log(1.0 - u) + log_alpha) / self.beta)
        else:
            s = tf.broadcast_to(tf.sigmoid(log_alpha), shape)  # (B, *gate_shape)
        return tf.clip_by_value(s * (self.zeta - self.gamma) + self.gamma, 0.0, 1.0)

    def compute_output_shape(self, input_shape):
        return (tuple(input_shape)[0],) + self.gate_shape

    def get_config(self):
        return {
            **super().get_config(),
            "gate_shape": list(self.gate_shape),
            "l0_coefficient": self.l0_coefficient,
            "beta": self.beta,
            "gamma": self.gamma,
            "zeta": self.zeta,
            "log_alpha_initializer": tf.keras.initializers.serialize(self.log_alpha_initializer),
            "seed": self.seed,
        }


def checked_l0_and_seed(l0_coefficient, seed):
    """`(float λ >= 0, int seed or None)`; the connection layers check theirs here."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"expected an integer seed or None. Received: seed={seed!r}")
    return _number("l0_coefficient", l0_coefficient, minimum=0.0), seed


def _number(name, value, minimum=None, above=None, below=None):
    """`value` as a float, checked against its bound."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number. Received: {name}={value!r}")
    for ok, what in (
        (minimum is None or value >= minimum, f">= {minimum}"),
        (above is None or value > above, f"> {above}"),
        (below is None or value < below, f"< {below}"),
    ):
        if not ok:
            raise ValueError(f"expected a number {what}. Received: {name}={value!r}")
    return float(value)
