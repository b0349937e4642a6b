"""Turning feature specs into model inputs and the bottom input x."""

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Optional

import tensorflow as tf

from keras_mtl.features import names as feature_names
from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.feature_spec import FeatureSpec
from keras_mtl.features.sparse_feat import SparseFeat
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat
from keras_mtl.layers.encoded_id_lookup import EncodedIdLookup
from keras_mtl.layers.numeric_transform import NumericTransform
from keras_mtl.layers.sequence_pooling import SequencePooling
from keras_mtl.layers.stacked_embedding import StackedEmbedding

SPEC_TYPES = (SparseFeat, VarLenSparseFeat, DenseFeat)
_TABLE_FIELDS = ("encoding", "vocabulary", "hash_bins", "vocabulary_size", "dtype")


def validate_features(features: Sequence[FeatureSpec]) -> tuple[FeatureSpec, ...]:
    """Checks specs are complete, names unique and shared tables consistent.

    Input names (and embedding names) must also stay distinct as
    `keras_mtl.features.names.internal_name` rewrites them.

    Returns the features as a tuple.
    """
    if isinstance(features, SPEC_TYPES) or not features:
        raise ValueError(
            "expected a non-empty list of SparseFeat / VarLenSparseFeat / "
            f"DenseFeat. Received: features={features!r}"
        )
    features = tuple(features)
    names = set()
    tables = {}
    for spec in features:
        if not isinstance(spec, SPEC_TYPES):
            raise TypeError(
                "expected SparseFeat, VarLenSparseFeat or DenseFeat. "
                f"Received: {spec!r} of type {type(spec).__name__}"
            )
        for name in (spec.name, getattr(spec, "weight_name", None)):
            if name is None:
                continue
            if name in names:
                raise ValueError(f"expected unique input names. Received '{name}' twice.")
            names.add(name)
        if isinstance(spec, DenseFeat):
            if not spec.is_adapted:
                if spec.normalize and spec.mean is None:
                    raise ValueError(
                        f"Feature '{spec.name}' has normalize=True but no mean/"
                        "variance. Call keras_mtl.features.adapt(features, df) "
                        "first or pass mean= and variance=."
                    )
                raise ValueError(
                    f"Feature '{spec.name}' has buckets={spec.buckets} but no "
                    "bucket_edges. Call keras_mtl.features.adapt(features, data) "
                    "first or pass bucket_edges=."
                )
            continue
        _ = spec.num_embeddings  # raises a clear error when not adapted
        table = tuple(getattr(spec, f) for f in _TABLE_FIELDS) + (spec.embedding_dim,)
        first = tables.setdefault(spec.embedding_name, (spec, table))
        if first[1] != table:
            raise ValueError(
                f"Features '{first[0].name}' and '{spec.name}' share "
                f"embedding_name '{spec.embedding_name}' but differ in "
                "vocabulary, hashing, ids or embedding_dim. Expected identical "
                "table settings (adapt() learns one vocabulary for the group)."
            )
    feature_names.check_distinct(sorted(names), "input")
    feature_names.check_distinct(tables, "embedding")
    return features


def _input_dtype(spec):
    return "float32" if isinstance(spec, DenseFeat) else spec.dtype


def build_inputs(features: Sequence[FeatureSpec]) -> dict[str, tf.Tensor]:
    """One `tf.keras.Input` per feature (and per sequence weight), by name.

    Scalar features (SparseFeat, DenseFeat of dimension 1) take shape
    `(batch,)`, so serving takes the same 1-D columns a DataFrame holds. The
    dict keys and the `Input` names are the feature names as given; layers
    derived from a feature are named by `names.internal_name`.
    """
    inputs = {}
    for spec in validate_features(features):
        if isinstance(spec, VarLenSparseFeat):
            shape = (spec.maxlen,)
            if spec.weight_name is not None:
                inputs[spec.weight_name] = tf.keras.Input(
                    shape=shape, dtype="float32", name=spec.weight_name
                )
        elif isinstance(spec, DenseFeat) and spec.dimension > 1:
            shape = (spec.dimension,)
        else:
            shape = ()
        inputs[spec.name] = tf.keras.Input(shape=shape, dtype=_input_dtype(spec), name=spec.name)
    return inputs


def _index_layer(spec, name_prefix=""):
    """Raw values -> embedding rows (see keras_mtl.features._categorical)."""
    name = f"{name_prefix}{feature_names.internal_name(spec.name)}_index"
    if spec.encoding == "lookup":
        if spec.dtype == "string":
            return tf.keras.layers.StringLookup(
                vocabulary=list(spec.vocabulary), num_oov_indices=1, name=name
            )
        return tf.keras.layers.IntegerLookup(
            vocabulary=list(spec.vocabulary),
            num_oov_indices=1,
            mask_token=None,
            name=name,
        )
    if spec.encoding == "hash":
        return tf.keras.layers.Hashing(num_bins=spec.hash_bins, name=name)
    return EncodedIdLookup(spec.vocabulary_size, name=name)


