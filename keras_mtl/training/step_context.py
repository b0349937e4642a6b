"""What a weighting strategy is told about the model at each step."""

import dataclasses
from typing import Optional

import tensorflow as tf


@dataclasses.dataclass(frozen=True, eq=False)
class StepContext:
    """The `context` of `WeightingStrategy.gradients`.

    `keras_mtl.training.step.descend` builds it once a step from the model's
    `TrainingState`, for the trained variables in the order the strategy
    receives them.

    Attributes:
        shared: one bool per variable: whether every task shares it (below
            the model's shared layer); what PCGrad and MGDA operate on.
        last_shared: one bool per variable: whether it is a weight of the
            last shared layer (of any shared layer when that one has no
            weights): GradNorm's W.
        representation: the shared representation Z `(batch, d)` when the
            strategy asked for it (`needs_representation`), else None.
        extra_loss: the regularisation and auxiliary losses added to the
            total (float32 scalar), or None; strategies that take per-task
            gradients add its gradient once.
        step: the optimizer's iteration counter (PCGrad seeds its task
            order with it).
    """

    shared: list[bool]
    last_shared: list[bool]
    representation: Optional[tf.Tensor]
    extra_loss: Optional[tf.Tensor]
    step: tf.Variable
