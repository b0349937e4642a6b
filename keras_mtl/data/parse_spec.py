"""The `tf.io.parse_example` spec of feature specs (and labels)."""

from collections.abc import Sequence
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl._types import FeatureSpec
from keras_mtl._types import LabelColumns
from keras_mtl.data.dataframe import label_columns
from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat

_DTYPES = {"string": tf.string, "int64": tf.int64}


def _require_dtype(spec):
    if spec.dtype is None:
        raise ValueError(
            f"Feature '{spec.name}': expected dtype='string' or 'int64' to parse "
            "tf.Example records. Received dtype=None (pass dtype=, or adapt the "
            "features first: keras_mtl.features.adapt(features, file_pattern))."
        )
    return _DTYPES[spec.dtype]


def parse_spec(
    features: Sequence[FeatureSpec],
    labels: Optional[LabelColumns] = None,
) -> dict[str, Union[tf.io.FixedLenFeature, tf.io.VarLenFeature]]:
    """`{key: tf.io.FixedLenFeature | tf.io.VarLenFeature}` for tf.Example rows.

    The record layout `keras_mtl.data.write_tfrecords` writes and
    `tfrecord_dataset` / the `predict_examples` signature read, one
    `tf.train.Feature` per input name:

    - `SparseFeat`: one value (`bytes_list` for strings, `int64_list` for
      ints). A missing string is `""` (the out-of-vocabulary row, as a
      missing DataFrame cell); a missing integer is an error.
    - `VarLenSparseFeat`: a list of any length (missing = empty), padded or
      truncated to `maxlen` with the padding value; its `weight_name` is a
      `float_list` of the same length.
    - `DenseFeat`: exactly `dimension` values in a `float_list`; missing is an
      error.
    - labels: one `float_list` value per task; missing is NaN (the label is
      masked out of the loss, as a NaN DataFrame label).

    Args:
        features: SparseFeat / VarLenSparseFeat / DenseFeat specs (a
            categorical spec needs its `dtype`; `adapt` sets it).
        labels: optional `{task: key}` or a list of keys named like the tasks.

    Returns:
        The dict `tf.io.parse_example` takes.

    Example:
    >>> spec = parse_spec([SparseFeat("city", dtype="string"), DenseFeat("price")], ["click"])
    >>> spec["city"].default_value, spec["price"].default_value, spec["click"].dtype.name
    ('', None, 'float32')
    """
    spec_by_key = {}
    for spec in features:
        if isinstance(spec, DenseFeat):
            shape = [] if spec.dimension == 1 else [spec.dimension]
            spec_by_key[spec.name] = tf.io.FixedLenFeature(shape, tf.float32)
        elif isinstance(spec, VarLenSparseFeat):
            spec_by_key[spec.name] = tf.io.VarLenFeature(_require_dtype(spec))
            if spec.weight_name is not None:
                spec_by_key[spec.weight_name] = tf.io.VarLenFeature(tf.float32)
        else:
            dtype = _require_dtype(spec)
            default = "" if dtype == tf.string else None
            spec_by_key[spec.name] = tf.io.FixedLenFeature([], dtype, default_value=default)
    if labels is not None:
        for key in label_columns(labels).values():
            spec_by_key[key] = tf.io.FixedLenFeature([], tf.float32, default_value=float("nan"))
    return spec_by_key
