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
    # multi-domain builders route by it; its own generator leaves the columns
    # above as they were. Id 3 is a domain unseen by the models (OOV).
    df["domain"] = np.random.RandomState(seed + 1).choice(
        4, rows, p=[0.5, 0.3, 0.15, 0.05]).astype("int64")
    # ESM²'s click-and-action label (action only after a click), drawn by its
    # own generator so the columns above stay as they were.
    action = np.random.RandomState(seed + 2).rand(rows) < 0.5
    df["ctavr"] = (click * action).astype("float32")
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
        keras_mtl.SparseFeat("domain", vocabulary_size=3, embedding_dim=2),
    ]
    return keras_mtl.features.adapt(specs, df)


def build(builder, feats):
    """A tiny model of each builder, and the label columns it trains on."""
    if builder is keras_mtl.ESMM:
        return builder(feats, tower_units=(8, 4)), ["ctr", "ctcvr"]
    if builder in FUNNEL:
        kwargs, labels = FUNNEL[builder]
        return builder(feats, **kwargs), labels
    kwargs = {"task_names": ("ctr", "cvr"), "tower_units": (4,)}
    if builder is keras_mtl.SharedBottom:
        kwargs["bottom_units"] = (8,)
    elif builder in ROUTING:
        kwargs.update(ROUTING[builder])
    elif builder in MULTI_DOMAIN:
        kwargs.update(domain_feature="domain", star_units=(8,), auxiliary_units=(4,))
    else:
        kwargs.update(num_experts=3, expert_units=(8, 6))
    return builder(feats, **kwargs), ["ctr", "cvr"]


def build_replicable(builder, feats):
    """`build`, but MetaHeac with its plain step: MetaLearningStep runs on one
    replica only (it refuses tf.distribute strategies with several)."""
    if builder is keras_mtl.MetaHeac:
        kwargs, labels = FUNNEL[builder]
        return builder(feats, meta_learning=False, **kwargs), labels
    return build(builder, feats)


def SNR_avg(features, **kwargs):
    """SNR with the SNR-Avg connections (the builder's other variant)."""
    return keras_mtl.SNR(features, variant="avg", **kwargs)


#: Tiny sizes of the expert-routing builders (CGC/PLE, SNR, Cross-Stitch).
ROUTING = {
    keras_mtl.CGC: {"num_specific_experts": 2, "num_shared_experts": 1,
                    "expert_units": (8, 6)},
    keras_mtl.PLE: {"num_levels": 2, "num_specific_experts": 1, "num_shared_experts": 2,
                    "expert_units": (8, 6)},
    keras_mtl.SNR: {"num_subnetworks": 3, "subnetwork_units": (8, 6)},
    SNR_avg: {"num_subnetworks": (3, 2), "subnetwork_units": (8, 6)},
    keras_mtl.CrossStitch: {"column_units": (8, 6)},
}


def STAR_add(features, **kwargs):
    """STAR whose shared and domain networks add their outputs (logits)."""
    return keras_mtl.STAR(features, combine="add", **kwargs)


#: Multi-domain builders (routed by the "domain" column).
MULTI_DOMAIN = (keras_mtl.STAR, STAR_add)

#: Funnel builders (AITM, ESM², MetaHeac): tiny sizes and trained labels.
FUNNEL = {
    keras_mtl.AITM: ({"task_names": ("ctr", "cvr"), "tower_units": (6,),
                      "attention_units": 4}, ["ctr", "cvr"]),
    keras_mtl.ESM2: ({"tower_units": (4,)}, ["ctr", "ctavr", "ctcvr"]),
    keras_mtl.MetaHeac: ({"task_names": ("ctr", "cvr"), "num_experts": 3,
                          "expert_units": (8, 6), "critic_units": (4,)}, ["ctr", "cvr"]),
}

#: Sorted output names of the builders whose outputs are not their tasks.
OUTPUTS = {
    keras_mtl.ESMM: ["ctcvr", "ctr", "cvr"],
    keras_mtl.ESM2: ["ctavr", "ctcvr", "ctr", "cvr", "p_action", "p_buy_after_action",
                     "p_buy_after_other"],
}

BUILDERS = [keras_mtl.SharedBottom, keras_mtl.OMoE, keras_mtl.MMoE, keras_mtl.ESMM,
            *ROUTING, *MULTI_DOMAIN]
BUILDERS += list(FUNNEL)
