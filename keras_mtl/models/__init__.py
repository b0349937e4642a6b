"""Model builders: feature specs in, a MultiTaskModel out."""

from keras_mtl.models.adatt import AdaTT
from keras_mtl.models.aitm import AITM
from keras_mtl.models.cgc import CGC
from keras_mtl.models.cross_stitch import CrossStitch
from keras_mtl.models.escm2 import ESCM2
from keras_mtl.models.esm2 import ESM2
from keras_mtl.models.esmm import ESMM
from keras_mtl.models.home import HoME
from keras_mtl.models.meta_heac import MetaHeac
from keras_mtl.models.mmoe import MMoE
from keras_mtl.models.omoe import OMoE
from keras_mtl.models.pepnet import PEPNet
from keras_mtl.models.ple import PLE
from keras_mtl.models.shared_bottom import SharedBottom
from keras_mtl.models.snr import SNR
from keras_mtl.models.star import STAR
from keras_mtl.models.stem import STEM

__all__ = [
    "AdaTT",
    "AITM",
    "CGC",
    "CrossStitch",
    "ESCM2",
    "ESM2",
    "ESMM",
    "HoME",
    "MetaHeac",
    "MMoE",
    "OMoE",
    "PEPNet",
    "PLE",
    "SharedBottom",
    "SNR",
    "STAR",
    "STEM",
]
