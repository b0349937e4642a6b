"""keras_mtl: multi-task and multi-domain ranking models on tf.keras.

Works on Keras 3 (TensorFlow's default) and on tf_keras 2
(`TF_USE_LEGACY_KERAS=1`); everything goes through `tf.keras`.
"""

from keras_mtl import data
from keras_mtl import evaluation
from keras_mtl import export
from keras_mtl import features
from keras_mtl import layers
from keras_mtl import losses
from keras_mtl import models
from keras_mtl import optimizers
from keras_mtl import training
from keras_mtl import weighting
from keras_mtl.features import DenseFeat
from keras_mtl.features import SparseFeat
from keras_mtl.features import VarLenSparseFeat
from keras_mtl.models import AITM
from keras_mtl.models import CGC
from keras_mtl.models import ESCM2
from keras_mtl.models import ESM2
from keras_mtl.models import ESMM
from keras_mtl.models import PLE
from keras_mtl.models import SNR
from keras_mtl.models import STAR
from keras_mtl.models import STEM
from keras_mtl.models import AdaTT
from keras_mtl.models import CrossStitch
from keras_mtl.models import HoME
from keras_mtl.models import MetaHeac
from keras_mtl.models import MMoE
from keras_mtl.models import OMoE
from keras_mtl.models import PEPNet
from keras_mtl.models import SharedBottom
from keras_mtl.training import MultiTaskModel

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "data",
    "evaluation",
    "export",
    "features",
    "layers",
    "losses",
    "models",
    "optimizers",
    "training",
    "weighting",
    "DenseFeat",
    "SparseFeat",
    "VarLenSparseFeat",
    "AITM",
    "CGC",
    "ESCM2",
    "ESM2",
    "ESMM",
    "PLE",
    "SNR",
    "STAR",
    "STEM",
    "AdaTT",
    "CrossStitch",
    "HoME",
    "MetaHeac",
    "MMoE",
    "OMoE",
    "PEPNet",
    "SharedBottom",
    "MultiTaskModel",
]
