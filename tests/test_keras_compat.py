"""The Keras-internal shims: the same answers on Keras 3 and tf_keras 2."""

import tensorflow as tf

from keras_mtl import keras_compat


def test_io_structs_keep_dicts_and_names():
    x = tf.keras.Input((2,), name="x")
    dense = tf.keras.layers.Dense(1, name="score")
    out = dense(x)
    model = tf.keras.Model({"x": x}, {"ctr": out})
    inputs, outputs = keras_compat.io_structs(model)
    assert list(inputs) == ["x"] and list(outputs) == ["ctr"]
    assert keras_compat.producing_layer_name(outputs["ctr"]) == "score"


def test_logs_stay_scalars_outside_multi_worker():
    logs = {"loss": tf.constant(1.5)}
    strategy = tf.distribute.get_strategy()
    assert not keras_compat.in_multi_worker_mode(strategy)
    assert keras_compat.logs_for_strategy(logs, strategy) is logs


def test_no_module_reads_keras_internals_but_keras_compat():
    import pathlib
    import re

    import keras_mtl

    root = pathlib.Path(keras_mtl.__file__).parent
    internal = re.compile(
        r"_inputs_struct|_outputs_struct|_nested_(in|out)puts|_keras_history"
        r"|_in_multi_worker_mode|_maybe_symbolic_build|_trackable_children"
    )
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "keras_compat.py" and internal.search(path.read_text())
    ]
    assert offenders == []
