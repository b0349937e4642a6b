"""Exports one seeded model over and over until killed (tests/export/test_killed_exports.py).

    python tests/export/export_loop.py BASE

Writes BASE/expected.npz (the model's predictions on the rows it exports
with), prints READY, then loops: a SavedModel version under BASE/saved, an
ONNX version under BASE/onnx, and BASE/file/model.onnx replaced in place.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_mtl  # noqa: E402

#: a table of a few MB, so that writing it takes a while
ITEMS = 200_000


def model_and_rows():
    tf.keras.utils.set_random_seed(0)
    feats = [
        keras_mtl.SparseFeat("item", vocabulary_size=ITEMS, embedding_dim=8),
        keras_mtl.SparseFeat("color", vocabulary=("red", "grün", "")),
        keras_mtl.DenseFeat("price"),
    ]
    model = keras_mtl.MMoE(
        feats, task_names=("ctr",), num_experts=2, expert_units=(8,), tower_units=(4,)
    )
    rows = {
        "item": np.array([0, 7, ITEMS - 1, ITEMS + 3]),
        "color": np.array(["red", "grün", "", "blue"], dtype=object),
        "price": np.array([0.5, 1.0, -2.0, 3.0], np.float32),
    }
    return model, rows


def main(base):
    model, rows = model_and_rows()
    np.savez(os.path.join(base, "expected.npz"), **model.predict(rows, verbose=0))
    print("READY", flush=True)
    while True:
        keras_mtl.export.export_saved_model(model, os.path.join(base, "saved"), examples=rows)
        keras_mtl.export.export_onnx_version(
            model, os.path.join(base, "onnx"), examples=rows, external_data=True
        )
        keras_mtl.export.export_onnx(
            model, os.path.join(base, "file", "model.onnx"), examples=rows, external_data=True
        )


if __name__ == "__main__":
    main(sys.argv[1])
