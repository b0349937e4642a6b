"""One helper that checks a keras_mtl layer from every side.

`check_layer(layer_factory, input_data, ...)` builds fresh layers from the
factory and checks, in order:

1. eager call: output (optionally) equals `expected_output`, the shape agrees
   with `compute_output_shape`, and the layer holds the expected number of
   trainable / non-trainable weights, with unique names;
2. config: `get_config` is JSON-serializable, `from_config` rebuilds a layer
   with an equal config, and with the weights copied over it gives equal
   outputs;
3. symbolic call: a functional `tf.keras.Model` around a fresh layer has
   outputs of the eager shape and dtype, and calling the model equals calling
   the layer eagerly;
4. saving: `.keras` save, then `tf.keras.models.load_model` with no
   `custom_objects` (the layers are registered under "keras_mtl"), restores
   the same class and equal outputs;
5. training: one `fit` step of a tiny model (layer → flatten → Dense(1), MSE)
   runs with a finite loss and moves the layer's trainable weights.

Inputs may be one array or a list of arrays (GateLayer, SequencePooling);
outputs may be one tensor or a tuple (GateLayer with `return_weights=True`).
"""

import json
import os
import tempfile

import numpy as np
import tensorflow as tf

RTOL = 1e-5
ATOL = 1e-5


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _to_numpy(x):
    if isinstance(x, (list, tuple)):
        return [_to_numpy(v) for v in x]
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def _tf_dtype(array):
    """The tf.keras dtype name of a numpy array ("string" for text)."""
    if array.dtype.kind in ("U", "S", "O"):
        return "string"
    return array.dtype.name


def _to_tensor(array):
    if array.dtype.kind in ("U", "S", "O"):
        return tf.constant(array.astype(str), dtype=tf.string)
    return tf.constant(array)


def assert_outputs_close(actual, expected, rtol=RTOL, atol=ATOL, what="output"):
    """Compares one output or a tuple of outputs, element by element."""
    actual, expected = _as_list(_to_numpy(actual)), _as_list(_to_numpy(expected))
    assert len(actual) == len(expected), (
        f"{what}: got {len(actual)} outputs, expected {len(expected)}"
    )
    for i, (a, e) in enumerate(zip(actual, expected)):
        e = np.asarray(e)
        assert a.shape == e.shape, f"{what}[{i}]: shape {a.shape} != {e.shape}"
        if a.dtype.kind in ("U", "S", "O", "i", "u", "b"):
            np.testing.assert_array_equal(a, e, err_msg=f"{what}[{i}]")
        else:
            np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"{what}[{i}]")


def _weight_id(weight):
    """Keras 3 `path` ("mlp/dense_0/kernel"), else tf_keras `name`.

    They must be unique within a layer: tf_keras 2 writes HDF5 weight files
    keyed by them.
    """
    return getattr(weight, "path", None) or weight.name


def _shape_tuple(shape):
    if hasattr(shape, "as_list"):  # tf.TensorShape (tf_keras)
        return tuple(shape.as_list())
    return tuple(None if d is None else int(d) for d in shape)


class _FitModel(tf.keras.Model):
    """layer → (cast to float, flatten, concatenate outputs) → Dense(1)."""

    def __init__(self, layer):
        super().__init__(name="fit_model")
        self.layer = layer
        self.head = tf.keras.layers.Dense(1, name="fit_head")

    def call(self, inputs):
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        outputs = _as_list(self.layer(inputs))
        flat = [
            tf.reshape(tf.cast(o, tf.float32), (tf.shape(o)[0], -1))  # (B, prod)
            for o in outputs
        ]
        return self.head(tf.concat(flat, axis=-1))  # (B, 1)


