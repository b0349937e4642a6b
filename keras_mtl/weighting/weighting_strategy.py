"""The interface every loss-balancing strategy implements."""

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import NoReturn
from typing import Optional
from typing import Union

import tensorflow as tf

if TYPE_CHECKING:
    from keras_mtl.training.step_context import StepContext


class WeightingStrategy(tf.keras.layers.Layer):
    """Turns per-task losses into the total loss and the gradients applied.

    `MultiTaskModel.train_step` calls every strategy the same way and never
    asks which one it is:

    1. `combine(task_losses)` inside the gradient tape → `(total, weights)`.
    2. `gradients(tape, total, weights, task_losses, variables, context)`
       after the tape → `(grads, weights, total)`: one gradient per variable,
       the weights used (reported as `weight_<task>`) and the total (reported
       as `loss`). The default differentiates `total`, which is all that
       loss-only strategies need (fixed weights, uncertainty weighting, DWA).
    3. `after_update()` once the optimizer has applied the gradients.
    4. `on_epoch_end(epoch, logs)` at the end of every `fit` epoch.

    `test_step` calls only `combine`. Strategies that need per-task gradients
    set `persistent_tape = True`; one that needs the gradient with respect to
    the shared representation Z sets `needs_representation = True` and finds Z
    in `context.representation`. `context` also gives `shared` (one bool per
    variable: does it sit below the model's last shared layer),
    `last_shared` (one bool per variable: is it a weight of that layer) and
    `extra_loss` (regularisation, already in `total`).

    A strategy is a Keras layer only so that its state (trainable
    log-variances, GradNorm weights, DWA loss history) is saved with the
    model and restored by checkpoints; it is never called on data and adds
    nothing to the serving signature.
    """

    #: Whether the model must record a persistent tape (per-task gradients).
    persistent_tape = False
    #: Whether `context.representation` must hold the shared representation Z.
    needs_representation = False

    def attach(self, task_types: Mapping[str, str]) -> None:
        """Called by `MultiTaskModel.compile` with the trained tasks' types.

        Args:
            task_types: `{task: "binary" | "regression"}`.
        """
        self.task_types = dict(task_types)
        self.task_names = tuple(self.task_types)
        if not self.built:
            self.create_state()
            self.built = True

    def create_state(self) -> None:
        """Creates the strategy's variables (`task_names` is set by then)."""

    def add_task_vector(
        self,
        name: str,
        initializer: Union[str, tf.keras.initializers.Initializer] = "zeros",
        trainable: bool = False,
    ) -> tf.Variable:
        """A `(num_tasks,)` state variable, entry k for task k (call in `create_state`)."""
        return self.add_weight(
            name=name, shape=(len(self.task_names),), initializer=initializer, trainable=trainable
        )

    def by_task(self, vector: tf.Tensor) -> dict[str, tf.Tensor]:
        """`{task: vector[k]}` for a `(num_tasks,)` vector, in the strategy's task order."""
        vector = tf.convert_to_tensor(vector)
        return {task: vector[i] for i, task in enumerate(self.task_names)}

    def task_weights(self, task_losses: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """Returns `{task: scalar weight}` for these losses."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement task_weights(task_losses)."
        )

    def combine(
        self, task_losses: Mapping[str, tf.Tensor]
    ) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
        """Returns `(total, weights)` with `total = Σ_k w_k · L_k`."""
        weights = self.task_weights(task_losses)
        return weighted_sum(weights, task_losses), weights

    def gradients(
        self,
        tape: tf.GradientTape,
        total: tf.Tensor,
        weights: Mapping[str, tf.Tensor],
        task_losses: Mapping[str, tf.Tensor],
        variables: Sequence[tf.Variable],
        context: "StepContext",
    ) -> tuple[list[Optional[tf.Tensor]], dict[str, tf.Tensor], tf.Tensor]:
        """Returns `(grads, weights, total)`; by default the gradient of total."""
        return tape.gradient(total, variables), weights, total

    def after_update(self) -> None:
        """Hook run after each optimizer step (e.g. to renormalise weights)."""

    def on_epoch_end(self, epoch: int, logs: Optional[Mapping[str, Any]]) -> None:
        """Hook run at the end of each training epoch with Keras' logs."""

    def call(self, inputs: Any) -> NoReturn:
        raise TypeError(f"{type(self).__name__} is a weighting strategy, not a layer to call.")


def weighted_sum(
    weights: Mapping[str, tf.Tensor], task_losses: Mapping[str, tf.Tensor]
) -> tf.Tensor:
    """`Σ_k w_k · L_k` over the tasks of `weights`."""
    return tf.add_n([weights[task] * task_losses[task] for task in weights])


def per_task_gradients(
    tape: tf.GradientTape, task_losses: Mapping[str, tf.Tensor], sources: Sequence[tf.Variable]
) -> dict[str, list[Optional[tf.Tensor]]]:
    """`{task: [∂L_task/∂s for s in sources]}` (None where not connected)."""
    return {task: tape.gradient(loss, sources) for task, loss in task_losses.items()}


def flat(grads: Sequence[Optional[tf.Tensor]], sources: Sequence[tf.Variable]) -> tf.Tensor:
    """One vector of the gradients (zeros where None)."""
    parts = [
        tf.reshape(tf.zeros_like(s) if g is None else tf.convert_to_tensor(g), (-1,))
        for g, s in zip(grads, sources)
    ]
    return tf.concat(parts, axis=0)


def split_shared_gradients(
    tape: tf.GradientTape,
    task_losses: Union[Sequence[tf.Tensor], Mapping[str, tf.Tensor]],
    variables: Sequence[tf.Variable],
    context: "StepContext",
    shared_gradients: Callable[[list[tf.Variable]], list[Optional[tf.Tensor]]],
) -> list[Optional[tf.Tensor]]:
    """One gradient per variable: the strategy's on the shared ones, plain elsewhere.

    The shared variables (`context.shared`) get `shared_gradients(shared)`
    (a list, one gradient per shared variable: the strategy's surgery or
    weighting); every other variable gets `∇ Σ_k L_k` (only its own task's
    loss reaches a task-specific variable); then the gradient of the extra
    loss (regularisation, auxiliary losses) is added everywhere.

    Args:
        tape: the persistent tape the losses were recorded on.
        task_losses: the task losses, a list in the strategy's task order.
        variables: the variables to differentiate, in order.
        context: the step context (`shared`, `extra_loss`).
        shared_gradients: `shared variables -> [gradient, ...]`.
    """
    shared = [v for v, s in zip(variables, context.shared) if s]
    others = [v for v, s in zip(variables, context.shared) if not s]
    grads = {}
    if shared:
        grads.update({id(v): g for v, g in zip(shared, shared_gradients(shared))})
    if others:
        grads.update({id(v): g for v, g in zip(others, tape.gradient(task_losses, others))})
    return with_extra_loss([grads[id(v)] for v in variables], tape, context, variables)


def with_extra_loss(
    grads: Sequence[Optional[tf.Tensor]],
    tape: tf.GradientTape,
    context: "StepContext",
    variables: Sequence[tf.Variable],
) -> list[Optional[tf.Tensor]]:
    """Adds the gradient of the extra loss (regularisation, auxiliary losses)
    to `grads`."""
    if context.extra_loss is None:
        return grads
    extra = tape.gradient(context.extra_loss, variables)
    return [b if a is None else (a if b is None else _add(a, b)) for a, b in zip(grads, extra)]


def _add(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """`a + b` for gradients; two IndexedSlices (embedding rows) stay sparse."""
    if isinstance(a, tf.IndexedSlices) and isinstance(b, tf.IndexedSlices):
        return tf.IndexedSlices(
            tf.concat([a.values, b.values], axis=0),
            tf.concat([a.indices, b.indices], axis=0),
            a.dense_shape,
        )
    return tf.convert_to_tensor(a) + tf.convert_to_tensor(b)
