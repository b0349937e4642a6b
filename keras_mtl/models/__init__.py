"""Model builders: feature specs in, a MultiTaskModel out."""

from keras_mtl.models.esmm import ESMM
from keras_mtl.models.mmoe import MMoE
from keras_mtl.models.omoe import OMoE
from keras_mtl.models.shared_bottom import SharedBottom

__all__ = ["ESMM", "MMoE", "OMoE", "SharedBottom"]
