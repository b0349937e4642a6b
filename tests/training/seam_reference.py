"""Seeded training runs whose numbers must not change when the training code is reorganised.

`python -m tests.training.seam_reference OUT.json` records them (run once per
Keras version, on the commit before a refactoring); `test_seam_regression`
runs them again and compares. Only public API is used, so the same script
runs on the old and the new code.
"""

import json
import os
import sys

import numpy as np
import pandas as pd
import tensorflow as tf

import keras_mtl

LEGACY_KERAS = tf.keras.__name__.startswith("tf_keras")
FLAVOUR = "tf_keras" if LEGACY_KERAS else "keras3"


def _frame(rows=64, seed=0):
    rng = np.random.RandomState(seed)
    df = pd.DataFrame(
        {
            "color": np.array(["red", "green", "blue"])[rng.randint(0, 3, rows)],
            "item": rng.randint(0, 10, rows).astype("int64"),
            "price": rng.lognormal(size=rows).astype("float32"),
        }
    )
    score = (df["color"] == "red") * 1.5 + df["price"] * 0.3 - 1.0
    df["ctr"] = (score + rng.normal(size=rows) > 0).astype("float32")
    df["cvr"] = (score + rng.normal(size=rows) > 0.5).astype("float32")
    df.loc[::7, "cvr"] = np.nan  # masked labels
    return df


def _features(df):
    return keras_mtl.features.adapt(
        [
            keras_mtl.SparseFeat("color", embedding_dim=3),
            keras_mtl.SparseFeat("item", vocabulary_size=10, embedding_dim=3),
            keras_mtl.DenseFeat("price", log1p=True, normalize=True),
        ],
        df,
    )


def _builder_case(builder, compile_kwargs, epochs=3, **kwargs):
    tf.keras.utils.set_random_seed(0)
    df = _frame()
    feats = _features(df)
    model = builder(feats, task_names=("ctr", "cvr"), tower_units=(4,), **kwargs)
    model.compile(**compile_kwargs())
    data = keras_mtl.data.df_to_dataset(df, feats, ["ctr", "cvr"], batch_size=16)
    history = model.fit(data, epochs=epochs, verbose=0).history
    scores = model.evaluate(data, return_dict=True, verbose=0)
    x = keras_mtl.data.df_to_dataset(df.iloc[:8], feats, batch_size=8)
    predictions = model.predict(x, verbose=0)
    return {
        "history": {k: [float(v) for v in values] for k, values in sorted(history.items())},
        "evaluate": {k: float(v) for k, v in sorted(scores.items())},
        "predictions": {k: np.asarray(v).ravel().tolist() for k, v in sorted(predictions.items())},
        "weights_sq": [float(np.sum(np.square(w))) for w in model.get_weights()],
    }


def _mixture(**kwargs):
    return dict(num_experts=3, expert_units=(8,), **kwargs)


def _experts(**kwargs):
    return dict(num_specific_experts=2, num_shared_experts=1, expert_units=(8,), **kwargs)


def _tfrs_case(weighting):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
    import tfrs_ranking_retrieval as example

    tf.keras.utils.set_random_seed(0)
    columns, _, _ = example.synthetic_interactions(512, 30, 20, seed=0)
    names = ("user_id", "item_id", "click", "rating")
    data = tf.data.Dataset.from_tensor_slices({n: columns[n] for n in names}).batch(128)
    model = example.RankingRetrievalModel(30, 20, embedding_dim=4, num_experts=2)
    model.compile(optimizer=_adam(), weighting=example.STRATEGIES[weighting]())
    history = model.fit(data, epochs=2, verbose=0).history
    return {
        "history": {k: [float(v) for v in values] for k, values in sorted(history.items())},
        "weights_sq": [float(np.sum(np.square(w))) for w in model.get_weights()],
    }


def _adam():
    """Adam(0.01) for every variable, the embedding tables' dense updates included.

    The recorded numbers predate the "embeddings" optimizer group (whose
    default for Adam is LazyAdam); where the group exists, the same Adam is
    named for it, which is the old behaviour.
    """
    adam = tf.keras.optimizers.Adam(0.01)
    if hasattr(keras_mtl.training, "OptimizerGroups"):
        return {"embeddings": adam, "towers": adam}
    return adam


def cases():
    """`{name: function returning the run's numbers}` for this Keras version."""
    w = keras_mtl.weighting
    out = {
        "mmoe_fixed": lambda: _builder_case(
            keras_mtl.MMoE,
            lambda: dict(optimizer=_adam(), loss_weights={"ctr": 1.0, "cvr": 0.5}),
            **_mixture(),
        ),
        "mmoe_gradnorm": lambda: _builder_case(
            keras_mtl.MMoE, lambda: dict(optimizer=_adam(), weighting=w.GradNorm()), **_mixture()
        ),
        "mmoe_groups_mgda": lambda: _builder_case(
            keras_mtl.MMoE,
            lambda: dict(
                optimizer={
                    "shared": tf.keras.optimizers.SGD(0.05),
                    "towers": tf.keras.optimizers.Adam(0.01),
                },
                weighting=w.MGDA(),
            ),
            **_mixture(),
        ),
        "ple_pcgrad": lambda: _builder_case(
            keras_mtl.PLE, lambda: dict(optimizer=_adam(), weighting=w.PCGrad(seed=1)), **_experts()
        ),
        "mmoe_uncertainty": lambda: _builder_case(
            keras_mtl.MMoE,
            lambda: dict(optimizer=_adam(), weighting=w.UncertaintyWeighting()),
            **_mixture(),
        ),
        "ple_dwa_l2": lambda: _builder_case(
            keras_mtl.PLE,
            lambda: dict(optimizer=_adam(), weighting=w.DWA()),
            **_experts(l2_reg=1e-3),
        ),
    }
    if LEGACY_KERAS:
        out["tfrs_uw"] = lambda: _tfrs_case("uw")
        out["tfrs_pcgrad"] = lambda: _tfrs_case("pcgrad")
    return out


def record(path):
    results = {}
    if os.path.exists(path):
        with open(path) as f:
            results = json.load(f)
    results[FLAVOUR] = {name: run() for name, run in cases().items()}
    with open(path, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    record(sys.argv[1])
