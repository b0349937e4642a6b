"""Export for serving: SavedModel (TF Serving layout) and ONNX.

The ONNX names load `keras_mtl.export.onnx_export` (and onnx, tf2onnx) when first used, so
`import keras_mtl` needs none of the `keras_mtl[onnx]` extra.
"""

import importlib

from keras_mtl.export.saved_model import export_saved_model
from keras_mtl.export.saved_model import next_version
from keras_mtl.export.signature import show_signature
from keras_mtl.export.warmup import write_warmup_requests

_LAZY = {
    "OnnxExport": "keras_mtl.export.onnx_export",
    "OnnxExportError": "keras_mtl.export.onnx_export",
    "export_onnx": "keras_mtl.export.onnx_export",
    "export_onnx_version": "keras_mtl.export.onnx_export",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'keras_mtl.export' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)


__all__ = [
    "OnnxExport",
    "OnnxExportError",
    "export_onnx",
    "export_onnx_version",
    "export_saved_model",
    "next_version",
    "show_signature",
    "write_warmup_requests",
]
