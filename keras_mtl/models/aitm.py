"""AITM: adaptive information transfer along a conversion funnel."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Union

from keras_mtl._types import FeatureSpec
from keras_mtl.layers.ait_module import AITModule
from keras_mtl.layers.mlp import MLP
from keras_mtl.layers.task_head import TaskHead
from keras_mtl.losses.behavior_calibrator import BehaviorCalibrator
from keras_mtl.models import _builder
from keras_mtl.training.multi_task_model import MultiTaskModel


def AITM(
    features: Sequence[FeatureSpec],
    task_names: Sequence[str] = ("ctr", "ctcvr"),
    tower_units: Sequence[int] = (64, 32),
    attention_units: int = 32,
    transfer_units: Sequence[int] = (),
    head_units: Sequence[int] = (),
    calibrator_alpha: float = 0.6,
    activation: Union[str, Callable] = "relu",
    dropout: float = 0.0,
    l2_reg: float = 0.0,
    l2_reg_embedding: float = 0.0,
    name: str = "aitm",
) -> MultiTaskModel:
    """Builds AITM: each funnel step fuses what the step before transfers.

    Tasks are steps of a funnel in order (impression → click → ... →
    purchase), each predicted over all impressions. Over shared embeddings
    x, task t's tower gives `q_t`; `z_1 = q_1` and for t ≥ 2 an `AITModule`
    fuses the transfer of `z_{t−1}` with `q_t` into `z_t`; `ŷ_t =
    sigmoid(head_t(z_t))`. The model carries AITM's behavioral expectation
    calibrator, `α · Σ_t mean(max(ŷ_t − ŷ_{t−1}, 0))`, as an auxiliary loss:
    it is added to the training loss (with any weighting strategy) and
    logged as `calibration_loss`.

    Args:
        features: SparseFeat / VarLenSparseFeat / DenseFeat specs (adapted).
        task_names: the funnel steps in order, at least two; labels are
            cumulative (a row that reached step t reached every earlier
            step), every task binary.
        tower_units: widths of every task tower (q_t).
        attention_units: k, the width of the AIT projections and of z_t.
        transfer_units: hidden widths of each transfer MLP (may be empty).
        head_units: widths of the MLP between z_t and the output (may be
            empty).
        calibrator_alpha: α of the calibrator; 0 attaches no calibrator.
        activation, dropout, l2_reg, l2_reg_embedding, name: as in
            `SharedBottom`.

    Returns:
        A `MultiTaskModel` with outputs `{task: (batch, 1)}`; AIT layers are
        named `ait_<task>` (every task but the first).

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = AITM(feats, task_names=("click", "buy"), tower_units=(8,),
    ...              attention_units=4)
    >>> sorted(model.output_names), [t.name for t in model.auxiliary_losses]
    (['buy', 'click'], ['calibration_loss'])

    References:
        Xi et al., "Modeling the Sequential Dependence among Audience
        Multi-step Conversions with Multi-task Learning in Targeted Display
        Advertising", KDD 2021.
    """
    task_names, task_types = _builder.task_list(task_names, None, min_tasks=2)
    tower_units = _builder.widths("tower_units", tower_units, allow_empty=False)
    attention_units = _builder.count("attention_units", attention_units)
    transfer_units = _builder.widths("transfer_units", transfer_units)
    head_units = _builder.widths("head_units", head_units)
    if (
        isinstance(calibrator_alpha, bool)
        or not isinstance(calibrator_alpha, (int, float))
        or calibrator_alpha < 0
    ):
        raise ValueError(f"expected a number >= 0. Received: calibrator_alpha={calibrator_alpha!r}")
    kernel_reg = _builder.regularizer(l2_reg)
    inputs, x = _builder.bottom(features, l2_reg_embedding)
    outputs, fused = {}, None
    for task in task_names:
        own = MLP(
            tower_units,
            activation=activation,
            dropout=dropout,
            kernel_regularizer=kernel_reg,
            name=f"tower_{task}",
        )(x)
        if fused is None:
            fused = own  # z_1 = q_1
        else:
            fused = AITModule(
                attention_units,
                transfer_units=transfer_units,
                activation=activation,
                kernel_regularizer=kernel_reg,
                name=f"ait_{task}",
            )([fused, own])  # (B, attention_units)
        h = fused
        if head_units:
            h = MLP(
                head_units,
                activation=activation,
                dropout=dropout,
                kernel_regularizer=kernel_reg,
                name=f"head_{task}",
            )(h)
        outputs[task] = TaskHead("binary", kernel_regularizer=kernel_reg, name=task)(h)
    calibrators = []
    if calibrator_alpha > 0:
        calibrators.append(BehaviorCalibrator(task_names, alpha=calibrator_alpha))
    return _builder.model(
        inputs,
        outputs,
        task_names,
        task_types,
        name,
        x,
        auxiliary_losses=calibrators,
        features=features,
    )
