"""The interface of model-defined loss terms computed from predictions."""

from collections.abc import Collection
from collections.abc import Mapping
from typing import Any
from typing import TypeVar

import tensorflow as tf

#: An auxiliary loss class, for annotations.
AuxiliaryLossT = TypeVar("AuxiliaryLossT", bound="AuxiliaryLoss")


class AuxiliaryLoss:
    """A loss term a model adds to its total, beside the per-task losses.

    `MultiTaskModel(..., auxiliary_losses=[...])` calls every term inside the
    gradient tape of each training step (and in `test_step`) with the
    model's outputs, adds it to the total like regularisation (so every
    weighting strategy receives it, through `context.extra_loss`) and
    reports it under its `name` in the logs. Terms are stored in the model
    config, so `.keras` files and `from_config` bring them back: subclasses
    are registered with `keras_mtl_export` and return their constructor
    arguments from `get_config`.

    Subclasses implement `__call__(y_pred, labels, row_weights)`:

    - `y_pred`: `{output name: (batch, 1) tensor}`, every output of the
      model (trained or not);
    - `labels`: `{task: (batch, 1) tensor}` for the trained tasks, NaN
      replaced by 0;
    - `row_weights`: `{task: (batch,) tensor}`, 0 where the task's label is
      missing, else the row's sample weight;

    and return a scalar.

    Args:
        name: the term's name in the logs; must differ from every task name.
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                "expected an auxiliary loss name that is an identifier (it "
                f"names a metric). Received: name={name!r}"
            )
        self.name = name

    def __call__(
        self,
        y_pred: Mapping[str, tf.Tensor],
        labels: Mapping[str, tf.Tensor],
        row_weights: Mapping[str, tf.Tensor],
    ) -> tf.Tensor:
        raise NotImplementedError(
            f"{type(self).__name__} must implement __call__(y_pred, labels, row_weights)."
        )

    def check_outputs(self, output_names: Collection[str]) -> None:
        """Called by the model with its output names; raise if one is missing."""

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    @classmethod
    def from_config(cls: type[AuxiliaryLossT], config: Mapping[str, Any]) -> AuxiliaryLossT:
        return cls(**config)


def serialize(terms):
    return [tf.keras.utils.serialize_keras_object(term) for term in terms]


def deserialize(configs):
    """`AuxiliaryLoss` objects from a list of objects or their configs."""
    terms = [
        term if isinstance(term, AuxiliaryLoss) else tf.keras.utils.deserialize_keras_object(term)
        for term in configs or ()
    ]
    for term in terms:
        if not isinstance(term, AuxiliaryLoss):
            raise TypeError(f"expected keras_mtl.losses.AuxiliaryLoss objects. Received: {term!r}")
    return terms
