"""MirroredStrategy over two logical CPUs equals single-device training.

Every builder of keras_mtl.models trains on the two replicas too, each with one
weighting strategy (round robin, so each strategy runs on several builders):
finite losses, most variables moved, every variable's two replica copies
equal. Those runs step eagerly (`run_eagerly=True`: the replicas run the same
`train_step`, at about half the time of tracing it for two replicas); the
traced two-replica step trains the toy model with every strategy and the batch
normalisations below, and every builder's traced step runs on one device in
tests/models/test_builders.py. (builder_cases' variants change gates or
connections, no state a replica holds: they train on one device there.)
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

import keras_mtl
from tests.weighting import strategy_cases

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOSS_ONLY = [name for name in strategy_cases.NAMES if strategy_cases.loss_only(name)]
GRADIENT = [name for name in strategy_cases.NAMES if not strategy_cases.loss_only(name)]
#: builder name -> the weighting strategy it trains with on two replicas
RUNS = {
    name: strategy_cases.NAMES[i % len(strategy_cases.NAMES)]
    for i, name in enumerate(keras_mtl.models.__all__)
}

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras_mtl
    from tests.weighting import strategy_cases
    from tests.weighting import toy

    # labels unevenly missing: the first half of the batch (replica 0) has one
    # labelled row for task a, the second half all four
    y_a = toy.Y_A[:8].copy()
    y_a[[0, 1, 2]] = np.nan
    x = toy.X[:8]

    def data():
        return tf.data.Dataset.from_tensor_slices(
            ({"x": x}, {"a": y_a, "b": toy.Y_B[:8]})).batch(8)

    # one MirroredStrategy for the process: several would share collective keys
    MIRRORED = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

    def train(name, initial, distribute):
        scope = MIRRORED if distribute else tf.distribute.get_strategy()
        with scope.scope():
            model = toy.model(("binary", "regression"))
            model.set_weights(initial)
            model.compile(optimizer=tf.keras.optimizers.SGD(0.5),
                          weighting=strategy_cases.make(name))
        history = model.fit(data(), epochs=2, verbose=0).history
        state = [w.numpy().tolist() for w in model.weighting.weights]
        return [w.tolist() for w in model.get_weights()], history, state

    tf.keras.utils.set_random_seed(0)
    initial = toy.model(("binary", "regression")).get_weights()
    results = {"replicas": len(tf.config.list_logical_devices("CPU"))}
    for name in strategy_cases.NAMES:
        single = train(name, initial, False)
        mirrored = train(name, initial, True)
        results[name] = {"single": single, "mirrored": mirrored}
    # epoch losses over uneven batches (3, 3, 2 rows, split over the replicas)
    def evaluate(distribute):
        scope = MIRRORED if distribute else tf.distribute.get_strategy()
        with scope.scope():
            model = toy.model(("binary", "regression"))
            model.set_weights(initial)
            model.compile(optimizer="sgd", loss_weights={"a": 2.0, "b": 0.5})
        uneven = tf.data.Dataset.from_tensor_slices(
            ({"x": x}, {"a": y_a, "b": toy.Y_B[:8]})).batch(3)
        return model.evaluate(uneven, return_dict=True, verbose=0)

    results["evaluate"] = {"single": evaluate(False), "mirrored": evaluate(True)}

    # batch normalisation (HoME's experts, MLP(use_batch_norm=True)) takes the
    # global batch's statistics: after one step the moving variances equal one
    # device's (per-replica statistics would average the halves' variances)
    def batch_norm_state(distribute):
        scope = MIRRORED if distribute else tf.distribute.get_strategy()
        with scope.scope():
            tf.keras.utils.set_random_seed(0)
            inputs = tf.keras.Input((3,), name="x")
            h = keras_mtl.layers.NormalizedExperts(2, (3,), normalization="batch")(inputs)
            h = tf.keras.layers.Flatten()(h)
            h = keras_mtl.layers.MLP((4,), use_batch_norm=True)(h)
            model = tf.keras.Model(inputs, tf.keras.layers.Dense(1)(h))
            model.compile(optimizer=tf.keras.optimizers.SGD(0.0), loss="mse")
        features = np.concatenate([x[:4] * 0.1, x[4:] * 3.0 + 1.0])  # halves differ
        model.fit(features, toy.Y_B[:8], batch_size=8, epochs=1, verbose=0)
        return [w.numpy().tolist() for w in model.non_trainable_weights]

    results["batch_norm"] = {"single": batch_norm_state(False),
                             "mirrored": batch_norm_state(True)}
    # every builder on two replicas with its strategy of RUNS (argv[2]; MetaHeac
    # with its plain step: MetaLearningStep refuses several replicas), stepping
    # eagerly: two steps of 16 rows per replica
    from tests.models import builder_cases

    df = builder_cases.frame()
    feats = builder_cases.features(df)
    for key, name in json.loads(sys.argv[2]).items():
        tf.keras.utils.set_random_seed(0)
        with MIRRORED.scope():
            model, labels = builder_cases.build_replicable(getattr(keras_mtl.models, key), feats)
            model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
                          weighting=strategy_cases.make(name), run_eagerly=True)
        before = [w.copy() for w in model.get_weights()]
        ds = keras_mtl.data.df_to_dataset(df, feats, labels, batch_size=32)
        history = model.fit(ds, epochs=1, verbose=0).history
        changed = sum(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
        unequal = []
        for variable in model.variables:
            copies = [c.numpy() for c in MIRRORED.experimental_local_results(
                keras_mtl.keras_compat.tf_variable(variable))]
            if len(copies) != 2 or not all(np.array_equal(copies[0], c) for c in copies):
                unequal.append(variable.path if hasattr(variable, "path") else variable.name)
        results["builder:" + key] = {"loss": history["loss"], "changed": changed,
                                     "weights": len(before), "unequal": unequal}
    # the single-replica procedures refuse a mirrored model with a clear error
    refusals = {}
    with MIRRORED.scope():
        star, _ = builder_cases.build(keras_mtl.STAR, feats)
        meta, labels = builder_cases.build(keras_mtl.MetaHeac, feats)
        try:
            meta.compile(optimizer="adam")
            meta.fit(keras_mtl.data.df_to_dataset(df, feats, labels, batch_size=32), verbose=0)
        except ValueError as error:
            refusals["MetaHeac"] = str(error)
    try:
        keras_mtl.training.MAMDR(star, "domain", num_domains=3)
    except ValueError as error:
        refusals["MAMDR"] = str(error)
    results["refusals"] = refusals
    json.dump(results, open(sys.argv[1], "w"))
    """
)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("distributed")
    script, out = folder / "run.py", folder / "out.json"
    script.write_text(SCRIPT)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    run = subprocess.run(
        [sys.executable, str(script), str(out), json.dumps(RUNS)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=1200,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(out.read_text())


def _close(a, b, tol):
    import numpy as np

    for x, y in zip(a, b):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)


def test_uneven_batches_report_the_same_epoch_losses_as_one_device(results):
    single, mirrored = results["evaluate"]["single"], results["evaluate"]["mirrored"]
    for key in ("loss", "a_loss", "b_loss", "b_mse"):
        assert mirrored[key] == pytest.approx(single[key], rel=1e-5), key


@pytest.mark.parametrize("name", LOSS_ONLY)
def test_loss_only_strategies_match_single_device_exactly(results, name):
    """Global-batch loss scaling: uneven label counts per replica change nothing."""
    assert results["replicas"] == 2
    single, mirrored = results[name]["single"], results[name]["mirrored"]
    _close(single[0], mirrored[0], 1e-5)  # model weights after two steps
    _close(single[2], mirrored[2], 1e-5)  # strategy state
    for key in ("loss", "a_loss", "b_loss", "weight_a", "weight_b"):
        _close(single[1][key], mirrored[1][key], 1e-5)


@pytest.mark.parametrize("name", GRADIENT)
def test_gradient_strategies_train_under_mirrored_strategy(results, name):
    import numpy as np

    single, mirrored = results[name]["single"], results[name]["mirrored"]
    for key in ("loss", "weight_a", "weight_b"):
        assert np.all(np.isfinite(mirrored[1][key]))
    # the first step's losses are computed before any update: identical
    _close([single[1]["a_loss"][0]], [mirrored[1]["a_loss"][0]], 1e-5)


def test_batch_normalisation_uses_the_global_batch_on_two_replicas(results):
    single, mirrored = results["batch_norm"]["single"], results["batch_norm"]["mirrored"]
    assert len(single) == 4  # moving mean and variance of both normalisations
    _close(single, mirrored, 1e-5)


@pytest.mark.parametrize("name", list(RUNS))
def test_every_builder_trains_on_two_replicas(results, name):
    import numpy as np

    run = results["builder:" + name]
    assert len(run["loss"]) == 1 and np.all(np.isfinite(run["loss"])), (name, RUNS[name], run)
    # most variables move (some, e.g. an unseen domain's, need not)
    assert run["changed"] >= run["weights"] // 2, (name, run)
    assert run["unequal"] == [], (name, run["unequal"])  # replicas hold one model


def test_every_builder_and_strategy_ran_on_two_replicas(results):
    ran = [k[len("builder:") :] for k in results if k.startswith("builder:")]
    assert ran == list(keras_mtl.models.__all__)
    assert set(RUNS.values()) == set(strategy_cases.NAMES)


def test_single_replica_procedures_refuse_mirrored_models_clearly(results):
    refusals = results["refusals"]
    assert "MAMDR runs on one replica" in refusals["MAMDR"] and "2 replicas" in refusals["MAMDR"]
    assert "MetaLearningStep runs on one replica" in refusals["MetaHeac"]
    assert "2 replicas" in refusals["MetaHeac"]