def _bucket_rows(spec, values, name_prefix=""):
    """Raw values `(B,)` -> quantile bucket rows `(B,)` in `[0, len(edges)]`."""
    prefix = name_prefix + feature_names.internal_name(spec.name)
    return tf.keras.layers.Discretization(
        bin_boundaries=list(spec.bucket_edges), name=f"{prefix}_quantile_bucket"
    )(values)


#: The table name of a numeric feature's quantile buckets in its stack; "/"
#: cannot occur in a feature or embedding name.
BUCKET_TABLE = "{}/buckets"


class _Stacks:
    """The lookups of one `embed_features` call, grouped into one stack per width."""

    def __init__(self):
        self.by_width = {}  # width -> {"tables": {name: rows}, "inputs": [(feature, table, rows)]}

    def add(self, width, table, num_rows, feature, rows):
        """Registers a lookup; returns its key for `outputs`."""
        stack = self.by_width.setdefault(width, {"tables": {}, "inputs": []})
        stack["tables"].setdefault(table, num_rows)
        stack["inputs"].append((feature, table, rows))
        return width, len(stack["inputs"]) - 1

    def outputs(self, regularizer, name_prefix):
        """`{key: embedded}`: one `StackedEmbedding` call per width."""
        found = {}
        for width in sorted(self.by_width):
            stack = self.by_width[width]
            layer = StackedEmbedding(
                list(stack["tables"].items()),
                [table for _, table, _ in stack["inputs"]],
                width,
                input_features=[feature for feature, _, _ in stack["inputs"]],
                embeddings_regularizer=regularizer,
                name=f"{name_prefix}embedding_tables_{width}",
            )
            embedded = layer([rows for _, _, rows in stack["inputs"]])
            for position, tensor in enumerate(embedded):
                found[width, position] = tensor
        return found


def embed_features(
    inputs: Mapping[str, tf.Tensor],
    features: Sequence[FeatureSpec],
    embeddings_regularizer: Optional[tf.keras.regularizers.Regularizer] = None,
    name_prefix: str = "",
) -> tf.Tensor:
    """Concatenates every feature's embedding or values into x `(batch, d)`.

    Categorical values are mapped to rows in-graph (lookup, hashing or the
    pre-encoded id guard) and embedded; sequences are pooled; numeric values
    go through `NumericTransform` and, with buckets, a `Discretization` into
    their quantile bucket, which is embedded. All tables of one width (the
    features', one per `embedding_name`, and the quantile buckets') are
    stacked into one `StackedEmbedding` layer, named
    `"{name_prefix}embedding_tables_{width}"`: one lookup per width and step,
    and one optimizer update (`keras_mtl.layers.StackedEmbedding`). A
    feature's rows: `model.embedding_table(name)`.

    Args:
        inputs: dict from `build_inputs`.
        features: the same specs.
        embeddings_regularizer: regularizer of all embedding tables.
        name_prefix: prepended to the name of every layer made here; a model
            that embeds the same features twice (STEM's per-task tables)
            calls this once per prefix and gets tables of its own each time.

    Returns:
        A float tensor `(batch, d)`, the features' parts in the features' order.
    """
    features = validate_features(features)
    stacks = _Stacks()
    parts = []  # tensors, or ("stack", key, spec) to fill after the lookups
    for spec in features:
        if isinstance(spec, DenseFeat):
            if spec.keep_value:
                transform = NumericTransform(
                    log1p=spec.log1p,
                    mean=spec.mean,
                    variance=spec.variance,
                    name=f"{name_prefix}{feature_names.internal_name(spec.name)}_transform",
                )
                parts.append(transform(inputs[spec.name]))  # (B, dim)
            if spec.is_bucketized:
                rows = _bucket_rows(spec, inputs[spec.name], name_prefix)
                key = stacks.add(
                    spec.bucket_embedding_dim,
                    BUCKET_TABLE.format(spec.name),
                    spec.num_buckets,
                    BUCKET_TABLE.format(spec.name),
                    rows,
                )
                parts.append(("stack", key, None))
            continue
        rows = _index_layer(spec, name_prefix)(inputs[spec.name])
        key = stacks.add(
            spec.embedding_dim, spec.embedding_name, spec.num_embeddings, spec.name, rows
        )
        parts.append(("stack", key, spec))
    embedded = stacks.outputs(embeddings_regularizer, name_prefix)
    for position, part in enumerate(parts):
        if not isinstance(part, tuple):
            continue
        _, key, spec = part
        vectors = embedded[key]  # (B, dim) or (B, L, dim)
        if isinstance(spec, VarLenSparseFeat):
            pooling_inputs = [vectors, inputs[spec.name]]
            if spec.weight_name is not None:
                pooling_inputs.append(inputs[spec.weight_name])
            vectors = SequencePooling(
                spec.pooling,
                pad_value=spec.pad_value,
                name=f"{name_prefix}{feature_names.internal_name(spec.name)}_pooling",
            )(pooling_inputs)  # (B, dim)
        parts[position] = vectors
    if len(parts) == 1:
        return parts[0]
    return tf.keras.layers.Concatenate(axis=-1, name=f"{name_prefix}bottom_input")(parts)
