"""Uncertainty weighting with learned task log-variances."""

from collections.abc import Mapping

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.weighting.weighting_strategy import WeightingStrategy


@keras_mtl_export
class UncertaintyWeighting(WeightingStrategy):
    """Weighs tasks by learned homoscedastic uncertainty.

    With a trainable `s_k = log σ_k²` per task (initialised to 0), the total is
    `Σ_k c_k · exp(−s_k) · L_k + 0.5 · s_k`, where `c_k = 1` for
    classification (binary) and `c_k = 0.5` for regression tasks. The `s_k`
    are trained with the network by the same optimizer; the reported weight of
    task k is `c_k · exp(−s_k)`.

    Example:
    >>> strategy = UncertaintyWeighting()
    >>> strategy.attach({"ctr": "binary", "time": "regression"})
    >>> total, weights = strategy.combine({"ctr": 2.0, "time": 2.0})
    >>> round(float(total), 4), float(weights["time"])
    (3.0, 0.5)

    References:
        Kendall et al., "Multi-Task Learning Using Uncertainty to Weigh Losses
        for Scene Geometry and Semantics", CVPR 2018.
    """

    def create_state(self) -> None:
        self.log_variances = {
            task: self.add_weight(
                name=f"log_variance_{task}", shape=(), initializer="zeros", trainable=True
            )
            for task in self.task_names
        }

    def task_weights(self, task_losses: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return {
            task: (1.0 if self.task_types[task] == "binary" else 0.5)
            * tf.exp(-tf.convert_to_tensor(self.log_variances[task]))
            for task in self.task_names
        }

    def combine(
        self, task_losses: Mapping[str, tf.Tensor]
    ) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
        weights = self.task_weights(task_losses)
        total = tf.add_n(
            [
                weights[t] * task_losses[t] + 0.5 * tf.convert_to_tensor(self.log_variances[t])
                for t in self.task_names
            ]
        )
        return total, weights
