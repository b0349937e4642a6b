"""Exporting models trained under a mixed precision policy.

ONNX Runtime's CPU kernels have no bfloat16 matmul, and tf2onnx mixes
float16 and bfloat16 operands when it converts a `mixed_bfloat16` graph. A
model trained under a mixed policy therefore converts as its float32 twin:
the same architecture and the same (float32) variables, computing in
float32. Its outputs differ from the mixed model's by the 16-bit rounding of
the activations, which is what `MIXED_ATOL` allows for.
"""

import tensorflow as tf

#: Largest |float32 twin − mixed Keras model| accepted on the model's outputs
#: (probabilities, values): bfloat16 keeps 8 significant bits (≈ 0.4%), and
#: the rounding of every layer adds up.
MIXED_ATOL = 2e-2

_MIXED = ("mixed_bfloat16", "mixed_float16")


def is_mixed(model):
    """Whether any layer of `model` computes in bfloat16 or float16."""
    return any(
        getattr(layer, "compute_dtype", "float32") in ("bfloat16", "float16")
        for layer in model.layers
    )


def float32_twin(model):
    """`model` itself if it computes in float32, else a float32 copy of it.

    The copy is built (under the float32 global policy) from
    `model.get_config()` with every mixed dtype policy replaced by float32,
    and gets `model`'s weights.
    """
    if not is_mixed(model):
        return model
    policy = tf.keras.mixed_precision.global_policy()
    # under float32: layers' own sub-layers (a gate's Dense) take the global policy
    tf.keras.mixed_precision.set_global_policy("float32")
    try:
        twin = type(model).from_config(float32_config(model.get_config()))
    finally:
        tf.keras.mixed_precision.set_global_policy(policy)
    twin.set_weights(model.get_weights())
    return twin


def float32_config(config):
    """`config` with the mixed policies (names or serialized policies) made float32."""
    if isinstance(config, dict):
        out = {key: float32_config(value) for key, value in config.items()}
        if out.get("name") in _MIXED and "class_name" not in out:  # a policy's config
            out["name"] = "float32"
        if out.get("dtype") in _MIXED:
            out["dtype"] = "float32"
        return out
    if isinstance(config, list):
        return [float32_config(value) for value in config]
    if isinstance(config, tuple):
        return tuple(float32_config(value) for value in config)
    return config
