"""Small data and feature specs covering every encoding, shared by model tests."""

import numpy as np
import pandas as pd

import keras_mtl

ROWS = 64


def frame(rows=ROWS, seed=0):
    """A DataFrame with every kind of raw feature and two binary labels."""
    rng = np.random.RandomState(seed)
    colors = np.array(["red", "green", "blue", "black"])
    df = pd.DataFrame({
        "color": colors[rng.randint(0, 4, rows)],
        "size": rng.randint(0, 5, rows).astype("int64"),
        "query": [f"q{i}" for i in rng.randint(0, 50, rows)],
        "item_id": rng.randint(0, 20, rows).astype("int64"),
        "history": [list(colors[rng.randint(0, 4, rng.randint(0, 4))]) for _ in range(rows)],
        "price": rng.lognormal(size=rows).astype("float32"),
        "vec": [rng.normal(size=2).astype("float32") for _ in range(rows)],
    })
    score = (df["color"] == "red") * 1.5 + df["size"] * 0.3 - 1.0
    click = (score + rng.normal(size=rows) > 0).astype("float32")
    buy = ((score + rng.normal(size=rows) > 0.8) & (click > 0)).astype("float32")
    df["ctr"] = click
    df["cvr"] = buy.astype("float32")
    df["ctcvr"] = (click * buy).astype("float32")
    return df


def features(df):
    specs = [
        keras_mtl.SparseFeat("color", embedding_dim=3),
        keras_mtl.SparseFeat("size", embedding_dim=3),
        keras_mtl.SparseFeat("query", hash_bins=16, embedding_dim=3),
        keras_mtl.SparseFeat("item_id", vocabulary_size=20, embedding_dim=3),
        keras_mtl.VarLenSparseFeat("history", maxlen=3, embedding_name="color",
                                   embedding_dim=3),
        keras_mtl.DenseFeat("price", log1p=True, normalize=True),
        keras_mtl.DenseFeat("vec", dimension=2),
    ]
    return keras_mtl.features.adapt(specs, df)


def build(builder, feats):
    """A tiny model of each builder, and the label columns it trains on."""
    if builder is keras_mtl.ESMM:
        return builder(feats, tower_units=(8, 4)), ["ctr", "ctcvr"]
    kwargs = {"task_names": ("ctr", "cvr"), "tower_units": (4,)}
    if builder is keras_mtl.SharedBottom:
        kwargs["bottom_units"] = (8,)
    else:
        kwargs.update(num_experts=3, expert_units=(8, 6))
    return builder(feats, **kwargs), ["ctr", "cvr"]


BUILDERS = [keras_mtl.SharedBottom, keras_mtl.OMoE, keras_mtl.MMoE, keras_mtl.ESMM]