def check_layer(
    layer_factory,
    input_data,
    expected_output=None,
    num_trainable_weights=0,
    num_non_trainable_weights=0,
    run_fit=True,
    rtol=RTOL,
    atol=ATOL,
):
    """Checks a layer from every side; returns its eager output (numpy).

    Args:
        layer_factory: zero-argument callable returning a fresh, unbuilt layer.
            It is called several times; each layer gets its own weights.
        input_data: a numpy array, or a list of arrays for multi-input layers.
            Batch size >= 2 (the fit step needs a batch).
        expected_output: if given, the eager output (or tuple of outputs) of
            the first layer must equal it.
        num_trainable_weights: expected `len(layer.trainable_weights)`.
        num_non_trainable_weights: expected `len(layer.non_trainable_weights)`.
        run_fit: run the one-step `fit` check.
        rtol, atol: tolerances of the float comparisons.
    """
    multi_input = isinstance(input_data, (list, tuple))
    arrays = [np.asarray(a) for a in _as_list(input_data)]
    tensors = [_to_tensor(a) for a in arrays]
    call_input = tensors if multi_input else tensors[0]

    # 1. Eager call, weight counts, compute_output_shape.
    layer = layer_factory()
    eager = layer(call_input)
    eager_np = [_to_numpy(o) for o in _as_list(eager)]
    assert len(layer.trainable_weights) == num_trainable_weights, (
        f"{type(layer).__name__}: {len(layer.trainable_weights)} trainable "
        f"weights, expected {num_trainable_weights}: "
        f"{[_weight_id(w) for w in layer.trainable_weights]}"
    )
    assert len(layer.non_trainable_weights) == num_non_trainable_weights, (
        f"{type(layer).__name__}: {len(layer.non_trainable_weights)} "
        f"non-trainable weights, expected {num_non_trainable_weights}: "
        f"{[_weight_id(w) for w in layer.non_trainable_weights]}"
    )
    names = [_weight_id(w) for w in layer.weights]
    assert len(set(names)) == len(names), f"weight names are not unique: {names}"
    if expected_output is not None:
        assert_outputs_close(eager, expected_output, rtol, atol, "eager output")
    input_shapes = [tuple(a.shape) for a in arrays]
    computed = layer.compute_output_shape(input_shapes if multi_input else input_shapes[0])
    computed = list(computed) if isinstance(eager, (list, tuple)) else [computed]
    assert [_shape_tuple(s) for s in computed] == [o.shape for o in eager_np], (
        f"compute_output_shape {computed} != eager shapes {[o.shape for o in eager_np]}"
    )

    # 2. Config round trip (equal config, equal outputs with copied weights).
    config = layer.get_config()
    json.dumps(config)  # a .keras file stores it as JSON
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone(call_input)
    clone.set_weights(layer.get_weights())
    assert_outputs_close(clone(call_input), eager_np, rtol, atol, "from_config output")

    # 3. Symbolic call through a functional model agrees with the eager call.
    symbolic_layer = layer_factory()
    inputs = [
        tf.keras.Input(shape=a.shape[1:], dtype=_tf_dtype(a), name=f"input_{i}")
        for i, a in enumerate(arrays)
    ]
    symbolic = symbolic_layer(inputs if multi_input else inputs[0])
    symbolic_outputs = _as_list(symbolic)
    assert len(symbolic_outputs) == len(eager_np)
    for s, e in zip(symbolic_outputs, eager_np):
        assert _shape_tuple(s.shape) == (None,) + e.shape[1:], (
            f"symbolic shape {s.shape} != eager shape {e.shape} (batch None)"
        )
        assert tf.as_dtype(s.dtype) == tf.as_dtype(e.dtype), (
            f"symbolic dtype {s.dtype} != eager dtype {e.dtype}"
        )
    model = tf.keras.Model(inputs if multi_input else inputs[0], symbolic)
    assert len(model.weights) == num_trainable_weights + num_non_trainable_weights
    model_out = model(call_input)
    assert_outputs_close(
        model_out, symbolic_layer(call_input), rtol, atol, "functional model output"
    )

    # 4. .keras save → load_model without custom_objects → equal outputs.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        loaded = tf.keras.models.load_model(path)
    reloaded_layer = loaded.get_layer(symbolic_layer.name)
    assert type(reloaded_layer) is type(symbolic_layer)
    assert reloaded_layer.get_config() == symbolic_layer.get_config()
    assert_outputs_close(loaded(call_input), model_out, rtol, atol, "reloaded output")

    # 5. One fit step: finite loss, the layer's trainable weights move.
    if run_fit:
        fit_layer = layer_factory()
        fit_model = _FitModel(fit_layer)
        fit_model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss="mse")
        batch = arrays[0].shape[0]
        target = np.random.default_rng(0).normal(size=(batch, 1)).astype("float32")
        x = tuple(tensors) if multi_input else tensors[0]
        dataset = tf.data.Dataset.from_tensors((x, target))
        fit_model(x)  # build, so the initial weights can be recorded
        before = [w.numpy().copy() for w in fit_layer.trainable_weights]
        history = fit_model.fit(dataset, epochs=1, verbose=0)
        loss = history.history["loss"][0]
        assert np.isfinite(loss), f"fit step loss is not finite: {loss}"
        if before:
            after = [w.numpy() for w in fit_layer.trainable_weights]
            assert any(not np.array_equal(b, a) for b, a in zip(before, after)), (
                "one fit step changed none of the layer's trainable weights"
            )
    return eager_np if isinstance(eager, (list, tuple)) else eager_np[0]
