"""Where things lie in an exported model's folders (TF Serving's layout).

A model's base folder holds numbered version folders (`base/1`, `base/2`: the
servers load the highest); each version holds `saved_model.pb`, `variables/`
and `assets.extra/`, which TF Serving reads only for its warmup requests, so
`keras-mtl train` bundles the trained `.keras` model there too.
"""

import os

#: The graph and signatures of a SavedModel version.
SAVED_MODEL_FILE = "saved_model.pb"

#: Files beside the SavedModel that TF Serving does not load as the model.
ASSETS_EXTRA = "assets.extra"

#: TF Serving's warmup requests (`keras_mtl.export.warmup`).
WARMUP_FILE = os.path.join(ASSETS_EXTRA, "tf_serving_warmup_requests")

#: The `.keras` model `keras-mtl train` bundles in each version it exports, so
#: `plot-gates` and `inspect --data` find the layers the export drops.
BUNDLED_KERAS = os.path.join(ASSETS_EXTRA, "model.keras")


def is_version(path):
    """Whether `path` is a SavedModel version folder (it holds `saved_model.pb`)."""
    return os.path.isfile(os.path.join(path, SAVED_MODEL_FILE))


def versions_in(base_dir):
    """The versions (ints, ascending) of the SavedModel base folder `base_dir`."""
    return sorted(
        int(name)
        for name in os.listdir(base_dir)
        if name.isdigit() and is_version(os.path.join(base_dir, name))
    )


def resolve_version(path):
    """`(version folder, versions)` of a version folder or a base folder.

    A version folder is returned as it is, with `versions` None; of a base
    folder, the newest version, with every version it holds.

    Raises:
        ValueError: `path` is neither (the message says what it holds).
    """
    if not os.path.isdir(path):
        raise ValueError(f"expected a SavedModel folder, got {path!r} (not a folder)")
    if is_version(path):
        return path, None
    versions = versions_in(path)
    if not versions:
        raise ValueError(
            f"{path} holds no {SAVED_MODEL_FILE} and no numbered version folders with one: "
            "expected a SavedModel version folder or a base folder of versions "
            "(as keras_mtl.export.export_saved_model writes)"
        )
    return os.path.join(path, str(versions[-1])), versions
