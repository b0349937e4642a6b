"""Fixed task weights."""

import math
from collections.abc import Mapping
from typing import Any
from typing import Optional

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.weighting.weighting_strategy import WeightingStrategy


@keras_mtl_export
class FixedWeights(WeightingStrategy):
    """Total loss `Σ_k w_k · L_k` with constant weights.

    Args:
        weights: `{task: weight}`; tasks left out weigh `default`. None gives
            every task `default`.
        default: the weight of tasks not named in `weights`.

    Example:
    >>> strategy = FixedWeights({"ctr": 1.0, "cvr": 2.0})
    >>> strategy.attach({"ctr": "binary", "cvr": "binary"})
    >>> float(strategy.combine({"ctr": 0.5, "cvr": 0.25})[0])
    1.0
    """

    def __init__(
        self, weights: Optional[Mapping[str, float]] = None, default: float = 1.0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.fixed_weights = dict(weights or {})
        self.default = float(default)
        for task, weight in list(self.fixed_weights.items()) + [("default", self.default)]:
            if not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
                raise ValueError(
                    f"expected finite, non-negative task weights. Received: {task}={weight!r}"
                )

    def attach(self, task_types: Mapping[str, str]) -> None:
        super().attach(task_types)
        unknown = sorted(set(self.fixed_weights) - set(self.task_names))
        if unknown:
            raise ValueError(
                f"FixedWeights got weights for unknown tasks {unknown}. Expected "
                f"task names among {list(self.task_names)}."
            )

    def task_weights(self, task_losses: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return {
            task: tf.constant(float(self.fixed_weights.get(task, self.default)))
            for task in self.task_names
        }

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "weights": dict(self.fixed_weights),
            "default": self.default,
        }
