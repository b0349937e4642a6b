"""The model the ONNX converter traces: float32, unsharded, tables left out.

`export_onnx` feeds every feature embedding table to the traced function as
an input (`SparseEmbedding.feeding_tables`) and writes the tables itself, so
the traced model's own table variables are never read. A model that computes
in float32 and holds no sharded variable is traced as it is. Any other (a
mixed precision policy: ONNX Runtime's CPU kernels have no bfloat16 matmul;
parameter-server shards: the graph needs whole variables) is traced as its
conversion twin: the same architecture from `model.get_config()`, computing
in float32, unsharded, whose `SparseEmbedding` tables are one-row stand-ins
(the real rows come in as inputs), and whose other weights are the model's
(shards joined). The twin costs the memory of the model's dense weights,
never a copy of its tables.
"""

import tensorflow as tf

from keras_mtl import keras_compat
from keras_mtl.export import precision
from keras_mtl.export import sharding
from keras_mtl.export.table_config import with_tables
from keras_mtl.layers.sparse_embedding import SparseEmbedding


def _nested_tables(layers):
    """Names of the `SparseEmbedding`s inside (at any depth) the given layers."""
    found = []
    for layer in layers:
        inner = getattr(layer, "layers", None) or []
        found += [i.name for i in inner if isinstance(i, SparseEmbedding)] + _nested_tables(inner)
    return found


def conversion_twin(model):
    """`model` if it computes in float32 and nothing in it is sharded, else its twin.

    The twin (module docstring) is built under the float32 global policy,
    outside any distribution strategy; call this outside
    `strategy.scope()`.

    Raises:
        ValueError: a `SparseEmbedding` nested inside another layer (the
            twin's stand-ins are made among the model's own layers).
    """
    nested = _nested_tables(model.layers)
    if nested:
        raise ValueError(
            f"expected every SparseEmbedding among the model's own layers. Received "
            f"tables inside other layers: {nested}."
        )
    mixed, sharded = precision.is_mixed(model), sharding.is_sharded(model)
    if not mixed and not sharded:
        return model
    if sharded and keras_compat.is_parameter_server(tf.distribute.get_strategy()):
        raise RuntimeError(
            "cannot export a sharded model inside ParameterServerStrategy.scope(): "
            "its twin would be sharded again. Expected the export call outside the "
            "`with strategy.scope():` block (on the coordinator)."
        )
    config = with_tables(model.get_config(), input_dim=1)  # one-row stand-ins
    policy = tf.keras.mixed_precision.global_policy()
    # under float32: layers' own sub-layers (a gate's Dense) take the global policy
    tf.keras.mixed_precision.set_global_policy("float32")
    try:
        twin = type(model).from_config(precision.float32_config(config))
    finally:
        tf.keras.mixed_precision.set_global_policy(policy)
    for layer in twin.layers:
        if layer.weights and not isinstance(layer, SparseEmbedding):
            layer.set_weights(sharding.whole_weights(model.get_layer(layer.name)))
    return twin
