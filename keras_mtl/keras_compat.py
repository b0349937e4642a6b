"""Every use of a Keras-internal name, in one place.

keras_mtl runs on Keras 3 (TensorFlow's default `tf.keras`) and on tf_keras 2
(`TF_USE_LEGACY_KERAS=1`). Where the public API of one of them lacks what a
model needs, the shim below reaches into its internals; each says which
version needs it and why. No other module of the package reads a private
attribute of a Keras or TensorFlow object.
"""

from typing import Any

import numpy as np
import tensorflow as tf

#: Whether `tf.keras` is tf_keras 2 (else Keras 3).
LEGACY_KERAS = tf.keras.__name__.startswith("tf_keras")


def io_structs(model):
    """A functional model's `(inputs, outputs)` as built (dicts stay dicts).

    Keras 3 keeps them in `_inputs_struct` / `_outputs_struct`, tf_keras in
    `_nested_inputs` / `_nested_outputs`; the public `model.input` /
    `model.output` flatten a dict of one entry (tf_keras) or reorder it.
    """
    inputs = getattr(model, "_inputs_struct", None)  # Keras 3
    outputs = getattr(model, "_outputs_struct", None)
    if outputs is None:  # tf_keras 2
        inputs, outputs = model._nested_inputs, model._nested_outputs
    return inputs, outputs


def producing_layer_name(tensor):
    """The name of the layer whose output a symbolic tensor is.

    Both versions record it in `_keras_history` (a `(layer, node, index)`
    triple); neither has a public accessor.
    """
    return tensor._keras_history[0].name


def in_multi_worker_mode(strategy):
    """Whether `strategy` is a MultiWorkerMirroredStrategy across workers.

    `tf.distribute` exposes it only as `extended._in_multi_worker_mode()`;
    Keras 3 needs it to shape the logs (see `logs_for_strategy`).
    """
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and (
        strategy.extended._in_multi_worker_mode()
    )


#: Where the docs explain parameter-server training (the Keras 3 refusal links it).
PARAMETER_SERVER_DOC = "docs/distributed.md#parameter-servers-tables-larger-than-one-machine"


def is_parameter_server(strategy):
    """Whether `strategy` is TF2's `tf.distribute.experimental.ParameterServerStrategy`."""
    return isinstance(strategy, tf.distribute.experimental.ParameterServerStrategy)


def check_strategy(strategy, what):
    """Raises if Keras 3 is asked to `what` ("build", "compile", "fit") under parameter servers.

    Keras 3 has no `ParameterServerStrategy` support (keras-team/keras#18624:
    its `fit` neither schedules steps on a `ClusterCoordinator` nor creates
    sharded variables); a model built under one would silently keep whole
    tables on the coordinator. tf_keras 2 supports it.
    """
    if is_parameter_server(strategy) and not LEGACY_KERAS:
        raise RuntimeError(
            f"cannot {what} a keras_mtl model under ParameterServerStrategy with "
            f"{tf.keras.__name__} (Keras 3), which does not support it "
            "(keras-team/keras#18624). Expected tf_keras 2: pip install tf_keras, set "
            "TF_USE_LEGACY_KERAS=1 before TensorFlow is imported, and see "
            f"{PARAMETER_SERVER_DOC}."
        )


def logs_for_strategy(logs, strategy):
    """Logs as `train_step` must return them under `strategy`.

    Keras 3 averages step logs across workers of a MultiWorkerMirroredStrategy
    with `reduce("MEAN", axis=0)`, which fails on scalars; there each value is
    returned as a 1-element vector, which that reduction turns back into the
    (already synchronised) scalar. tf_keras 2 takes the scalars as they are.
    """
    if in_multi_worker_mode(strategy) and not LEGACY_KERAS:
        return {name: tf.reshape(value, (1,)) for name, value in logs.items()}
    return logs


class CheckpointExtras:
    """Mixin: `checkpoint_extras()` objects join the model's checkpoints.

    Both versions decide what a `tf.train.Checkpoint` (BackupAndRestore,
    ModelCheckpoint in TF format, `save_weights`) saves through the private
    `_trackable_children`; SavedModel exports (save_type "savedmodel") are
    left as they are.
    """

    def checkpoint_extras(self) -> dict[str, Any]:
        """`{name: trackable}` saved with the model's checkpoints."""
        return {}

    def _trackable_children(self, save_type="checkpoint", **kwargs):
        children = super()._trackable_children(save_type, **kwargs)
        if save_type == "checkpoint":
            children = {**children, **self.checkpoint_extras()}
        return children


class NoSymbolicBuild:
    """Mixin: skips Keras 3's symbolic build of compiled losses and metrics.

    Keras 3's `fit` calls the private `_maybe_symbolic_build`, which averages
    a sample batch across replicas to build compiled losses and metrics. A
    model that compiles neither and builds its optimizers in `compile` has
    nothing to build there, and string features cannot be averaged
    (MultiWorkerMirroredStrategy failed on it). tf_keras 2 never calls it.
    """

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        return


