"""Focal loss for binary tasks."""

from typing import Any

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export


@keras_mtl_export
class FocalLoss(tf.keras.losses.Loss):
    """`−α (1 − p)^γ log p` on positives, `−(1 − α) p^γ log(1 − p)` on negatives.

    Down-weights easy examples (γ > 0) and re-balances classes (α). `p` is the
    predicted probability, clipped to `[ε, 1 − ε]`. Usable per task:
    `model.compile(loss={"cvr": FocalLoss(alpha=0.25, gamma=2.0)})`; rows with a
    missing label are masked like any other loss.

    Args:
        alpha: weight of positives (negatives get 1 − α), in [0, 1].
        gamma: focusing parameter, ≥ 0 (0 gives α-weighted cross-entropy).
        epsilon: clipping of p.

    Example:
    >>> loss = FocalLoss(alpha=0.25, gamma=2.0)
    >>> round(float(loss(tf.constant([[1.0]]), tf.constant([[0.5]]))), 6)
    0.043322

    References:
        Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017.
    """

    def __init__(
        self,
        alpha: float = 0.25,
        gamma: float = 2.0,
        epsilon: float = 1e-7,
        name: str = "focal_loss",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        if not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
            raise ValueError(f"expected alpha in [0, 1]. Received: alpha={alpha!r}")
        if not isinstance(gamma, (int, float)) or gamma < 0:
            raise ValueError(f"expected gamma >= 0. Received: gamma={gamma!r}")
        self.alpha = float(alpha)
        self.gamma = float(gamma)
        self.epsilon = float(epsilon)

    def call(self, y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        y_pred = tf.convert_to_tensor(y_pred)
        y_true = tf.cast(y_true, y_pred.dtype)
        p = tf.clip_by_value(y_pred, self.epsilon, 1.0 - self.epsilon)
        positive = -self.alpha * tf.pow(1.0 - p, self.gamma) * tf.math.log(p)
        negative = -(1.0 - self.alpha) * tf.pow(p, self.gamma) * tf.math.log(1.0 - p)
        per_value = y_true * positive + (1.0 - y_true) * negative
        return tf.reduce_mean(per_value, axis=-1)  # (batch,)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "alpha": self.alpha,
            "gamma": self.gamma,
            "epsilon": self.epsilon,
        }
