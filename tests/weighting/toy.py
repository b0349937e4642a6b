"""A two-task toy model with a shared linear layer, for closed-form checks."""

import numpy as np
import tensorflow as tf

import keras_mtl
from keras_mtl.layers import MLP
from keras_mtl.layers import TaskHead

X = np.random.RandomState(3).normal(size=(16, 3)).astype("float32")
Y_A = (X[:, 0] > 0).astype("float32")
Y_B = (X[:, 1] > 0).astype("float32")


def model(task_types=("binary", "binary")):
    """x -> shared Dense(4) -> one head per task (a, b)."""
    x = tf.keras.Input(shape=(3,), name="x")
    shared = MLP((4,), name="shared")(x)
    heads = {t: TaskHead(kind, name=t)(shared) for t, kind in zip("ab", task_types)}
    return keras_mtl.MultiTaskModel(
        inputs={"x": x},
        outputs=heads,
        task_types=dict(zip("ab", task_types)),
        shared_layer="shared",
    )


def dataset(y_a=Y_A, y_b=Y_B, batch_size=16):
    return tf.data.Dataset.from_tensor_slices(({"x": X}, {"a": y_a, "b": y_b})).batch(batch_size)
