"""Keras layers of keras_mtl (all registered under the package "keras_mtl")."""

from keras_mtl.layers.encoded_id_lookup import EncodedIdLookup
from keras_mtl.layers.expert_layer import ExpertLayer
from keras_mtl.layers.gate_layer import GateLayer
from keras_mtl.layers.mlp import MLP
from keras_mtl.layers.numeric_transform import NumericTransform
from keras_mtl.layers.sequence_pooling import SequencePooling
from keras_mtl.layers.stop_gradient import StopGradient
from keras_mtl.layers.task_head import TaskHead

__all__ = [
    "EncodedIdLookup",
    "ExpertLayer",
    "GateLayer",
    "MLP",
    "NumericTransform",
    "SequencePooling",
    "StopGradient",
    "TaskHead",
]
