"""A load-balancing term against collapsed gates."""

from collections.abc import Collection
from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.losses.auxiliary_loss import AuxiliaryLoss


@keras_mtl_export
class LoadBalanceLoss(AuxiliaryLoss):
    """Penalises gates that put most of their weight on few experts.

    With `p_e` the mean over the batch of the gate weights of expert e (the
    model's `output`, `(batch, E)` rows that sum to 1), the term is

        coefficient · (E · Σ_e p_e² − 1),

    the squared coefficient of variation of the experts' importance
    (Shazeer et al. 2017, "importance loss"): 0 when every expert gets 1/E,
    E − 1 when one expert gets everything. It balances the experts' share
    over the batch, not each row, so rows may still route sparsely.
    `MMoE(..., load_balance=c)` and `OMoE(..., load_balance=c)` add it with
    their `expert_load` output (the mean of the task gates' weights).

    Args:
        coefficient: the term's weight, >= 0.
        output: name of the model output holding the gate weights.
        name: the term's name in the logs.

    Example:
    >>> term = LoadBalanceLoss(coefficient=1.0)
    >>> collapsed = {"expert_load": tf.constant([[1.0, 0.0], [1.0, 0.0]])}
    >>> float(term(collapsed, {}, {}))  # E − 1
    1.0
    >>> float(term({"expert_load": tf.fill((2, 2), 0.5)}, {}, {}))
    0.0

    References:
        Shazeer et al., "Outrageously Large Neural Networks: The
        Sparsely-Gated Mixture-of-Experts Layer", ICLR 2017.
    """

    def __init__(
        self,
        coefficient: float = 0.01,
        output: str = "expert_load",
        name: str = "load_balance_loss",
    ) -> None:
        super().__init__(name)
        if not isinstance(coefficient, (int, float)) or coefficient < 0:
            raise ValueError(f"expected a number >= 0. Received: coefficient={coefficient!r}")
        self.coefficient = float(coefficient)
        self.output = output

    def check_outputs(self, output_names: Collection[str]) -> None:
        if self.output not in output_names:
            raise ValueError(
                f"LoadBalanceLoss reads the gate weights of output "
                f"{self.output!r}; the model outputs {sorted(output_names)}."
            )

    def __call__(
        self,
        y_pred: Mapping[str, tf.Tensor],
        labels: Mapping[str, tf.Tensor],
        row_weights: Mapping[str, tf.Tensor],
    ) -> tf.Tensor:
        weights = tf.cast(y_pred[self.output], tf.float32)  # (B, E)
        share = tf.reduce_mean(weights, axis=0)  # (E,)
        experts = tf.cast(tf.shape(share)[0], tf.float32)
        return self.coefficient * (experts * tf.reduce_sum(tf.square(share)) - 1.0)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "coefficient": self.coefficient, "output": self.output}
