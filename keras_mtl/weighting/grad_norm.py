"""GradNorm: task weights that balance gradient norms at the last shared layer."""

from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Optional

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.weighting import weighting_strategy
from keras_mtl.weighting.weighting_strategy import WeightingStrategy

if TYPE_CHECKING:
    from keras_mtl.training.step_context import StepContext


@keras_mtl_export
class GradNorm(WeightingStrategy):
    """Learns task weights `w_k` (Σ w_k = T) so that gradient norms balance.

    With `W` the weights of the model's last shared layer (builders declare
    it), `G_k = ||∇_W w_k·L_k||₂`, `Ḡ = mean_k G_k`, `L̃_k = L_k(t)/L_k(0)` and
    `r_k = L̃_k / mean_j L̃_j`:

        L_grad = Σ_k |G_k − stop_gradient(Ḡ · r_k^α)|

    The network is updated with the gradient of `Σ_k w_k L_k` only; the
    weights with the gradient of `L_grad` only (by the model's optimizer), and
    after each step they are clipped to stay positive and renormalised to sum
    to T. `L_k(0)` is the first non-zero loss seen for task k.

    Args:
        alpha: α, the strength of the restoring force towards equal training
            rates.
        min_weight: floor applied before renormalising.

    References:
        Chen et al., "GradNorm: Gradient Normalization for Adaptive Loss
        Balancing in Deep Multitask Networks", ICML 2018.
    """

    persistent_tape = True

    def __init__(self, alpha: float = 1.5, min_weight: float = 1e-3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(alpha, (int, float)) or alpha < 0:
            raise ValueError(f"expected alpha >= 0. Received: alpha={alpha!r}")
        if not isinstance(min_weight, (int, float)) or min_weight <= 0:
            raise ValueError(f"expected min_weight > 0. Received: min_weight={min_weight!r}")
        self.alpha = float(alpha)
        self.min_weight = float(min_weight)

    def create_state(self) -> None:
        self.weights_vector = self.add_task_vector("task_weights", "ones", trainable=True)
        self.initial_losses = self.add_task_vector("initial_losses")

    def task_weights(self, task_losses: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return self.by_task(self.weights_vector)

    def gradient_norm_loss(
        self, losses: tf.Tensor, norms: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """`(L_grad, G)` for a loss vector and the norms `||∇_W L_k||`."""
        initial = tf.convert_to_tensor(self.initial_losses)
        initial = tf.where(initial > 0, initial, losses)
        self.initial_losses.assign(initial)
        ratio = tf.math.divide_no_nan(losses, initial)  # L̃_k
        relative = tf.math.divide_no_nan(ratio, tf.reduce_mean(ratio))  # r_k
        g = tf.convert_to_tensor(self.weights_vector) * norms  # G_k
        target = tf.stop_gradient(tf.reduce_mean(g) * relative**self.alpha)
        return tf.reduce_sum(tf.abs(g - target)), g

    def gradients(
        self,
        tape: tf.GradientTape,
        total: tf.Tensor,
        weights: Mapping[str, tf.Tensor],
        task_losses: Mapping[str, tf.Tensor],
        variables: Sequence[tf.Variable],
        context: "StepContext",
    ) -> tuple[list[Optional[tf.Tensor]], dict[str, tf.Tensor], tf.Tensor]:
        layer = [
            v
            for v, last in zip(variables, context.last_shared)
            if last and v is not self.weights_vector
        ]
        if not layer:
            raise ValueError(
                "GradNorm needs the weights of the model's last shared layer. "
                "Received a model without `shared_layer` (keras_mtl builders "
                "declare it; pass MultiTaskModel(..., shared_layer=<layer name>))."
            )
        per_task = weighting_strategy.per_task_gradients(tape, task_losses, layer)
        norms = tf.stack(
            [tf.norm(weighting_strategy.flat(per_task[t], layer)) for t in self.task_names]
        )
        losses = tf.stack([tf.stop_gradient(task_losses[t]) for t in self.task_names])
        with tf.GradientTape() as weight_tape:
            loss_grad, _ = self.gradient_norm_loss(losses, norms)
        weight_grad = weight_tape.gradient(loss_grad, self.weights_vector)
        grads = tape.gradient(total, variables)
        grads = [weight_grad if v is self.weights_vector else g for g, v in zip(grads, variables)]
        return grads, weights, total

    def after_update(self) -> None:
        w = tf.maximum(tf.convert_to_tensor(self.weights_vector), self.min_weight)
        self.weights_vector.assign(w * len(self.task_names) / tf.reduce_sum(w))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha, "min_weight": self.min_weight}
