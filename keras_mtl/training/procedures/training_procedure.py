"""The interface of training procedures that replace the plain step."""

from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

import tensorflow as tf

if TYPE_CHECKING:
    from keras_mtl.weighting.weighting_strategy import WeightingStrategy

#: A training procedure class, for annotations.
ProcedureT = TypeVar("ProcedureT", bound="TrainingProcedure")


class TrainingProcedure:
    """Turns one training batch into updates, instead of the plain step.

    `MultiTaskModel(..., training_procedure=...)` hands every training batch
    to `train_step(model, data)`; the model's own `train_step` never asks
    which procedure it holds. Without one (the default) the model runs the
    plain step: forward, the weighting strategy's gradients, one update.
    A procedure builds its step from the same parts
    (`keras_mtl.training.step`: `forward`, `total`, `descend`,
    `update_metrics`), so weighting strategies, optimizer groups and logs
    work as in the plain step. The procedure is stored in the model config
    (subclasses are registered with `keras_mtl_export` and return their
    constructor arguments from `get_config`), so `.keras` files reload
    with it.
    """

    def check(self, model: tf.keras.Model, weighting: "WeightingStrategy") -> None:
        """Called by `compile`; raises if the procedure cannot train `model`
        with this weighting strategy."""

    def train_step(self, model: tf.keras.Model, data: Any) -> dict[str, tf.Tensor]:
        """Returns the logs of one training step on `data`."""
        raise NotImplementedError(f"{type(self).__name__} must implement train_step(model, data).")

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls: type[ProcedureT], config: Mapping[str, Any]) -> ProcedureT:
        return cls(**config)


def serialize(procedure):
    return None if procedure is None else tf.keras.utils.serialize_keras_object(procedure)


def deserialize(procedure):
    """A `TrainingProcedure` (or None) from an object, a config or None."""
    if procedure is None or isinstance(procedure, TrainingProcedure):
        return procedure
    if isinstance(procedure, dict):
        procedure = tf.keras.utils.deserialize_keras_object(procedure)
    if not isinstance(procedure, TrainingProcedure):
        raise TypeError(
            "expected a keras_mtl.training.TrainingProcedure or None. "
            f"Received: training_procedure={procedure!r}"
        )
    return procedure
