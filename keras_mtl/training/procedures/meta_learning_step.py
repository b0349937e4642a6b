"""A first-order MAML training step across tasks (MetaHeac's meta step)."""

import dataclasses
from typing import TYPE_CHECKING
from typing import Any

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.training import step
from keras_mtl.training.procedures.training_procedure import TrainingProcedure
from keras_mtl.training.step_outputs import StepOutputs

if TYPE_CHECKING:
    from keras_mtl.training.multi_task_model import MultiTaskModel
    from keras_mtl.weighting.weighting_strategy import WeightingStrategy


@keras_mtl_export
class MetaLearningStep(TrainingProcedure):
    """MAML-style step: adapt to each task on a support split, learn from
    the query split.

    Each batch is split by rows: the first `support_fraction` of the rows are
    the support set S, the rest the query set Q. With θ the model's
    trainable variables and α the inner learning rate, for every task t:

        θ'_t = θ − α · ∇_θ L_t(S; θ)          (inner step, task t alone)
        g_t  = ∇ L_t(Q; θ'_t)                 (query gradient at θ'_t)

    and the variables are restored to θ. The outer update is first-order MAML
    (the Hessian term of `∇_θ L_t(Q; θ'_t)` is dropped): the weighting
    strategy receives, for each task, the first-order surrogate
    `L̃_t(θ) = L_t(Q; θ'_t) + ⟨g_t, θ − θ⟩` (value: the query loss, gradient:
    g_t), so loss weights, uncertainty weighting, DWA, GradNorm and PCGrad
    apply unchanged and the optimizer steps with `Σ_t w_t g_t` (after the
    strategy's surgery). Regularisation and auxiliary losses are evaluated
    on Q at each θ'_t and averaged over the tasks. Logs hold the query
    losses and metrics at the adapted variables.

    Each step runs one forward pass on the support rows (a backward pass
    per task), then a forward and backward pass per task on the query rows.
    Strategies that need the shared representation (MGDA) are refused at
    `compile`, as is a `tf.distribute` strategy with more than one replica
    (the step assigns variables in replica context). Non-trainable state
    (batch-normalisation statistics) is updated by every forward pass and
    not restored.

    Args:
        inner_learning_rate: α, the step size of the inner (support) update.
        support_fraction: share of each batch's rows used as support set,
            in (0, 1).

    Example:
    >>> meta = MetaLearningStep(inner_learning_rate=0.05)
    >>> MetaLearningStep.from_config(meta.get_config()).inner_learning_rate
    0.05

    References:
        Finn et al., "Model-Agnostic Meta-Learning for Fast Adaptation of Deep
        Networks", ICML 2017 (first-order MAML, §5.2). Zhu et al., "Learning
        to Expand Audience via Meta Hybrid Experts and Critics for
        Recommendation and Advertising", KDD 2021.
    """

    def __init__(self, inner_learning_rate: float = 0.01, support_fraction: float = 0.5) -> None:
        if (
            isinstance(inner_learning_rate, bool)
            or not isinstance(inner_learning_rate, (int, float))
            or inner_learning_rate <= 0
        ):
            raise ValueError(
                "expected a number inner_learning_rate > 0. "
                f"Received: inner_learning_rate={inner_learning_rate!r}"
            )
        if not isinstance(support_fraction, (int, float)) or not 0 < support_fraction < 1:
            raise ValueError(
                "expected support_fraction in (0, 1). "
                f"Received: support_fraction={support_fraction!r}"
            )
        self.inner_learning_rate = float(inner_learning_rate)
        self.support_fraction = float(support_fraction)

    def check(self, model: "MultiTaskModel", weighting: "WeightingStrategy") -> None:
        if weighting.needs_representation:
            raise ValueError(
                "MetaLearningStep gives weighting strategies per-task query "
                "gradients, not the shared representation that "
                f"{type(weighting).__name__} needs. Expected a strategy that "
                "works on losses or parameter gradients (FixedWeights, "
                "UncertaintyWeighting, DWA, GradNorm, PCGrad)."
            )
        if model.distribute_strategy.num_replicas_in_sync > 1:
            raise ValueError(
                "MetaLearningStep runs on one replica. Received a model under a "
                "tf.distribute strategy with "
                f"{model.distribute_strategy.num_replicas_in_sync} replicas."
            )

    def _split(self, data):
        """`(support, query)` structures: the batch's first rows, the rest."""
        x = tf.nest.flatten(data[0])[0]
        rows = tf.shape(x)[0]
        support = tf.cast(tf.floor(tf.cast(rows, tf.float32) * self.support_fraction), tf.int32)

        def take(part):
            return tf.nest.map_structure(lambda t: None if t is None else part(t), data)

        return take(lambda t: t[:support]), take(lambda t: t[support:])

    def train_step(self, model: "MultiTaskModel", data: Any) -> dict[str, tf.Tensor]:
        data = tf.keras.utils.unpack_x_y_sample_weight(data)
        support, query = self._split(data)
        state = model.training_state
        variables = model.trainable_variables
        start = [tf.identity(v) for v in variables]  # θ
        with tf.GradientTape(persistent=True) as tape:  # one support pass at θ
            inner = step.forward(model, state, *support, training=True)
        inner_grads = {t: tape.gradient(inner.task_losses[t], variables) for t in state.task_names}
        del tape
        adapted = {}
        for task in state.task_names:  # a few tasks: unrolled into the graph
            for v, theta, g in zip(variables, start, inner_grads[task]):  # θ'_t
                v.assign(theta if g is None else theta - self.inner_learning_rate * _dense(g))
            with tf.GradientTape(persistent=True) as tape:
                out = step.forward(model, state, *query, training=True)
            task_grads = tape.gradient(out.task_losses[task], variables)
            extra_grads = None if out.extra is None else tape.gradient(out.extra, variables)
            del tape
            for v, theta in zip(variables, start):
                v.assign(theta)
            adapted[task] = (out, task_grads, extra_grads)
        return self._outer_step(model, state, adapted, variables)

    def _outer_step(self, model, state, adapted, variables):
        tasks = state.task_names
        num = float(len(tasks))
        first = adapted[tasks[0]][0]
        strategy = state.weighting
        with tf.GradientTape(persistent=strategy.persistent_tape) as tape:
            losses = {
                t: _surrogate(adapted[t][0].task_losses[t], adapted[t][1], variables) for t in tasks
            }
            extra = None
            if first.extra is not None:
                extra = tf.add_n(
                    [
                        _surrogate(adapted[t][0].extra / num, adapted[t][2], variables, num)
                        for t in tasks
                    ]
                )
            total, weights = strategy.combine(losses)
            if extra is not None:
                total += extra
        report = StepOutputs(  # what each task's query pass at θ'_t gave
            rows=first.rows,
            regularization=None
            if first.regularization is None
            else tf.add_n([adapted[t][0].regularization for t in tasks]) / num,
            extra=extra,
            task_losses={t: adapted[t][0].task_losses[t] for t in tasks},
            y_pred={t: adapted[t][0].y_pred[t] for t in tasks},
            labels={t: adapted[t][0].labels[t] for t in tasks},
            row_weights={t: adapted[t][0].row_weights[t] for t in tasks},
            labelled={t: adapted[t][0].labelled[t] for t in tasks},
            space_rows={
                t: adapted[t][0].space_rows[t] for t in tasks if t in adapted[t][0].space_rows
            },
            auxiliary={
                name: tf.add_n([adapted[t][0].auxiliary[name] for t in tasks]) / num
                for name in first.auxiliary
            },
        )
        # the strategy differentiates the surrogates (the query gradients)
        descent = dataclasses.replace(report, task_losses=losses)
        weights, total = step.descend(model, state, tape, total, weights, descent)
        del tape
        return step.update_metrics(model, state, total, weights, report)

    def get_config(self) -> dict[str, Any]:
        return {
            "inner_learning_rate": self.inner_learning_rate,
            "support_fraction": self.support_fraction,
        }


def _dense(grad):
    return tf.convert_to_tensor(grad)  # IndexedSlices of embeddings too


def _surrogate(value, grads, variables, scale=1.0):
    """`value + ⟨grads / scale, v − v⟩`: the value, with gradient grads/scale."""
    out = tf.stop_gradient(value)
    for v, g in zip(variables, grads):
        if g is None:
            continue
        if isinstance(g, tf.IndexedSlices):
            rows = tf.gather(v, g.indices)  # (n, ...) touched rows only
            out += tf.reduce_sum(
                tf.stop_gradient(g.values / scale) * (rows - tf.stop_gradient(rows))
            )
        else:
            out += tf.reduce_sum(tf.stop_gradient(g / scale) * (v - tf.stop_gradient(v)))
    return out
