"""A tiny two-task model, its sample rows, and a twin whose every output is
moved by a known amount: a parity check run against the twin must report
exactly that amount."""

import numpy as np
import tensorflow as tf

import keras_mtl

FEATURES = [
    keras_mtl.SparseFeat("color", vocabulary=("red", "blue"), embedding_dim=2),
    keras_mtl.DenseFeat("price"),
    keras_mtl.VarLenSparseFeat("tags", maxlen=3, vocabulary=("a", "b"), embedding_dim=2),
]
ROWS = 6


def model():
    tf.keras.utils.set_random_seed(0)
    return keras_mtl.MMoE(
        FEATURES,
        task_names=("ctr", "spend"),
        task_types=("binary", "regression"),
        num_experts=2,
        expert_units=(4,),
        tower_units=(),
    )


def examples(rows=ROWS):
    """`{input name: array}` rows, an unseen color and empty tags included."""
    rng = np.random.RandomState(1)
    tags = np.array(["a", "b", "", "zz"], dtype=object)
    return {
        "color": np.array(["red", "blue", "green"], dtype=object)[rng.randint(0, 3, rows)],
        "price": rng.lognormal(size=rows).astype("float32"),
        "tags": tags[rng.randint(0, 4, (rows, 3))],
    }


def moved(model, delta):
    """`model` with `delta` added to every output (same inputs, same weights)."""
    outputs = {name: value + delta for name, value in model.output.items()}
    return tf.keras.Model(model.input, outputs, name=f"{model.name}_moved")
