"""Serialized tf.Example rows -> the model's input dict (and labels)."""

from collections.abc import Sequence
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl._types import FeatureSpec
from keras_mtl._types import LabelColumns
from keras_mtl.data.dataframe import label_columns
from keras_mtl.data.parse_spec import parse_spec
from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat


def fixed_width(sparse, width, pad):
    """A `VarLenFeature` batch -> dense `(batch, width)`, padded / truncated."""
    rows = sparse.dense_shape[0]
    kept = tf.sparse.slice(sparse, [0, 0], tf.stack([rows, width]))
    kept = tf.sparse.reset_shape(kept, tf.stack([rows, width]))
    return tf.sparse.to_dense(kept, default_value=pad)  # (batch, width)


def parse_examples(
    serialized: tf.Tensor,
    features: Sequence[FeatureSpec],
    labels: Optional[LabelColumns] = None,
    names: Optional[tf.Tensor] = None,
) -> Union[dict[str, tf.Tensor], tuple[dict[str, tf.Tensor], dict[str, tf.Tensor]]]:
    """Parses a batch of serialized `tf.Example`s into model inputs.

    The layout and the defaults for missing values are those of
    `keras_mtl.data.parse_spec`. A record missing a required feature or
    holding the wrong value type fails with TensorFlow's
    InvalidArgumentError, which names the feature and the record (`names`,
    e.g. `"file:index"`); NaN or inf in a numeric feature fails too.

    Args:
        serialized: 1-D string tensor of serialized `tf.Example`s.
        features: the feature specs.
        labels: optional `{task: key}` or a list of keys; None parses the
            features only.
        names: optional 1-D string tensor naming each record in errors.

    Returns:
        `{input name: tensor}`, or `(inputs, {task: float32 labels})`.

    Example:
    >>> example = tf.train.Example(features=tf.train.Features(feature={
    ...     "item": tf.train.Feature(int64_list=tf.train.Int64List(value=[3]))}))
    >>> x = parse_examples(tf.constant([example.SerializeToString()]),
    ...                    [SparseFeat("item", vocabulary_size=10)])
    >>> x["item"].numpy().tolist()
    [3]
    """
    parsed = tf.io.parse_example(serialized, parse_spec(features, labels), example_names=names)
    x = {}
    for spec in features:
        value = parsed[spec.name]
        if isinstance(spec, VarLenSparseFeat):
            x[spec.name] = fixed_width(value, spec.maxlen, spec.pad_value)
            if spec.weight_name is not None:
                x[spec.weight_name] = fixed_width(parsed[spec.weight_name], spec.maxlen, 0.0)
            continue
        if isinstance(spec, DenseFeat):
            value = tf.debugging.check_numerics(
                value, f"Feature '{spec.name}': expected finite numbers in the records"
            )
        x[spec.name] = value
    if labels is None:
        return x
    return x, {task: parsed[key] for task, key in label_columns(labels).items()}
