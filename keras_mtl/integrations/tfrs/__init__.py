"""keras_mtl weighting strategies and layers inside TensorFlow Recommenders.

TensorFlow Recommenders (`tensorflow_recommenders`) runs on tf_keras 2 only,
so this module needs `TF_USE_LEGACY_KERAS=1` set before TensorFlow is first
imported, and the `tfrs` extra: `pip install "keras_mtl[tfrs]"`.
"""

import tensorflow as tf

if not tf.keras.__name__.startswith("tf_keras"):
    raise ImportError(
        "keras_mtl.integrations.tfrs needs tf_keras 2, as TensorFlow "
        f"Recommenders does. Received tf.keras = {tf.keras.__name__} (Keras 3). "
        "Set the environment variable TF_USE_LEGACY_KERAS=1 before TensorFlow "
        'is imported and install the extra: pip install "keras_mtl[tfrs]".'
    )

try:
    import tensorflow_recommenders  # noqa: F401
except ImportError as error:
    raise ImportError(
        "keras_mtl.integrations.tfrs needs TensorFlow Recommenders. Received "
        f"{type(error).__name__}: {error}. Install the extra: "
        'pip install "keras_mtl[tfrs]".'
    ) from error

from keras_mtl.integrations.tfrs.multi_task_recommender import MultiTaskRecommender

__all__ = ["MultiTaskRecommender"]
