"""STAR's star-topology fully connected network."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Literal
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _domain
from keras_mtl.layers import _stacked
from keras_mtl.layers import _validation

COMBINE_MODES = ("multiply", "add")


@keras_mtl_export
class StarTopology(tf.keras.layers.Layer):
    """Fully connected layers whose weights are shared ⊙ the row's domain's.

    Every layer l has centred (shared) weights `W_l, b_l` and, per domain p,
    `W_{p,l}, b_{p,l}`. With `combine="multiply"` (STAR), a row of domain p
    goes through `h ← act(h · (W_l ⊙ W_{p,l}) + (b_l + b_{p,l}))`; the domain
    kernels start at ones and the domain biases at zeros, so every domain
    starts as the shared network. With `combine="add"`, a shared network (W, b)
    and the row's domain network (W_p, b_p) run side by side and their outputs
    are added: with `linear_output=True` that is the sum of the two networks'
    logits.

    Rows are routed by a one-hot matrix of their domain ids, inside the graph
    and without a loop over domains: each layer is one contraction of the
    `(batch, D+1, in)` routed input with the `(D+1, in, out)` kernels, about
    D+1 times the work of a dense layer. Domain ids outside `[0, num_domains)`
    get the shared weights only (as if `W_p = 1, b_p = 0`; in "add" mode the
    domain network's output is 0).

    `kernel_regularizer` applies to the shared kernels, and in "add" mode to
    the domain kernels too (in "multiply" mode they are factors around 1).
    `domain_variables` lists the per-domain weights (leading axis = domain), the
    domain-specific parameters `keras_mtl.training.MAMDR` trains.

    Args:
        num_domains: number of domains D.
        units: widths of the layers, e.g. `(64, 32)`.
        activation: activation after every layer (after all but the last with
            `linear_output=True`).
        linear_output: leave the last layer without activation (logits).
        combine: "multiply" (`W ⊙ W_p`, `b + b_p`) or "add" (shared network +
            domain network).
        dropout: dropout rate after every activated layer, in [0, 1).
        kernel_initializer: initializer of the shared kernels (and, in "add"
            mode, of each domain's kernels, with its own seed).
        bias_initializer: initializer of the shared biases.
        kernel_regularizer: regularizer of the kernels (see above).

    Input shape: a list `[x (batch, d), domain (batch,) integers]`.
    Output shape: `(batch, units[-1])`.

    Call arguments:
        inputs: `[x, domain]`.
        training: whether dropout runs.

    Example:
    >>> star = StarTopology(num_domains=2, units=(4, 1), linear_output=True)
    >>> out = star([tf.ones((3, 5)), tf.constant([0, 1, 9])])  # 9: shared only
    >>> tuple(out.shape)
    (3, 1)

    References:
        Sheng et al., "One Model to Serve All: Star Topology Adaptive
        Recommender for Multi-Domain CTR Prediction", CIKM 2021.
    """

    def __init__(
        self,
        num_domains: int,
        units: Sequence[int],
        activation: Union[str, Callable] = "relu",
        linear_output: bool = False,
        combine: Literal["multiply", "add"] = "multiply",
        dropout: float = 0.0,
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        bias_initializer: Union[str, tf.keras.initializers.Initializer] = "zeros",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_domains = _validation.positive_int("num_domains", num_domains)
        self.units = _validation.positive_int_tuple("units", units, allow_empty=False)
        self.activation = tf.keras.activations.get(activation)
        self.linear_output = bool(linear_output)
        if combine not in COMBINE_MODES:
            raise ValueError(f"expected combine in {COMBINE_MODES}. Received: combine={combine!r}")
        self.combine = combine
        self.dropout = _validation.rate("dropout", dropout)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.bias_initializer = tf.keras.initializers.get(bias_initializer)
        self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)

    def _domain_kernel_initializer(self, layer_index, fan_in, fan_out):
        """Ones ("multiply"), or one seeded draw per domain ("add")."""
        if self.combine == "multiply":
            return "ones"
        stride = self.num_domains + 1

        def initializer(shape, dtype=None):
            kernels = [
                _validation.clone_initializer(
                    self.kernel_initializer, offset=layer_index * stride + 1 + p
                )((fan_in, fan_out), dtype=dtype)
                for p in range(self.num_domains)
            ]
            return tf.stack(kernels, axis=0)  # (D, fan_in, fan_out)

        return initializer

    def build(self, input_shape):
        x_shape, _ = _domain.check_inputs(self, input_shape)
        d = self.num_domains
        self.kernels, self.biases = [], []
        self.domain_kernels, self.domain_biases = [], []
        fan_in = int(x_shape[-1])
        for i, fan_out in enumerate(self.units):
            self.kernels.append(
                self.add_weight(
                    name=f"kernel_{i}",
                    shape=(fan_in, fan_out),
                    initializer=_validation.clone_initializer(
                        self.kernel_initializer, offset=i * (d + 1)
                    ),
                    regularizer=self.kernel_regularizer,
                )
            )
            self.biases.append(
                self.add_weight(
                    name=f"bias_{i}", shape=(fan_out,), initializer=self.bias_initializer
                )
            )
            self.domain_kernels.append(
                self.add_weight(
                    name=f"domain_kernel_{i}",
                    shape=(d, fan_in, fan_out),
                    initializer=self._domain_kernel_initializer(i, fan_in, fan_out),
                    regularizer=self.kernel_regularizer if self.combine == "add" else None,
                )
            )
            self.domain_biases.append(
                self.add_weight(
                    name=f"domain_bias_{i}",
                    shape=(d, fan_out),
                    initializer="zeros" if self.combine == "multiply" else self.bias_initializer,
                )
            )
            fan_in = fan_out
        self.dropout_layers = [
            tf.keras.layers.Dropout(self.dropout, name=f"dropout_{i}")
            for i in range(len(self.units))
            if self.dropout > 0
        ]
        super().build(input_shape)

    @property
    def domain_variables(self):
        """The per-domain kernels and biases (leading axis = domain)."""
        return list(self.domain_kernels) + list(self.domain_biases)

    def _activate(self, h, i, training):
        if self.linear_output and i == len(self.units) - 1:
            return h
        h = self.activation(h)
        if self.dropout > 0:
            h = self.dropout_layers[i](h, training=training)
        return h

    @staticmethod
    def _routed_dense(h, route, kernels, biases):
        """Each row through its own slot's kernel: `h_b · K[p_b] + c[p_b]`."""
        routed = tf.einsum("bi,bd->bdi", h, route)  # (B, slots, in), zero off-domain
        # (B, slots, in) x (slots, in, out) -> (B, out)
        return tf.einsum("bdi,dio->bo", routed, kernels) + tf.matmul(route, biases)

    def call(self, inputs: Sequence[tf.Tensor], training: Optional[bool] = None) -> tf.Tensor:
        x, domain = inputs
        route = _domain.one_hot(domain, self.num_domains, x.dtype)  # (B, D+1)
        if self.combine == "multiply":
            h = x
            for i in range(len(self.units)):
                w, b = self.kernels[i], self.biases[i]
                # effective weights per slot; the OOV slot D has the shared ones
                kernels = tf.concat(
                    [w[None] * self.domain_kernels[i], w[None]], axis=0
                )  # (D+1, in, out)
                biases = tf.concat([b[None] + self.domain_biases[i], b[None]], axis=0)  # (D+1, out)
                h = self._activate(self._routed_dense(h, route, kernels, biases), i, training)
            return h
        route = route[:, : self.num_domains]  # (B, D); OOV rows are all zero
        shared, own = x, x
        for i in range(len(self.units)):
            shared = tf.matmul(shared, self.kernels[i]) + self.biases[i]  # (B, out)
            own = self._routed_dense(own, route, self.domain_kernels[i], self.domain_biases[i])
            shared = self._activate(shared, i, training)
            own = self._activate(own, i, training)
        in_range = tf.reduce_sum(route, axis=-1, keepdims=True)  # (B, 1)
        return shared + in_range * own

    def compute_output_shape(self, input_shape):
        x_shape, _ = _domain.check_inputs(self, input_shape)
        return (x_shape[0], self.units[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "num_domains": self.num_domains,
            "units": list(self.units),
            "linear_output": self.linear_output,
            "combine": self.combine,
            "dropout": self.dropout,
            **_stacked.dense_config(self),
        }
