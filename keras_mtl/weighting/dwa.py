"""Dynamic Weight Average: weights from the rate of change of epoch losses."""

from collections.abc import Mapping
from typing import Any
from typing import Optional

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.weighting.weighting_strategy import WeightingStrategy


@keras_mtl_export
class DWA(WeightingStrategy):
    """`w_k(t) = T · exp(r_k(t−1)/τ) / Σ_i exp(r_i(t−1)/τ)`, `r_k = L_k(t−1)/L_k(t−2)`.

    `L_k(t)` is task k's average training loss over epoch t (the `<task>_loss`
    that `fit` logs). Weights are 1 for the first two epochs and change only at
    epoch boundaries; the loss history is kept in non-trainable variables, so
    it is saved and restored with the model.

    Args:
        temperature: τ; larger values give more even weights.

    Example:
    >>> strategy = DWA(temperature=2.0)
    >>> strategy.attach({"a": "binary", "b": "binary"})
    >>> for epoch, logs in enumerate([{"a_loss": 1.0, "b_loss": 1.0},
    ...                               {"a_loss": 0.5, "b_loss": 1.0}]):
    ...     strategy.on_epoch_end(epoch, logs)
    >>> weights = strategy.task_weights({})
    >>> round(float(weights["a"]), 4), round(float(weights["b"]), 4)
    (0.8756, 1.1244)

    References:
        Liu et al., "End-to-End Multi-Task Learning with Attention", CVPR 2019.
    """

    def __init__(self, temperature: float = 2.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(temperature, (int, float)) or temperature <= 0:
            raise ValueError(
                f"expected a positive temperature. Received: temperature={temperature!r}"
            )
        self.temperature = float(temperature)

    def create_state(self) -> None:
        self.last_losses = self.add_task_vector("last_losses")
        self.previous_losses = self.add_task_vector("previous_losses")
        self.epochs_seen = self.add_weight(
            name="epochs_seen", shape=(), initializer="zeros", trainable=False
        )
        self.weights_vector = self.add_task_vector("task_weights", initializer="ones")

    def task_weights(self, task_losses: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return self.by_task(self.weights_vector)

    def on_epoch_end(self, epoch: int, logs: Optional[Mapping[str, Any]]) -> None:
        missing = [t for t in self.task_names if f"{t}_loss" not in (logs or {})]
        if missing:
            raise KeyError(
                f"DWA expected the epoch's training losses {[f'{t}_loss' for t in missing]} "
                f"in the logs. Received keys {sorted(logs or {})}."
            )
        current = tf.constant([float(logs[f"{t}_loss"]) for t in self.task_names])
        self.previous_losses.assign(self.last_losses)
        self.last_losses.assign(current)
        self.epochs_seen.assign_add(1.0)
        if float(self.epochs_seen.numpy()) >= 2:
            ratio = tf.math.divide_no_nan(current, tf.convert_to_tensor(self.previous_losses))
            weights = len(self.task_names) * tf.nn.softmax(ratio / self.temperature)
            self.weights_vector.assign(weights)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "temperature": self.temperature}
