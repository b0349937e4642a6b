"""ESM²: entire-space multi-task model over click, action and purchase."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Union

import tensorflow as tf

from keras_mtl._types import FeatureSpec
from keras_mtl.models import _builder
from keras_mtl.training.multi_task_model import MultiTaskModel


def ESM2(
    features: Sequence[FeatureSpec],
    task_names: Sequence[str] = ("ctr", "ctavr", "ctcvr"),
    conditional_names: Sequence[str] = ("p_action", "p_buy_after_action", "p_buy_after_other"),
    cvr_name: str = "cvr",
    tower_units: Sequence[int] = (64, 32),
    activation: Union[str, Callable] = "relu",
    dropout: float = 0.0,
    l2_reg: float = 0.0,
    l2_reg_embedding: float = 0.0,
    name: str = "esm2",
) -> MultiTaskModel:
    """Builds ESM²: impression → click → D-action / O-action → purchase.

    A D-action (cart, wish list) or an O-action (any other click) follows a
    click. Four towers over shared embeddings x predict
    `y1 = p(click)`, `y2 = p(D-action | click)`, `y3 = p(buy | D-action)`,
    `y4 = p(buy | O-action)`, composed over the entire space:

        ctr   = y1
        ctavr = y1 · y2                         p(click and D-action)
        cvr   = y2 · y3 + (1 − y2) · y4         p(buy | click), as y4 + y2·(y3 − y4)
        ctcvr = y1 · cvr                        p(click and buy)

    The model trains on ctr (label: click), ctavr (click and D-action) and
    ctcvr (click and purchase) over all impressions; y2, y3, y4 and cvr are
    outputs without a loss. Products and sums use Keras' Multiply, Subtract
    and Add layers.

    Args:
        features: SparseFeat / VarLenSparseFeat / DenseFeat specs (adapted).
        task_names: names of the trained ctr, ctavr and ctcvr outputs.
        conditional_names: names of the y2, y3, y4 outputs.
        cvr_name: name of the p(buy | click) output.
        tower_units: widths of the four towers.
        activation, dropout, l2_reg, l2_reg_embedding, name: as in
            `SharedBottom`.

    Returns:
        A `MultiTaskModel` with seven `(batch, 1)` outputs, trained on the
        three of `task_names`.

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = ESM2(feats, tower_units=(8,))
    >>> model.task_names
    ('ctr', 'ctavr', 'ctcvr')

    References:
        Wen et al., "Entire Space Multi-Task Modeling via Post-Click Behavior
        Decomposition for Conversion Rate Prediction", SIGIR 2020.
    """
    task_names, task_types = _builder.task_list(task_names, None)
    conditional_names = _builder.task_list(conditional_names, None)[0]
    if len(task_names) != 3 or len(conditional_names) != 3:
        raise ValueError(
            "ESM2 expected three task names (ctr, ctavr, ctcvr) and three "
            f"conditional names (y2, y3, y4). Received: task_names={task_names!r}, "
            f"conditional_names={conditional_names!r}"
        )
    _builder.task_list(task_names + conditional_names + (cvr_name,), None)  # unique
    tower_units = _builder.widths("tower_units", tower_units, allow_empty=False)
    kernel_reg = _builder.regularizer(l2_reg)
    inputs, x = _builder.bottom(features, l2_reg_embedding)
    ctr, ctavr, ctcvr = task_names
    p_action, p_buy_action, p_buy_other = conditional_names
    outputs = {}
    for output in (ctr,) + conditional_names:
        outputs[output] = _builder.tower_head(
            x, output, "binary", tower_units, activation, dropout, kernel_reg
        )
    layers = tf.keras.layers
    f32 = dict(dtype="float32")  # outputs stay float32 under mixed precision policies
    outputs[ctavr] = layers.Multiply(name=ctavr, **f32)([outputs[ctr], outputs[p_action]])
    gap = layers.Subtract(name="buy_gap", **f32)([outputs[p_buy_action], outputs[p_buy_other]])
    lift = layers.Multiply(name="buy_lift", **f32)([outputs[p_action], gap])  # y2·(y3 − y4)
    outputs[cvr_name] = layers.Add(name=cvr_name, **f32)([outputs[p_buy_other], lift])
    outputs[ctcvr] = layers.Multiply(name=ctcvr, **f32)([outputs[ctr], outputs[cvr_name]])
    return _builder.model(inputs, outputs, task_names, task_types, name, x, features=features)
