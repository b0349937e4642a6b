"""Every strategy with the builders: trains, moves its weights, saves, exports.

A gradient strategy (GradNorm, MGDA, PCGrad) differentiates at each builder's
shared representation or variables, so it runs with every builder of
keras_mtl.models (builder_cases' variants change gates or connections, not
what a builder declares shared: they train in tests/models/test_builders.py).
A loss-only strategy (FixedWeights, UncertaintyWeighting, DWA) sees only the
per-task losses: it runs once per kind of loss dict, with MMoE (ctr and cvr)
and each builder that trains on other labels (`TRAINED`) or its own training
procedure (`REPLICABLE`); FixedWeights, the default, trains every builder and
variant in tests/models/test_builders.py.

The pairs train eagerly, one step of all 64 rows an epoch, three epochs (DWA's
weights move from the third): the same arithmetic at a fraction of the time of
tracing each pair's step. The traced step trains every strategy
with MMoE below (and on two workers in tests/training/test_multi_worker.py),
and every builder and variant in tests/models/test_builders.py.
"""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl import weighting
from tests.models import builder_cases
from tests.weighting import strategy_cases


def _refusal(model, name):
    """What compile's error names when it refuses this pair, else None:
    MetaLearningStep (MetaHeac's) gives strategies per-task query gradients,
    not the shared representation some strategies differentiate at."""
    if (
        getattr(weighting, name).needs_representation
        and type(model.training_procedure).__name__ == "MetaLearningStep"
    ):
        return f"shared representation that {name} needs"
    return None


def test_every_strategy_has_a_case():
    missing = [name for name in strategy_cases.NAMES if name not in strategy_cases.TINY]
    assert not missing, (
        f"keras_mtl.weighting {missing} have no test case: add one line each to TINY in "
        "tests/weighting/strategy_cases.py"
    )
    assert sorted(strategy_cases.TINY) == sorted(strategy_cases.NAMES)
    assert "WeightingStrategy" not in strategy_cases.NAMES


@pytest.fixture(scope="module")
def data():
    df = builder_cases.frame()
    return df, builder_cases.features(df)


#: The builders whose per-task losses a loss-only strategy sees in another
#: form than MMoE's: other labels, or their own training procedure.
LOSS_LAYOUTS = ["MMoE", *builder_cases.TRAINED, *builder_cases.REPLICABLE]
PAIRS = [
    pytest.param(builder, strategy, id=f"{builder.__name__}-{strategy}")
    for builder in builder_cases.BUILDERS
    if builder.__name__ not in builder_cases.VARIANTS
    for strategy in strategy_cases.NAMES
    if not strategy_cases.loss_only(strategy) or builder.__name__ in LOSS_LAYOUTS
]


def test_the_pairs_cover_every_builder_and_strategy():
    builders = {builder.__name__ for builder, _ in (p.values for p in PAIRS)}
    strategies = {strategy for _, strategy in (p.values for p in PAIRS)}
    assert builders == set(keras_mtl.models.__all__)
    assert strategies == set(strategy_cases.NAMES)
    for name in keras_mtl.models.__all__:  # every gradient strategy with every builder
        ran = {strategy for b, strategy in (p.values for p in PAIRS) if b.__name__ == name}
        assert {s for s in strategy_cases.NAMES if not strategy_cases.loss_only(s)} <= ran
    assert set(LOSS_LAYOUTS) <= builders


@pytest.mark.parametrize("builder,strategy", PAIRS)
def test_strategy_trains_every_builder(builder, strategy, data):
    df, feats = data
    model, labels = builder_cases.build(builder, feats)
    refusal = _refusal(model, strategy)
    if refusal:
        with pytest.raises(ValueError, match=refusal):
            model.compile(weighting=strategy_cases.make(strategy))
        return
    model.compile(
        optimizer=tf.keras.optimizers.Adam(0.01),
        weighting=strategy_cases.make(strategy),
        run_eagerly=True,
    )
    ds = keras_mtl.data.df_to_dataset(df, feats, labels, batch_size=builder_cases.ROWS)
    history = model.fit(ds, epochs=3, verbose=0).history
    for task in labels:
        assert np.all(np.isfinite(history[f"{task}_loss"]))
        weights = history[f"weight_{task}"]
        assert np.all(np.isfinite(weights)) and min(weights) > 0
    first = [history[f"weight_{t}"][0] for t in labels]
    last = [history[f"weight_{t}"][-1] for t in labels]
    if strategy_cases.case(strategy).moves:
        assert not np.allclose(first, last)
    else:
        assert first == last == [1.0] * len(labels)


@pytest.mark.parametrize("strategy", strategy_cases.NAMES)
def test_strategy_state_saves_but_stays_out_of_serving(strategy, data, tmp_path):
    df, feats = data
    model, labels = builder_cases.build(keras_mtl.MMoE, feats)
    model.compile(optimizer="adam", weighting=strategy_cases.make(strategy))
    ds = keras_mtl.data.df_to_dataset(df, feats, labels, batch_size=16)
    model.fit(ds, epochs=2, verbose=0)
    assert not any(v is w for v in model.weights for w in model.weighting.weights)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    assert type(loaded.weighting) is getattr(weighting, strategy)
    for saved, restored in zip(model.weighting.weights, loaded.weighting.weights):
        np.testing.assert_allclose(saved.numpy(), restored.numpy())
    inputs = keras_mtl.data.features_to_arrays(df.head(8), feats)
    expected = model.predict(inputs, verbose=0)
    export = keras_mtl.export.export_saved_model(model, str(tmp_path / "serving"))
    serving = tf.saved_model.load(export).signatures["serving_default"]
    assert sorted(serving.structured_input_signature[1]) == sorted(inputs)
    served = serving(**{k: tf.constant(v) for k, v in inputs.items()})
    assert sorted(served) == sorted(expected)
    for task in expected:
        np.testing.assert_allclose(served[task].numpy(), expected[task], atol=1e-5)


def test_optimizer_groups_train_shared_and_towers_separately(data):
    df, feats = data
    model, labels = builder_cases.build(keras_mtl.MMoE, feats)
    model.compile(
        optimizer={"shared": tf.keras.optimizers.SGD(0.0), "towers": tf.keras.optimizers.Adam(0.01)}
    )
    experts = model.get_layer("experts").kernels[0].numpy()
    stack = model.get_layer("embedding_tables_3")  # color's table among the others of width 3
    embedding = stack.embeddings.numpy()
    tower = model.get_layer("tower_ctr").get_weights()[0]
    gate = model.get_layer("gate_ctr").get_weights()[0]
    model.fit(keras_mtl.data.df_to_dataset(df, feats, labels, batch_size=16), epochs=1, verbose=0)
    np.testing.assert_array_equal(model.get_layer("experts").kernels[0].numpy(), experts)
    np.testing.assert_array_equal(stack.embeddings.numpy(), embedding)
    assert not np.allclose(model.get_layer("tower_ctr").get_weights()[0], tower)
    assert not np.allclose(model.get_layer("gate_ctr").get_weights()[0], gate)


def test_optimizer_groups_are_validated(data):
    model, _ = builder_cases.build(keras_mtl.MMoE, data[1])
    with pytest.raises(ValueError, match="optimizer groups"):
        model.compile(optimizer={"shared": "sgd", "tower": "adam"})
