"""Small data, feature specs covering every encoding and one tiny case per builder.

Shared by the model, weighting, training and export tests: they run every
builder of `BUILDERS`, which follows `keras_mtl.models.__all__`.
"""

import numpy as np
import pandas as pd

import keras_mtl

ROWS = 64


def frame(rows=ROWS, seed=0):
    """A DataFrame with every kind of raw feature and two binary labels."""
    rng = np.random.RandomState(seed)
    colors = np.array(["red", "green", "blue", "black"])
    df = pd.DataFrame(
        {
            "color": colors[rng.randint(0, 4, rows)],
            "size": rng.randint(0, 5, rows).astype("int64"),
            "query": [f"q{i}" for i in rng.randint(0, 50, rows)],
            "item_id": rng.randint(0, 20, rows).astype("int64"),
            "history": [list(colors[rng.randint(0, 4, rng.randint(0, 4))]) for _ in range(rows)],
            "price": rng.lognormal(size=rows).astype("float32"),
            "vec": [rng.normal(size=2).astype("float32") for _ in range(rows)],
        }
    )
    score = (df["color"] == "red") * 1.5 + df["size"] * 0.3 - 1.0
    click = (score + rng.normal(size=rows) > 0).astype("float32")
    buy = ((score + rng.normal(size=rows) > 0.8) & (click > 0)).astype("float32")
    df["ctr"] = click
    df["cvr"] = buy.astype("float32")
    df["ctcvr"] = (click * buy).astype("float32")
    # multi-domain builders route by it; its own generator leaves the columns
    # above as they were. Id 3 is a domain unseen by the models (OOV).
    df["domain"] = (
        np.random.RandomState(seed + 1).choice(4, rows, p=[0.5, 0.3, 0.15, 0.05]).astype("int64")
    )
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
        keras_mtl.VarLenSparseFeat("history", maxlen=3, embedding_name="color", embedding_dim=3),
        keras_mtl.DenseFeat("price", log1p=True, normalize=True),
        keras_mtl.DenseFeat("vec", dimension=2),
        keras_mtl.SparseFeat("domain", vocabulary_size=3, embedding_dim=2),
    ]
    return keras_mtl.features.adapt(specs, df)


#: Tiny keyword arguments of every builder of keras_mtl.models.__all__: a new
#: builder is tested everywhere (every test over BUILDERS) once it has its line.
TINY = {
    "AdaTT": dict(num_task_experts=2, num_shared_experts=1, expert_units=(8, 6), tower_units=(4,)),
    "AITM": dict(task_names=("ctr", "cvr"), tower_units=(6,), attention_units=4),
    "CGC": dict(
        num_specific_experts=2, num_shared_experts=1, expert_units=(8, 6), tower_units=(4,)
    ),
    "CrossStitch": dict(column_units=(8, 6), tower_units=(4,)),
    "ESCM2": dict(tower_units=(4,)),
    "ESM2": dict(tower_units=(4,)),
    "ESMM": dict(tower_units=(8, 4)),
    "HoME": dict(num_task_experts=2, expert_units=(8, 6), feature_gate_rank=2, tower_units=(4,)),
    "MetaHeac": dict(num_experts=3, expert_units=(8, 6), critic_units=(4,)),
    "MMoE": dict(num_experts=3, expert_units=(8, 6), tower_units=(4,)),
    "OMoE": dict(num_experts=3, expert_units=(8, 6), tower_units=(4,)),
    "PEPNet": dict(
        domain_feature="domain",
        personal_features=("item_id",),
        domain_units=(6,),
        tower_units=(8, 4),
        gate_hidden_units=4,
    ),
    "PLE": dict(
        num_levels=2,
        num_specific_experts=1,
        num_shared_experts=2,
        expert_units=(8, 6),
        tower_units=(4,),
    ),
    "SharedBottom": dict(bottom_units=(8,), tower_units=(4,)),
    "SNR": dict(num_subnetworks=3, subnetwork_units=(8, 6), tower_units=(4,)),
    "STAR": dict(
        task_names=("ctr", "cvr"),
        domain_feature="domain",
        star_units=(8,),
        auxiliary_units=(4,),
        tower_units=(4,),
    ),
    "STEM": dict(
        num_specific_experts=1, num_shared_experts=2, expert_units=(8, 6), tower_units=(4,)
    ),
}

#: Other arguments of a builder that every test also runs: name: (builder,
#: arguments over its TINY ones).
VARIANTS = {
    "MMoE_dselect": ("MMoE", dict(gate="dselect_k", k=2)),  # DSelect-k gates
    "PLE_dselect": ("PLE", dict(gate="dselect_k", k=2)),  # and CGC's (PLE's levels)
    "SNR_avg": ("SNR", dict(variant="avg", num_subnetworks=(3, 2))),  # SNR-Avg connections
    "STAR_add": ("STAR", dict(combine="add")),  # shared and domain networks add their outputs
}

#: Label columns of the builders that do not train on ctr and cvr.
TRAINED = {"ESMM": ["ctr", "ctcvr"], "ESM2": ["ctr", "ctavr", "ctcvr"], "ESCM2": ["ctr", "ctcvr"]}

#: Sorted output names of the builders whose outputs are not their tasks.
OUTPUTS = {
    "ESMM": ["ctcvr", "ctr", "cvr"],
    "ESCM2": ["ctcvr", "ctr", "cvr", "cvr_imputation"],
    "ESM2": ["ctavr", "ctcvr", "ctr", "cvr", "p_action", "p_buy_after_action", "p_buy_after_other"],
}

#: Arguments a builder needs to train on several replicas: MetaLearningStep
#: runs on one replica only (it refuses tf.distribute strategies with several).
REPLICABLE = {"MetaHeac": dict(meta_learning=False)}


def _variant(name, base):
    """A builder named `name` for test ids: `base` with its VARIANTS arguments."""
    builder = getattr(keras_mtl.models, base)

    def variant(features, **kwargs):
        return builder(features, **{**VARIANTS[name][1], **kwargs})

    variant.__name__ = variant.__qualname__ = name
    variant.__doc__ = f"{base} with {VARIANTS[name][1]}."
    return variant


#: Every builder of keras_mtl.models.__all__, each followed by its variants.
BUILDERS = []
for _name in keras_mtl.models.__all__:
    BUILDERS.append(getattr(keras_mtl.models, _name))
    BUILDERS += [_variant(v, _name) for v, (base, _) in VARIANTS.items() if base == _name]


def base_name(builder):
    """The keras_mtl.models name of a builder of BUILDERS (a variant's builder)."""
    return VARIANTS.get(builder.__name__, (builder.__name__,))[0]


def build(builder, feats, **options):
    """A tiny model of a builder of BUILDERS, and the label columns it trains on.

    `options` go to the builder over its TINY (and VARIANTS) arguments.
    """
    name = base_name(builder)
    if name not in TINY:
        raise KeyError(
            f"keras_mtl.models.{name} has no tiny test case: add one line to TINY in "
            "tests/models/builder_cases.py"
        )
    kwargs = {**TINY[name], **VARIANTS.get(builder.__name__, (name, {}))[1], **options}
    labels = list(TRAINED.get(name, ["ctr", "cvr"]))
    return getattr(keras_mtl.models, name)(feats, **kwargs), labels


def build_replicable(builder, feats):
    """`build` with the REPLICABLE arguments (MetaHeac with its plain step)."""
    return build(builder, feats, **REPLICABLE.get(base_name(builder), {}))