def optimizer_slots(optimizer, variable, *slot_lists):
    """`variable`'s slot variables in each of an optimizer's `slot_lists`.

    Keras' optimizers keep per-variable slots in private lists (Adam:
    `"_momentums"`, `"_velocities"`, `"_velocity_hats"`; Adagrad:
    `"_accumulators"`), indexed by a private key of the variable (Keras 3:
    `_get_variable_index`; tf_keras 2: `_index_dict[_var_key(...)]`); neither
    version has a public accessor. keras_mtl's sparse optimizers read them to
    update only the rows of a sparse gradient.
    """
    if LEGACY_KERAS:
        index = optimizer._index_dict[optimizer._var_key(variable)]
    else:
        index = optimizer._get_variable_index(variable)
    return tuple(getattr(optimizer, name)[index] for name in slot_lists)


def slot_variables(optimizer, variable):
    """`{slot list name: slot variable}`: every per-variable slot `optimizer` keeps for `variable`.

    Keras has no public accessor (see `optimizer_slots`); the slot lists are
    the optimizer's list attributes holding one variable per variable it was
    built with (Adam: `_momentums`, `_velocities`; Adagrad: `_accumulators`;
    any optimizer that keeps its slots that way). Empty for an optimizer
    without slots (SGD without momentum).
    """
    if LEGACY_KERAS:
        keys = optimizer._index_dict
        index = keys[optimizer._var_key(variable)]
    else:
        keys = optimizer._trainable_variables
        index = optimizer._get_variable_index(variable)
    found = {}
    for name, value in sorted(vars(optimizer).items()):
        if (
            isinstance(value, list)
            and len(value) == len(keys)
            and value is not keys
            and isinstance(value[index], tf.Variable if LEGACY_KERAS else tf.keras.Variable)
            and tuple(value[index].shape) == tuple(variable.shape)
        ):
            found[name] = value[index]
    return found


def tf_variable(variable):
    """The `tf.Variable` behind a Keras variable.

    Keras 3 variables wrap one (public `value`); tf_keras 2 variables are
    `tf.Variable`s.
    """
    if LEGACY_KERAS or isinstance(variable, tf.Variable):  # a plain tf.Variable on Keras 3 too
        return variable
    return variable.value


def shards(variable):
    """The variables that hold `variable`'s rows, in row order.

    A `ShardedVariable` (tables under `ParameterServerStrategy`) lists its
    shards in `variables`; any other variable is its own single shard.
    """
    return list(getattr(variable, "variables", [variable]))


def rows_value(parts):
    """The whole value, as NumPy, of a variable held in `parts` (`shards(v)`)."""
    return np.concatenate([np.asarray(p.numpy()) for p in parts], axis=0)


def gather_rows(variable, indices):
    """Rows `indices` of a variable, read without reading the whole variable.

    A Keras 3 variable is not a `tf.Variable`: `tf.gather` would first read
    all of it into a tensor, and a later scatter into the variable then
    copies the whole buffer (TensorFlow's copy-on-write for sparse updates).
    Its public `value` is the `tf.Variable`, which gathers row by row
    (`ResourceGather`). tf_keras 2 variables are `tf.Variable`s.
    """
    return tf.gather(tf_variable(variable), indices)


def scatter_update(optimizer, variable, slices, mode="update"):
    """Writes (`mode` "update"), adds to or subtracts from the rows `slices.indices`.

    Keras 3 optimizers write through `optimizer.assign` / `assign_add` /
    `assign_sub` (which scatter `tf.IndexedSlices`); tf_keras 2 variables are
    `tf.Variable`s with `scatter_update` / `scatter_add` / `scatter_sub`.
    """
    if LEGACY_KERAS:
        getattr(variable, f"scatter_{mode}")(slices)
    else:
        write = {
            "update": optimizer.assign,
            "add": optimizer.assign_add,
            "sub": optimizer.assign_sub,
        }[mode]
        write(variable, slices)


def is_loss_scale_optimizer(optimizer):
    """Whether `optimizer` is a Keras `LossScaleOptimizer` (mixed_float16).

    Public on both versions; tf_keras 2's instances are `LossScaleOptimizerV3`,
    which its metaclass makes pass this `isinstance`.
    """
    return isinstance(optimizer, tf.keras.mixed_precision.LossScaleOptimizer)


def loss_scale_state(optimizer):
    """`(scale, counter, growth_steps)` of a `LossScaleOptimizer`.

    `scale` is the float32 variable holding the current loss scale, `counter`
    the variable counting finite steps since it last changed (None for a
    fixed scale) and `growth_steps` how many of them double it. Keras 3 has
    them as `dynamic_scale`, `step_counter`, `dynamic_growth_steps` (built
    with the optimizer); tf_keras 2 keeps the scale variable in the private
    `_loss_scale` state (`loss_scale` is a read-only tensor), the counter as
    `dynamic_counter`.
    """
    if not LEGACY_KERAS:
        return optimizer.dynamic_scale, optimizer.step_counter, optimizer.dynamic_growth_steps
    if not optimizer.dynamic:
        return optimizer.loss_scale, None, None
    return (
        optimizer._loss_scale.current_loss_scale,
        optimizer.dynamic_counter,
        optimizer.dynamic_growth_steps,
    )
