"""Keras layers of keras_mtl (all registered under the package "keras_mtl")."""

from keras_mtl.layers.adatt_layer import AdaTTLayer
from keras_mtl.layers.ait_module import AITModule
from keras_mtl.layers.branch_dense import BranchDense
from keras_mtl.layers.cross_stitch_unit import CrossStitchUnit
from keras_mtl.layers.dselect_k_gate import DSelectKGate
from keras_mtl.layers.encoded_id_lookup import EncodedIdLookup
from keras_mtl.layers.epnet_layer import EPNetLayer
from keras_mtl.layers.expert_layer import ExpertLayer
from keras_mtl.layers.feature_gate import FeatureGate
from keras_mtl.layers.gate_group import GateGroup
from keras_mtl.layers.gate_layer import GateLayer
from keras_mtl.layers.gate_nu import GateNU
from keras_mtl.layers.hard_concrete_gate import HardConcreteGate
from keras_mtl.layers.home_layer import HoMELayer
from keras_mtl.layers.logit_sum import LogitSum
from keras_mtl.layers.meta_heac_layer import MetaHeacLayer
from keras_mtl.layers.mlp import MLP
from keras_mtl.layers.normalized_experts import NormalizedExperts
from keras_mtl.layers.numeric_transform import NumericTransform
from keras_mtl.layers.partitioned_normalization import PartitionedNormalization
from keras_mtl.layers.ple_layer import PLELayer
from keras_mtl.layers.ppnet_layer import PPNetLayer
from keras_mtl.layers.sequence_pooling import SequencePooling
from keras_mtl.layers.snr_avg_layer import SNRAvgLayer
from keras_mtl.layers.snr_trans_layer import SNRTransLayer
from keras_mtl.layers.sparse_embedding import SparseEmbedding
from keras_mtl.layers.stacked_embedding import StackedEmbedding
from keras_mtl.layers.star_topology import StarTopology
from keras_mtl.layers.stem_layer import STEMLayer
from keras_mtl.layers.stop_gradient import StopGradient
from keras_mtl.layers.task_head import TaskHead
from keras_mtl.layers.task_split import TaskSplit

__all__ = [
    "AdaTTLayer",
    "AITModule",
    "BranchDense",
    "CrossStitchUnit",
    "DSelectKGate",
    "EncodedIdLookup",
    "EPNetLayer",
    "ExpertLayer",
    "FeatureGate",
    "GateGroup",
    "GateLayer",
    "GateNU",
    "HardConcreteGate",
    "HoMELayer",
    "LogitSum",
    "MetaHeacLayer",
    "MLP",
    "NormalizedExperts",
    "NumericTransform",
    "PartitionedNormalization",
    "PLELayer",
    "PPNetLayer",
    "SequencePooling",
    "SparseEmbedding",
    "StackedEmbedding",
    "SNRAvgLayer",
    "SNRTransLayer",
    "StarTopology",
    "STEMLayer",
    "StopGradient",
    "TaskHead",
    "TaskSplit",
]
