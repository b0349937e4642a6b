"""STAR's Partitioned Normalization: batch normalisation per domain."""

from collections.abc import Sequence
from typing import Any
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _domain
from keras_mtl.layers import _validation


@keras_mtl_export
class PartitionedNormalization(tf.keras.layers.Layer):
    """Normalises each row with its domain's statistics, scale and offset.

    For a row z of domain p:
    `z' = (γ ⊙ γ_p) ⊙ (z − μ) / sqrt(σ² + ε) + (β + β_p)`, with a shared scale and
    offset `γ, β` and per-domain ones `γ_p` (starting at 1) and `β_p` (starting
    at 0). In training, μ and σ² are the (biased) statistics of the batch's rows
    of domain p: the whole batch when a batch holds one domain, as in the
    paper. At inference they are domain p's moving statistics, which only a
    training call updates, `moving ← momentum · moving + (1 − momentum) · batch`,
    and only for the domains present in the batch (BatchNormalization's rule).

    Domain ids outside `[0, num_domains)` use the shared `γ, β` and the whole
    batch's statistics in training, and at inference an extra slot of moving
    statistics (the last row of `moving_mean` / `moving_variance`) that every
    training batch updates with its overall statistics. An empty batch updates
    nothing and returns an empty result. Under a `tf.distribute` strategy the
    statistics are those of the global batch (summed over the replicas, as
    synchronised batch normalisation does), so replicas stay identical. The
    layer computes in float32 unless given another `dtype`: under a mixed
    precision policy its input is cast to float32 and its float32 output is
    cast back by the next layer.

    Args:
        num_domains: number of domains D.
        momentum: momentum of the moving statistics.
        epsilon: added to the variance.
        gamma_regularizer: regularizer of the shared scale γ.
        beta_regularizer: regularizer of the shared offset β.

    Input shape: a list `[x (batch, d), domain (batch,) integers]`.
    Output shape: `(batch, d)`.

    Call arguments:
        inputs: `[x, domain]`.
        training: normalise with batch statistics and update the moving ones.
            Ignored (inference) when the layer is not trainable.

    Example:
    >>> norm = PartitionedNormalization(num_domains=2)
    >>> x = tf.constant([[1.0], [3.0], [10.0], [20.0]])
    >>> norm([x, tf.constant([0, 0, 1, 1])], training=True).numpy().ravel().round(2).tolist()
    [-1.0, 1.0, -1.0, 1.0]

    References:
        Sheng et al., "One Model to Serve All: Star Topology Adaptive
        Recommender for Multi-Domain CTR Prediction", CIKM 2021.
    """

    def __init__(
        self,
        num_domains: int,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        gamma_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        beta_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        **kwargs: Any,
    ) -> None:
        # statistics and moving averages stay float32 under mixed precision
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.num_domains = _validation.positive_int("num_domains", num_domains)
        if not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
            raise ValueError(f"expected a momentum in [0, 1). Received: momentum={momentum!r}")
        if not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(f"expected a positive epsilon. Received: epsilon={epsilon!r}")
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.gamma_regularizer = tf.keras.regularizers.get(gamma_regularizer)
        self.beta_regularizer = tf.keras.regularizers.get(beta_regularizer)

    def build(self, input_shape):
        x_shape, _ = _domain.check_inputs(self, input_shape)
        width, d = int(x_shape[-1]), self.num_domains
        self.gamma = self.add_weight(
            name="gamma",
            shape=(width,),
            initializer="ones",
            regularizer=self.gamma_regularizer,
        )
        self.beta = self.add_weight(
            name="beta",
            shape=(width,),
            initializer="zeros",
            regularizer=self.beta_regularizer,
        )
        self.domain_gamma = self.add_weight(
            name="domain_gamma", shape=(d, width), initializer="ones"
        )
        self.domain_beta = self.add_weight(
            name="domain_beta", shape=(d, width), initializer="zeros"
        )
        # one row per domain, and a last one (all rows) for unknown domain ids
        self.moving_mean = self.add_weight(
            name="moving_mean",
            shape=(d + 1, width),
            initializer="zeros",
            trainable=False,
        )
        self.moving_variance = self.add_weight(
            name="moving_variance",
            shape=(d + 1, width),
            initializer="ones",
            trainable=False,
        )
        super().build(input_shape)

    @property
    def domain_variables(self):
        """The per-domain scale and offset (leading axis = domain)."""
        return [self.domain_gamma, self.domain_beta]

    def _batch_statistics(self, x, route):
        """`(mean, variance, present)` per slot: (D+1, d), (D+1, d), (D+1,)."""
        counts = tf.reduce_sum(route, axis=0)  # (D+1,)
        rows = tf.cast(tf.shape(x)[0], x.dtype)
        # domains from their own rows, the OOV slot from the whole batch
        sums = tf.einsum("bk,bi->ki", route, x)  # (D+1, d)
        totals = tf.concat([counts[:-1], rows[None]], axis=0)  # (D+1,)
        sums = tf.concat([sums[:-1], tf.reduce_sum(x, axis=0, keepdims=True)], axis=0)
        # under tf.distribute, statistics of the global batch: every replica
        # normalises alike and keeps equal moving statistics
        sums, totals = _sum_over_replicas(sums), _sum_over_replicas(totals)
        mean = tf.math.divide_no_nan(sums, totals[:, None])  # (D+1, d)
        row_mean = tf.matmul(route, mean)  # (B, d)
        global_mean = mean[-1:]  # (1, d)
        squares = tf.einsum("bk,bi->ki", route, tf.square(x - row_mean))  # (D+1, d)
        global_squares = tf.reduce_sum(tf.square(x - global_mean), axis=0, keepdims=True)
        squares = tf.concat([squares[:-1], global_squares], axis=0)  # (D+1, d)
        variance = tf.math.divide_no_nan(_sum_over_replicas(squares), totals[:, None])
        return mean, variance, totals > 0

    def _update_moving(self, variable, batch_value, present):
        old = tf.cast(variable, batch_value.dtype)
        new = old * self.momentum + batch_value * (1.0 - self.momentum)
        variable.assign(tf.cast(tf.where(present[:, None], new, old), variable.dtype))

    def call(self, inputs: Sequence[tf.Tensor], training: Optional[bool] = None) -> tf.Tensor:
        x, domain = inputs
        route = _domain.one_hot(domain, self.num_domains, x.dtype)  # (B, D+1)
        if training and self.trainable:
            mean, variance, present = self._batch_statistics(x, route)
            self._update_moving(self.moving_mean, mean, present)
            self._update_moving(self.moving_variance, variance, present)
        else:
            mean = tf.cast(self.moving_mean, x.dtype)
            variance = tf.cast(self.moving_variance, x.dtype)
        scale = tf.concat(
            [self.gamma[None] * self.domain_gamma, self.gamma[None]], axis=0
        )  # (D+1, d)
        offset = tf.concat(
            [self.beta[None] + self.domain_beta, self.beta[None]], axis=0
        )  # (D+1, d)
        row_mean = tf.matmul(route, mean)  # (B, d)
        row_variance = tf.matmul(route, variance)  # (B, d)
        normalized = (x - row_mean) * tf.math.rsqrt(row_variance + self.epsilon)
        return normalized * tf.matmul(route, scale) + tf.matmul(route, offset)

    def compute_output_shape(self, input_shape):
        x_shape, _ = _domain.check_inputs(self, input_shape)
        return x_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_domains": self.num_domains,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "gamma_regularizer": _validation.regularizer_config(self.gamma_regularizer),
            "beta_regularizer": _validation.regularizer_config(self.beta_regularizer),
        }


def _sum_over_replicas(value):
    """`value` summed over the replicas in sync (itself outside tf.distribute)."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)
