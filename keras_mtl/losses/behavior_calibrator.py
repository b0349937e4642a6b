"""AITM's behavioral expectation calibrator."""

from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.losses.auxiliary_loss import AuxiliaryLoss


@keras_mtl_export
class BehaviorCalibrator(AuxiliaryLoss):
    """Penalises a later funnel step predicted likelier than the step before.

    In a conversion funnel (impression → click → ... → purchase) step t
    can only happen after step t−1, so `ŷ_t ≤ ŷ_{t−1}` should hold. The term

        α · Σ_{t=2..T} mean_i(max(ŷ_{t,i} − ŷ_{t−1,i}, 0))

    is zero when every row respects the order. The mean is over every row of
    the batch (the term reads predictions only, so rows with missing labels
    count too). `AITM` attaches it to its model; any `MultiTaskModel` can
    through `auxiliary_losses=[...]`.

    Args:
        task_names: outputs in funnel order, at least two.
        alpha: α >= 0, the term's weight (0.6 in the paper).
        name: the term's name in the logs.

    Example:
    >>> calibrator = BehaviorCalibrator(("click", "buy"), alpha=0.5)
    >>> y_pred = {"click": tf.constant([[0.2], [0.6]]),
    ...           "buy": tf.constant([[0.4], [0.1]])}
    >>> round(float(calibrator(y_pred, {}, {})), 6)  # 0.5 · mean(0.2, 0)
    0.05

    References:
        Xi et al., "Modeling the Sequential Dependence among Audience
        Multi-step Conversions with Multi-task Learning in Targeted Display
        Advertising", KDD 2021.
    """

    def __init__(
        self,
        task_names: Union[str, Sequence[str]],
        alpha: float = 0.6,
        name: str = "calibration_loss",
    ) -> None:
        super().__init__(name)
        task_names = (task_names,) if isinstance(task_names, str) else tuple(task_names)
        if len(task_names) < 2 or not all(isinstance(t, str) for t in task_names):
            raise ValueError(
                "expected at least two output names in funnel order. "
                f"Received: task_names={task_names!r}"
            )
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha < 0:
            raise ValueError(f"expected a number alpha >= 0. Received: alpha={alpha!r}")
        self.task_names = task_names
        self.alpha = float(alpha)

    def check_outputs(self, output_names: Collection[str]) -> None:
        missing = [t for t in self.task_names if t not in output_names]
        if missing:
            raise ValueError(
                f"{self.name}: funnel steps {missing} are not outputs of the "
                f"model. Expected names among {sorted(output_names)}."
            )

    def __call__(
        self,
        y_pred: Mapping[str, tf.Tensor],
        labels: Mapping[str, tf.Tensor],
        row_weights: Mapping[str, tf.Tensor],
    ) -> tf.Tensor:
        steps = [tf.reshape(y_pred[t], (-1,)) for t in self.task_names]  # T × (B,)
        rows = tf.cast(tf.size(steps[0]), steps[0].dtype)
        excess = tf.add_n(
            [
                tf.reduce_sum(tf.nn.relu(later - earlier))
                for earlier, later in zip(steps[:-1], steps[1:])
            ]
        )
        return self.alpha * tf.math.divide_no_nan(excess, rows)  # 0 on an empty batch

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "task_names": list(self.task_names), "alpha": self.alpha}
