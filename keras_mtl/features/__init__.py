"""Feature specs: what the model's inputs are and how they are encoded."""

from keras_mtl.features.adapt import adapt
from keras_mtl.features.chunk_source import ChunkSource
from keras_mtl.features.chunk_source import register_file_source
from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.feature_inputs import build_inputs
from keras_mtl.features.feature_inputs import embed_features
from keras_mtl.features.feature_inputs import validate_features
from keras_mtl.features.sparse_feat import SparseFeat
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat

__all__ = [
    "ChunkSource",
    "DenseFeat",
    "SparseFeat",
    "VarLenSparseFeat",
    "adapt",
    "build_inputs",
    "embed_features",
    "register_file_source",
    "validate_features",
]
