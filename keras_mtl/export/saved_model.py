"""SavedModel export in the TF Serving directory layout."""

import os

import tensorflow as tf


def next_version(base_dir):
    """The next free integer version under `base_dir` (1 when empty)."""
    if not os.path.isdir(base_dir):
        return 1
    versions = [int(name) for name in os.listdir(base_dir) if name.isdigit()]
    return max(versions, default=0) + 1


def export_saved_model(model, base_dir, version=None):
    """Writes `model` as a SavedModel to `base_dir/<version>/`.

    The `serving_default` signature takes the raw features by name (the
    values a DataFrame holds: strings, ints, floats) and returns a dict keyed
    by task name; it needs neither keras_mtl nor Keras to load.

    Args:
        model: a keras_mtl `MultiTaskModel` (any functional model with dict
            inputs and outputs works).
        base_dir: the model's folder in a TF Serving model base path.
        version: integer version; None takes the next free one.

    Returns:
        The path written.
    """
    if version is None:
        version = next_version(base_dir)
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"expected a positive integer. Received: version={version!r}")
    path = os.path.join(base_dir, str(version))
    if os.path.exists(path):
        raise FileExistsError(
            f"{path} exists already. Expected a new version under {base_dir}; "
            "pass version=None to take the next free one."
        )
    if tf.keras.__name__.startswith("tf_keras"):
        model.export(path)
    else:
        model.export(path, verbose=False)
    return path
