"""The type of one feature spec, for annotations."""

from typing import Union

from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.sparse_feat import SparseFeat
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat

#: One feature spec: what a builder's `features` list and the data functions hold.
FeatureSpec = Union[SparseFeat, VarLenSparseFeat, DenseFeat]
