"""Optimizers for production-sized embedding tables.

`LazyAdam` and `Adagrad` update only the rows a batch touched (duplicate ids
summed once). `compile(optimizer="adam")` of a keras_mtl model trains the
embedding tables (stacks) of more than 100,000 rows with a LazyAdam of the
same settings, and "adagrad" with this Adagrad; smaller ones stay with the
compiled optimizer (see `keras_mtl.training.OptimizerGroups`).
"""

from keras_mtl.optimizers.adagrad import Adagrad
from keras_mtl.optimizers.lazy_adam import LazyAdam
from keras_mtl.optimizers.sparse_rows import RowWise
from keras_mtl.optimizers.sparse_rows import summed_rows

__all__ = ["Adagrad", "LazyAdam", "RowWise", "summed_rows"]
