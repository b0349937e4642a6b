"""Feature specs: what the model's inputs are and how they are encoded."""

from keras_mtl.features.adapt import adapt
from keras_mtl.features.chunk_source import ChunkSource
from keras_mtl.features.chunk_source import register_file_source
from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.feature_inputs import build_inputs
from keras_mtl.features.feature_inputs import embed_features
from keras_mtl.features.feature_inputs import validate_features
from keras_mtl.features.refresh_vocabularies import refresh_vocabularies
from keras_mtl.features.sparse_feat import SparseFeat
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat
from keras_mtl.features.vocabulary_report import VocabularyReport

__all__ = [
    "ChunkSource",
    "DenseFeat",
    "SparseFeat",
    "VarLenSparseFeat",
    "VocabularyReport",
    "adapt",
    "build_inputs",
    "embed_features",
    "refresh_vocabularies",
    "register_file_source",
    "validate_features",
]
