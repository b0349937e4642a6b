"""Export for serving: SavedModel (TF Serving layout) and ONNX."""

from keras_mtl.export.onnx_export import OnnxExport
from keras_mtl.export.onnx_export import OnnxExportError
from keras_mtl.export.onnx_export import export_onnx
from keras_mtl.export.onnx_export import export_onnx_version
from keras_mtl.export.saved_model import export_saved_model
from keras_mtl.export.saved_model import next_version
from keras_mtl.export.signature import show_signature
from keras_mtl.export.warmup import write_warmup_requests

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
