"""Registration of keras_mtl classes for Keras serialization."""

import tensorflow as tf

PACKAGE = "keras_mtl"


def keras_mtl_export(cls):
    """Registers `cls` under the package name "keras_mtl".

    Saved models then reload with `tf.keras.models.load_model` and no
    `custom_objects`, on Keras 3 and on tf_keras 2 alike.
    """
    return tf.keras.utils.register_keras_serializable(package=PACKAGE)(cls)
