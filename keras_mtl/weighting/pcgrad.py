"""PCGrad: projecting conflicting task gradients on shared parameters."""

from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Optional

import numpy as np
import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.weighting import weighting_strategy
from keras_mtl.weighting.weighting_strategy import WeightingStrategy

if TYPE_CHECKING:
    from keras_mtl.training.step_context import StepContext


def project_conflicting(grads: tf.Tensor, order_keys: tf.Tensor) -> tf.Tensor:
    """Σ_i g_i after PCGrad's projections.

    For each task gradient g_i (a row of `grads`, shape (T, P)), the other
    tasks j are visited in the order of `order_keys[i]` (ascending); whenever
    `g_i · g_j < 0`, `g_i ← g_i − (g_i · g_j)/||g_j||² · g_j` (with the
    original g_j). Returns the sum of the projected rows, shape (P,).

    Example:
    >>> g = tf.constant([[1.0, 0.0], [-1.0, 1.0]])
    >>> project_conflicting(g, tf.zeros((2, 2))).numpy().tolist()
    [0.5, 1.5]
    """
    num = grads.shape[0]
    norms = tf.reduce_sum(grads * grads, axis=1)  # (T,)
    projected = []
    for i in range(num):
        g = grads[i]
        order = tf.argsort(order_keys[i])  # (T,)
        for position in range(num):
            j = order[position]
            other = tf.gather(grads, j)  # (P,)
            dot = tf.reduce_sum(g * other)
            conflict = tf.logical_and(dot < 0, tf.not_equal(j, i))
            coefficient = tf.where(conflict, tf.math.divide_no_nan(dot, tf.gather(norms, j)), 0.0)
            g = g - coefficient * other
        projected.append(g)
    return tf.add_n(projected)


@keras_mtl_export
class PCGrad(WeightingStrategy):
    """Gradient surgery: removes the conflicting components of task gradients.

    On the shared variables (those below the model's last shared layer) each
    task's gradient is projected onto the normal plane of every other task's
    gradient it conflicts with (negative dot product), visiting the others in
    a random order drawn per step; the projected gradients are summed. Task
    specific variables get their own task's gradient. Task weights are 1.

    Args:
        seed: seed of the per-step random visiting order.

    References:
        Yu et al., "Gradient Surgery for Multi-Task Learning", NeurIPS 2020.
    """

    persistent_tape = True

    def __init__(self, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = int(seed)

    def task_weights(self, task_losses: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return {task: tf.constant(1.0) for task in self.task_names}

    def gradients(
        self,
        tape: tf.GradientTape,
        total: tf.Tensor,
        weights: Mapping[str, tf.Tensor],
        task_losses: Mapping[str, tf.Tensor],
        variables: Sequence[tf.Variable],
        context: "StepContext",
    ) -> tuple[list[Optional[tf.Tensor]], dict[str, tf.Tensor], tf.Tensor]:
        def projected(shared: list[tf.Variable]) -> list[Optional[tf.Tensor]]:
            per_task = weighting_strategy.per_task_gradients(tape, task_losses, shared)
            matrix = tf.stack(
                [weighting_strategy.flat(per_task[t], shared) for t in self.task_names]
            )  # (T, P)
            num = len(self.task_names)
            keys = tf.random.stateless_uniform(
                (num, num), seed=tf.stack([tf.cast(context.step, tf.int32), self.seed])
            )
            summed = project_conflicting(matrix, keys)  # (P,)
            sizes = [int(np.prod(v.shape)) for v in shared]
            return [tf.reshape(part, v.shape) for v, part in zip(shared, tf.split(summed, sizes))]

        out = weighting_strategy.split_shared_gradients(
            tape, list(task_losses.values()), variables, context, projected
        )
        return out, weights, total

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}
