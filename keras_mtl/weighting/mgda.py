"""MGDA-UB: min-norm task weights from gradients at the shared representation."""

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


def min_norm_weights(grads: tf.Tensor, iterations: int = 50) -> tf.Tensor:
    """`argmin_{α ∈ simplex} ||Σ_k α_k g_k||²` for the rows of `grads` (T, N).

    Two tasks use the closed form `α_1 = clip(((g2 − g1)·g2) / ||g1 − g2||², 0,
    1)`; more tasks run Frank–Wolfe on the Gram matrix from uniform weights.

    Example:
    >>> alpha = min_norm_weights(tf.constant([[1.0, 0.0], [0.0, 3.0]]))
    >>> [round(float(a), 4) for a in alpha]
    [0.9, 0.1]
    """
    gram = tf.matmul(grads, grads, transpose_b=True)  # (T, T)
    num = grads.shape[0]
    if num == 1:
        return tf.ones((1,))
    if num == 2:
        numerator = gram[1, 1] - gram[0, 1]
        denominator = gram[0, 0] + gram[1, 1] - 2.0 * gram[0, 1]
        first = tf.clip_by_value(tf.math.divide_no_nan(numerator, denominator), 0.0, 1.0)
        first = tf.where(denominator > 0, first, 0.5)
        return tf.stack([first, 1.0 - first])
    alpha = tf.fill((num,), 1.0 / num)
    for _ in range(iterations):
        m_alpha = tf.linalg.matvec(gram, alpha)  # (T,) = g_k · v
        t = tf.argmin(m_alpha)
        vv = tf.reduce_sum(alpha * m_alpha)  # v · v
        vt = tf.gather(m_alpha, t)  # v · g_t
        tt = tf.gather(tf.linalg.diag_part(gram), t)  # g_t · g_t
        step = tf.clip_by_value(tf.math.divide_no_nan(vv - vt, vv - 2.0 * vt + tt), 0.0, 1.0)
        alpha = (1.0 - step) * alpha + step * tf.one_hot(t, num)
    return alpha


@keras_mtl_export
class MGDA(WeightingStrategy):
    """Multiple-gradient descent with the upper bound on the representation.

    Per step, α = argmin over the simplex of `||Σ_k α_k ∇_Z L_k||²`, with Z the
    output of the model's last shared layer (declared by the builders). The
    shared variables are updated with `Σ_k α_k ∇L_k`, task-specific ones with
    their task's own gradient. Weights (reported, and used by `evaluate`) are
    the last α, which sums to 1.

    Args:
        iterations: Frank–Wolfe iterations for more than two tasks.

    References:
        Sener & Koltun, "Multi-Task Learning as Multi-Objective Optimization",
        NeurIPS 2018.
    """

    persistent_tape = True
    needs_representation = True

    def __init__(self, iterations: int = 50, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(iterations, int) or iterations < 1:
            raise ValueError(f"expected a positive integer. Received: iterations={iterations!r}")
        self.iterations = iterations

    def create_state(self) -> None:
        num = len(self.task_names)
        self.alpha = self.add_task_vector("alpha", tf.keras.initializers.Constant(1.0 / num))

    def task_weights(self, task_losses: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return self.by_task(self.alpha)

    def gradients(
        self,
        tape: tf.GradientTape,
        total: tf.Tensor,
        weights: Mapping[str, tf.Tensor],
        task_losses: Mapping[str, tf.Tensor],
        variables: Sequence[tf.Variable],
        context: "StepContext",
    ) -> tuple[list[Optional[tf.Tensor]], dict[str, tf.Tensor], tf.Tensor]:
        z = context.representation
        if z is None:
            raise ValueError(
                "MGDA needs the model's shared representation. Received a model "
                "without `shared_layer` (keras_mtl builders declare it; pass "
                "MultiTaskModel(..., shared_layer=<layer name>))."
            )
        losses = [task_losses[t] for t in self.task_names]
        # Z is 16-bit under a mixed precision policy; the Gram matrix is float32
        at_z = tf.stack(
            [tf.reshape(tf.cast(tape.gradient(loss, z), tf.float32), (-1,)) for loss in losses]
        )  # (T, B·dims of Z)
        alpha = tf.stop_gradient(min_norm_weights(at_z, self.iterations))
        self.alpha.assign(alpha)
        out = weighting_strategy.split_shared_gradients(
            tape,
            losses,
            variables,
            context,
            lambda shared: tape.gradient(losses, shared, output_gradients=tf.unstack(alpha)),
        )
        weights = self.by_task(alpha)
        total = weighting_strategy.weighted_sum(weights, task_losses)
        if context.extra_loss is not None:
            total += context.extra_loss
        return out, weights, total

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "iterations": self.iterations}
