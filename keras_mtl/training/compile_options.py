"""Checks and objects built from `MultiTaskModel.compile` arguments."""

import tensorflow as tf

from keras_mtl.training.optimizer_groups import GROUPS
from keras_mtl.training.optimizer_groups import OptimizerGroups


def check_task_keys(tasks, **arguments):
    """Dict arguments must be keyed by trained task names."""
    for name, value in arguments.items():
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(tasks))
            if unknown:
                raise ValueError(
                    f"compile({name}=...) names unknown tasks {unknown}. "
                    f"Expected task names among {list(tasks)}."
                )
    metrics = arguments.get("metrics")
    if metrics is not None and not isinstance(metrics, dict):
        raise ValueError(
            f"expected metrics as {{task: [metric, ...]}}. Received: metrics={metrics!r}"
        )


def weighting_strategy(weighting, loss_weights):
    """The strategy `compile` uses: `weighting`, or `FixedWeights(loss_weights)`."""
    from keras_mtl.weighting.fixed_weights import FixedWeights
    from keras_mtl.weighting.weighting_strategy import WeightingStrategy

    if weighting is None:
        return FixedWeights(loss_weights)
    if loss_weights is not None:
        raise ValueError("pass loss_weights or weighting, not both.")
    if not isinstance(weighting, WeightingStrategy):
        raise TypeError(
            f"expected a keras_mtl.weighting.WeightingStrategy. Received: weighting={weighting!r}"
        )
    return weighting


def optimizers(optimizer):
    """The `OptimizerGroups` of compile's `optimizer` argument.

    `optimizer` is one optimizer (or name) for every variable, or a dict of
    groups: "towers" and optionally "shared" (the variables below the model's
    last shared layer: shared bottom, experts) and "embeddings" (the
    embedding tables). "adam" trains the tables of more than
    `DENSE_TABLE_MAX_ROWS` rows with a LazyAdam of the same settings (see
    `OptimizerGroups`).
    """
    return OptimizerGroups(optimizer)


def is_plain(value):
    """Whether a compile argument is names only (so it fits in a config)."""
    if value is None or isinstance(value, str):
        return True
    if isinstance(value, dict):
        return all(is_plain(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(isinstance(v, str) for v in value)
    return False


def compile_config(groups, weighting, compile_args):
    """The JSON-able compile arguments of a model (see `from_compile_config`)."""
    config = {
        "optimizer": groups.config(tf.keras.optimizers.serialize),
        "weighting": tf.keras.utils.serialize_keras_object(weighting),
    }
    for key, value in compile_args.items():
        if is_plain(value):
            config[key] = value
    return config


def from_compile_config(config):
    """`compile` keyword arguments from `compile_config`'s output."""
    config = dict(config)
    optimizer = config["optimizer"]
    if isinstance(optimizer, dict) and set(optimizer) <= set(GROUPS) and "towers" in optimizer:
        config["optimizer"] = {k: tf.keras.optimizers.deserialize(v) for k, v in optimizer.items()}
    else:
        config["optimizer"] = tf.keras.optimizers.deserialize(optimizer)
    config["weighting"] = tf.keras.utils.deserialize_keras_object(config["weighting"])
    return config
