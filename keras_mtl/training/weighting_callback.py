"""Forwards epoch ends to the model's weighting strategy."""

from typing import TYPE_CHECKING
from typing import Any
from typing import Optional

import tensorflow as tf

if TYPE_CHECKING:
    from keras_mtl.weighting.weighting_strategy import WeightingStrategy


class WeightingCallback(tf.keras.callbacks.Callback):
    """Calls `strategy.on_epoch_end(epoch, logs)` after every training epoch.

    `MultiTaskModel.fit` adds it by itself, so epoch-level strategies (DWA)
    need nothing from the user.
    """

    def __init__(self, strategy: "WeightingStrategy") -> None:
        super().__init__()
        self.strategy = strategy

    def on_epoch_end(self, epoch: int, logs: Optional[dict[str, Any]] = None) -> None:
        self.strategy.on_epoch_end(epoch, logs or {})
