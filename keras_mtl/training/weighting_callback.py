"""Forwards epoch ends to the model's weighting strategy."""

import tensorflow as tf


class WeightingCallback(tf.keras.callbacks.Callback):
    """Calls `strategy.on_epoch_end(epoch, logs)` after every training epoch.

    `MultiTaskModel.fit` adds it by itself, so epoch-level strategies (DWA)
    need nothing from the user.
    """

    def __init__(self, strategy):
        super().__init__()
        self.strategy = strategy

    def on_epoch_end(self, epoch, logs=None):
        self.strategy.on_epoch_end(epoch, logs or {})
