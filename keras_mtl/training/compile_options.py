"""Checks and objects built from `MultiTaskModel.compile` arguments."""

import tensorflow as tf

OPTIMIZER_GROUPS = ("shared", "towers")


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
            "expected a keras_mtl.weighting.WeightingStrategy. "
            f"Received: weighting={weighting!r}"
        )
    return weighting


def optimizers(optimizer):
    """`(towers optimizer, shared optimizer or None)` from compile's argument.

    `optimizer` is one optimizer (or name) for every variable, or
    `{"shared": ..., "towers": ...}`: the shared variables (below the model's
    last shared layer: embeddings, shared bottom, experts) use "shared", all
    others (gates, towers, heads, weighting state) use "towers".
    """
    if not isinstance(optimizer, dict):
        return optimizer, None
    if sorted(optimizer) != sorted(OPTIMIZER_GROUPS):
        raise ValueError(
            f"expected optimizer groups {list(OPTIMIZER_GROUPS)}. "
            f"Received: {sorted(optimizer)}"
        )
    return optimizer["towers"], tf.keras.optimizers.get(optimizer["shared"])


def is_plain(value):
    """Whether a compile argument is names only (so it fits in a config)."""
    if value is None or isinstance(value, str):
        return True
    if isinstance(value, dict):
        return all(is_plain(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(isinstance(v, str) for v in value)
    return False


def compile_config(optimizer, shared_optimizer, weighting, compile_args):
    """The JSON-able compile arguments of a model (see `from_compile_config`)."""
    config = {
        "optimizer": tf.keras.optimizers.serialize(optimizer),
        "weighting": tf.keras.utils.serialize_keras_object(weighting),
    }
    if shared_optimizer is not None:
        config["optimizer"] = {
            "towers": config["optimizer"],
            "shared": tf.keras.optimizers.serialize(shared_optimizer),
        }
    for key, value in compile_args.items():
        if is_plain(value):
            config[key] = value
    return config


def from_compile_config(config):
    """`compile` keyword arguments from `compile_config`'s output."""
    config = dict(config)
    optimizer = config["optimizer"]
    if isinstance(optimizer, dict) and sorted(optimizer) == sorted(OPTIMIZER_GROUPS):
        config["optimizer"] = {k: tf.keras.optimizers.deserialize(v) for k, v in optimizer.items()}
    else:
        config["optimizer"] = tf.keras.optimizers.deserialize(optimizer)
    config["weighting"] = tf.keras.utils.deserialize_keras_object(config["weighting"])
    return config
