"""`import keras_mtl` loads none of the extras' packages; a missing one names its extra."""

import subprocess
import sys

import pytest

from keras_mtl.optional_import import optional_import

HEAVY = ("onnx", "tf2onnx", "onnxruntime", "onnxruntime_extensions", "matplotlib", "yaml")

_PROBE = """
import sys
import tensorflow as tf
tf.keras.layers.Dense  # Keras itself imports matplotlib when it is installed
before = set(sys.modules)
import keras_mtl
import keras_mtl.export
new = sorted({m.split(".")[0] for m in set(sys.modules) - before})
print(" ".join(new))
print(" ".join(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_import_keras_mtl_loads_no_extra():
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    added, loaded = set(out[-2].split()), set(out[-1].split())
    assert "keras_mtl" in added
    assert not added & set(HEAVY), f"import keras_mtl loaded {sorted(added & set(HEAVY))}"
    for name in ("onnx", "tf2onnx", "onnxruntime", "yaml"):
        assert name not in loaded


def test_onnx_names_load_on_first_use():
    import keras_mtl.export

    assert keras_mtl.export.export_onnx.__module__ == "keras_mtl.export.onnx_export"
    assert "export_onnx" in dir(keras_mtl.export)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = keras_mtl.export.nope


def test_missing_package_names_the_extra():
    with pytest.raises(ImportError, match=r'pip install "keras_mtl\[plot\]"') as caught:
        optional_import("keras_mtl_missing_pkg.pyplot", "plot", "gate plots")
    assert "gate plots needs the package of module 'keras_mtl_missing_pkg.pyplot'" in str(
        caught.value
    )
