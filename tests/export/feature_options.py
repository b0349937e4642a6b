"""Every feature option in one small data set: what the export parity matrix serves.

One model per builder over these features covers every option at once:
string and integer vocabularies (with non-ASCII and empty strings), string
and integer in-graph hashing, pre-encoded ids, a weighted sequence, a
sequence sharing another feature's table (`embedding_name`), a numeric
feature with log1p, normalisation and quantile buckets, and a vector.
"""

import numpy as np

import keras_mtl
from tests.models import builder_cases

ROWS = 64
#: Strings of every kind the hashing and the vocabularies must keep apart.
WORDS = np.array(["red", "grün", "紅", "", " ", "🙂 emoji", "x" * 70, "naïve café"], dtype=object)


def frame(rows=ROWS, seed=0):
    """builder_cases' frame (labels, domain, ...) with every option's column."""
    df = builder_cases.frame(rows, seed)
    rng = np.random.RandomState(seed + 10)
    df["color"] = WORDS[rng.randint(0, 6, rows)]  # vocabulary: "", " " and non-ASCII
    df["query"] = [
        f"{WORDS[i]}-{j}" for i, j in zip(rng.randint(0, len(WORDS), rows), rng.randint(0, 9, rows))
    ]
    df["item_hash"] = rng.randint(0, 1000, rows).astype("int64")
    df["history"] = [list(WORDS[rng.randint(0, 6, rng.randint(0, 4))]) for _ in range(rows)]
    lengths = rng.randint(0, 4, rows)
    df["tags"] = [list(rng.randint(1, 9, n).astype("int64")) for n in lengths]
    df["tag_weights"] = [list(rng.uniform(0.1, 2.0, n).astype("float32")) for n in lengths]
    return df


def features(df):
    """Every feature option, adapted on `df`."""
    specs = [
        keras_mtl.SparseFeat("color", embedding_dim=3),  # string vocabulary
        keras_mtl.SparseFeat("size", embedding_dim=3),  # integer vocabulary
        keras_mtl.SparseFeat("query", hash_bins=16, embedding_dim=3),  # string hashing
        keras_mtl.SparseFeat("item_hash", hash_bins=8, dtype="int64", embedding_dim=2),
        keras_mtl.SparseFeat("item_id", vocabulary_size=20, embedding_dim=3),  # pre-encoded
        keras_mtl.VarLenSparseFeat("history", maxlen=3, embedding_name="color", embedding_dim=3),
        keras_mtl.VarLenSparseFeat(
            "tags", maxlen=3, pooling="sum", weight_name="tag_weights", embedding_dim=2
        ),
        keras_mtl.DenseFeat("price", log1p=True, normalize=True, buckets=4),
        keras_mtl.DenseFeat("vec", dimension=2),
        keras_mtl.SparseFeat("domain", vocabulary_size=3, embedding_dim=2),
    ]
    return keras_mtl.features.adapt(specs, df)


def arrays(df, feats):
    return keras_mtl.data.features_to_arrays(df, feats)


def moved(model, seed=0):
    """`model` with its weights moved off their initial values by seeded
    noise, so exports are compared on weights that matter (no training)."""
    rng = np.random.RandomState(seed)
    for weight in model.trainable_weights:
        value = np.asarray(weight.numpy())
        shifted = value * rng.uniform(0.5, 1.5, value.shape) + 0.1 * rng.normal(size=value.shape)
        weight.assign(shifted.astype(value.dtype))
    return model


def onnx_feed(rows):
    """`rows` as ONNX Runtime takes them: strings as `str` object arrays."""
    feed = {}
    for name, value in rows.items():
        value = np.asarray(value)
        if value.dtype.kind in "OUS":
            value = np.vectorize(
                lambda v: v.decode() if isinstance(v, bytes) else str(v), otypes=[object]
            )(value)
        feed[name] = value
    return feed
