"""Export for serving: SavedModel (TF Serving layout)."""

from keras_mtl.export.saved_model import export_saved_model
from keras_mtl.export.saved_model import next_version

__all__ = ["export_saved_model", "next_version"]
