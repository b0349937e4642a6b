"""MAMDR's Domain Negotiation and Domain Regularization against the formulas."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.layers import StarTopology
from keras_mtl.training import MAMDR
from tests.models import builder_cases

NUM_DOMAINS, DIM = 3, 2
ALPHA, BETA, GAMMA = 0.1, 0.5, 0.3


def _toy_model():
    """y = x·W + b + x·W_p + b_p: linear, shared (W, b) and per-domain (W_p, b_p)."""
    x = tf.keras.Input((DIM,), name="x")
    domain = tf.keras.Input((), dtype="int64", name="domain")
    star = StarTopology(NUM_DOMAINS, (1,), linear_output=True, combine="add", name="y")
    model = keras_mtl.MultiTaskModel(
        {"x": x, "domain": domain}, {"y": star([x, domain])}, task_types={"y": "regression"}
    )
    model.compile(optimizer="sgd")  # MAMDR trains with the compiled losses
    return model


def _toy_batch():
    rng = np.random.default_rng(0)
    # domain 3 is unknown: its rows take no part in training
    domains = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3], "int64")
    x = rng.normal(size=(len(domains), DIM)).astype("float32")
    y = rng.normal(size=len(domains)).astype("float32")
    return {"x": x, "domain": domains}, {"y": y}


def _grad(shared, own, x, y):
    """MSE gradients of (W, b) = shared and (W_p, b_p) = own on rows (x, y)."""
    (w, b), (wp, bp) = shared, own
    error = x @ w + b + x @ wp + bp - y[:, None]  # (n, 1)
    g_w = 2.0 * x.T @ error / len(x)  # (DIM, 1)
    g_b = 2.0 * error.mean(axis=0)  # (1,)
    return (g_w, g_b), (g_w, g_b)  # ∂/∂(W, b) = ∂/∂(W_p, b_p) for this model


def _interpolate(start, tilde, rate):
    """The formulas' outer step θ ← θ + rate·(θ̃ − θ)."""
    return start + rate * (tilde - start)


def _first_adam_step(start, tilde, rate):
    """Adam's first step on G = (θ − θ̃)/α from θ: θ − rate·G/(|G| + ε̂).

    m = (1 − β₁)G, v = (1 − β₂)G², the rate bias-corrected by √(1 − β₂)/(1 − β₁),
    so ε̂ = ε/√(1 − β₂) (Keras' defaults β₂ = 0.999, ε = 1e-7).
    """
    g = (start - tilde) / ALPHA
    return start - rate * g / (np.abs(g) + 1e-7 / np.sqrt(1 - 0.999))


def _expected(weights, batch, schedule, domain_step=True, outer=_interpolate, shares=True):
    """The SPEC formulas with plain SGD inner steps, domain by domain, in NumPy."""
    w, b, wd, bd = (np.array(v, "float64") for v in weights)
    x, ids, y = batch[0]["x"].astype("float64"), batch[0]["domain"], batch[1]["y"]
    rows = {d: ids == d for d in range(NUM_DOMAINS)}
    # a step's rate is α times the share of the batch's known rows of the domain
    # whose variables it trains
    known = sum(mask.sum() for mask in rows.values())
    rate = {d: ALPHA * rows[d].sum() / known if shares else ALPHA for d in rows}
    # Domain Negotiation on θ = (W, b), and (W_p, b_p) when they are not
    # domain-specific (then every variable is shared)
    tw, tb, twd, tbd = w.copy(), b.copy(), wd.copy(), bd.copy()
    for d in schedule["negotiation"]:
        (gw, gb), (gwd, gbd) = _grad((tw, tb), (twd[d], tbd[d]), x[rows[d]], y[rows[d]])
        tw, tb = tw - rate[d] * gw, tb - rate[d] * gb
        if not domain_step:
            twd[d], tbd[d] = twd[d] - rate[d] * gwd, tbd[d] - rate[d] * gbd
    w, b = outer(w, tw, BETA), outer(b, tb, BETA)
    if not domain_step:
        return [w, b, outer(wd, twd, BETA), outer(bd, tbd, BETA)]
    # Domain Regularization on θ_i = (W_i, b_i), other domains routed through i
    for i in sorted(schedule["regularization"]):
        tw, tb = wd[i].copy(), bd[i].copy()
        for j in schedule["regularization"][i] + [i]:
            _, (gw, gb) = _grad((w, b), (tw, tb), x[rows[j]], y[rows[j]])
            tw, tb = tw - rate[i] * gw, tb - rate[i] * gb  # at domain i's rate
        wd[i], bd[i] = outer(wd[i], tw, GAMMA), outer(bd[i], tb, GAMMA)
    return [w, b, wd, bd]


def _random_weights(model):
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    return model.get_weights()


def _toy_mamdr(**options):
    """`(model, its starting weights, MAMDR)`: the toy model with random
    weights, trained at rates α, β, γ unless `options` say otherwise."""
    model = _toy_model()
    weights = _random_weights(model)
    rates = dict(inner_lr=ALPHA, outer_lr=BETA, regularization_lr=GAMMA)
    return model, weights, MAMDR(model, "domain", NUM_DOMAINS, **{**rates, **options})


def _assert_weights(model, expected):
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("num_sampled", [1, 2])
def test_one_step_equals_domain_negotiation_and_regularization(num_sampled):
    model, weights, mamdr = _toy_mamdr(
        num_sampled_domains=num_sampled, inner_optimizer="sgd", outer_optimizer="sgd", seed=3
    )
    assert [v.name.split("/")[-1].split(":")[0] for v in mamdr.domain_variables] == [
        "domain_kernel_0",
        "domain_bias_0",
    ]
    batch = _toy_batch()
    for _ in range(2):  # a second step starts from the first one's result
        logs = mamdr.train_step(batch)
        schedule = mamdr.last_schedule
        assert sorted(schedule["negotiation"]) == [0, 1, 2]
        for i, others in schedule["regularization"].items():
            assert len(others) == num_sampled and i not in others
        weights = _expected(weights, batch, schedule)
        _assert_weights(model, weights)
    assert set(logs) == {"loss", "y_loss", "regularization_loss"}


def test_adam_outer_step_applies_adam_to_the_negotiated_gradient():
    """Outer Adam: G = (θ − θ̃)/α through Adam (first step: θ − β·sign(G)), the
    DR steps of all domains in one Adam step from the same start."""
    model, weights, mamdr = _toy_mamdr(num_sampled_domains=1, seed=5)
    assert (mamdr.inner_optimizer, mamdr.outer_optimizer) == ("sgd", "adam")
    batch = _toy_batch()
    mamdr.train_step(batch)
    _assert_weights(model, _expected(weights, batch, mamdr.last_schedule, outer=_first_adam_step))


def test_epoch_rounds_pass_over_each_domain_in_batches_of_its_own_rows():
    """rounds="epoch": a pass over a domain is a pass over its rows (here one
    batch of them), every step at rate α."""
    model, weights, mamdr = _toy_mamdr(
        num_sampled_domains=2, inner_optimizer="sgd", outer_optimizer="sgd", rounds="epoch", seed=1
    )
    batch = _toy_batch()
    data = tf.data.Dataset.from_tensor_slices(batch).batch(4)  # mixed batches of 4 rows
    history = mamdr.fit(data, epochs=1, verbose=0, batch_size=8).history
    assert sorted(history) == ["loss", "regularization_loss", "y_loss"]
    _assert_weights(model, _expected(weights, batch, mamdr.last_schedule, shares=False))


def test_without_domain_variables_everything_is_negotiated():
    model, weights, mamdr = _toy_mamdr(
        inner_optimizer="sgd", outer_optimizer="sgd", domain_variables=[], seed=0
    )
    batch = _toy_batch()
    assert set(mamdr.train_step(batch)) == {"loss", "y_loss"}
    _assert_weights(model, _expected(weights, batch, mamdr.last_schedule, domain_step=False))


@pytest.fixture(scope="module")
def data():
    df = builder_cases.frame()
    feats = builder_cases.features(df)
    return df, feats, keras_mtl.data.features_to_arrays(df, feats)


def test_mamdr_fit_trains_star_which_then_saves_and_serves(data, tmp_path):
    df, feats, x = data
    model, labels = builder_cases.build(keras_mtl.STAR, feats)
    model.compile(optimizer="adam")
    pn = model.get_layer("partitioned_norm")
    before = pn.moving_mean.numpy().copy()
    ds = keras_mtl.data.df_to_dataset(df, feats, labels, batch_size=32)
    stop = tf.keras.callbacks.EarlyStopping(monitor="loss", patience=10)
    history = (
        MAMDR(model, "domain", num_domains=3, inner_lr=0.05, seed=0)
        .fit(ds, epochs=2, validation_data=ds, callbacks=[stop], verbose=0)
        .history
    )
    assert len(history["loss"]) == 2 and np.all(np.isfinite(history["loss"]))
    assert "regularization_loss" in history and "val_ctr_auc" in history
    assert not np.allclose(pn.moving_mean.numpy(), before)
    assert not np.allclose(model.get_layer("star_fcn").domain_kernels[0].numpy(), 1.0)
    expected = model.predict(x, verbose=0)
    path = str(tmp_path / "star.keras")
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    for task in labels:
        np.testing.assert_allclose(loaded.predict(x, verbose=0)[task], expected[task], atol=1e-6)
    export = keras_mtl.export.export_saved_model(model, str(tmp_path / "serving"))
    serving = tf.saved_model.load(export).signatures["serving_default"]
    served = serving(**{k: tf.constant(v) for k, v in x.items()})
    for task in labels:
        np.testing.assert_allclose(served[task].numpy(), expected[task], atol=1e-5)


def test_mamdr_trains_a_builder_without_domain_weights(data):
    df, feats, _ = data
    model, labels = builder_cases.build(keras_mtl.SharedBottom, feats)
    model.compile(optimizer="adam", loss_weights={"ctr": 1.0, "cvr": 0.5})
    mamdr = MAMDR(model, "domain", num_domains=3, seed=0)
    assert mamdr.domain_variables == []
    kernel = model.get_layer("shared_bottom").get_weights()[0].copy()
    balanced = keras_mtl.data.domain_balanced_dataset(
        df, feats, labels, "domain", num_domains=3, batch_size=8, seed=0
    )
    history = mamdr.fit(balanced, epochs=1, verbose=0).history
    assert sorted(history) == ["ctr_loss", "cvr_loss", "loss"]
    # the loss is the compiled one: Σ_k w_k L_k with the loss weights given
    logs = mamdr.train_step(next(iter(balanced)))
    np.testing.assert_allclose(logs["loss"], logs["ctr_loss"] + 0.5 * logs["cvr_loss"], rtol=1e-5)
    with pytest.raises(TypeError, match="df_to_dataset"):
        mamdr.fit(df)
    assert not np.allclose(model.get_layer("shared_bottom").get_weights()[0], kernel)


def test_mamdr_logs_one_line_per_epoch_on_datasets_of_known_and_unknown_length(data, capsys):
    # tf_keras' one-line-per-epoch logger needs the number of batches up front
    df, feats, _ = data
    model, labels = builder_cases.build(keras_mtl.SharedBottom, feats)
    model.compile(optimizer="adam")
    mamdr = MAMDR(model, "domain", num_domains=3, seed=0)
    known = keras_mtl.data.df_to_dataset(df, feats, labels, batch_size=32)
    unknown = known.filter(lambda x, y: tf.reduce_any(x["domain"] >= 0))
    assert int(known.cardinality()) == -(-len(df) // 32)
    assert int(unknown.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    for dataset in (known, unknown):
        history = mamdr.fit(dataset, epochs=2, verbose=2).history
        assert len(history["loss"]) == 2
        out = capsys.readouterr().out
        assert "Epoch 2/2" in out and out.count(" - loss:") >= 2, out
    with pytest.raises(ValueError, match="verbose=3"):
        mamdr.fit(known, verbose=3)


def test_mamdr_rejects_bad_arguments(data):
    model, _ = builder_cases.build(keras_mtl.STAR, data[1])
    with pytest.raises(ValueError, match="uncompiled model"):
        MAMDR(model, "domain", num_domains=3)
    model.compile(optimizer="adam", weighting=keras_mtl.weighting.PCGrad())
    with pytest.raises(ValueError, match="cannot train with PCGrad"):
        MAMDR(model, "domain", num_domains=3)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="domain_feature='country'.*Expected one of"):
        MAMDR(model, "country", num_domains=3)
    with pytest.raises(ValueError, match="outer_lr=0"):
        MAMDR(model, "domain", num_domains=3, outer_lr=0)
    with pytest.raises(ValueError, match="num_sampled_domains=-1"):
        MAMDR(model, "domain", num_domains=3, num_sampled_domains=-1)
    with pytest.raises(TypeError, match="MultiTaskModel"):
        MAMDR(tf.keras.Sequential([tf.keras.layers.Dense(1)]), "domain", num_domains=3)


def _two_domains(seed=0):
    """A seeded two-domain problem (1,500 and 300 rows), 70 / 30 train / validation."""
    df = keras_mtl.data.make_multi_domain(
        domain_sizes=(1500, 300), num_dense=4, num_items=20, seed=seed
    )
    valid = np.random.default_rng(seed).random(len(df)) < 0.3
    feats = [keras_mtl.DenseFeat(f"x{j}") for j in range(4)] + [
        keras_mtl.SparseFeat("item", vocabulary_size=20, embedding_dim=4),
        keras_mtl.SparseFeat("domain", vocabulary_size=2, embedding_dim=2),
    ]
    return df[~valid], df[valid], feats


@pytest.mark.parametrize("builder", ["SharedBottom", "STAR"])
def test_default_mamdr_does_not_fall_below_the_base_model(builder):
    """Same model, seed and batches: `model.fit` vs MAMDR with its defaults,
    validation AUC per domain (the defaults' claim, on a toy)."""
    train_df, valid_df, feats = _two_domains()
    aucs = {}
    for way in ("fit", "mamdr"):
        tf.keras.utils.set_random_seed(0)
        if builder == "STAR":
            model = keras_mtl.STAR(
                feats, task_names=("ctr",), star_units=(16,), tower_units=(8,), auxiliary_units=(4,)
            )
        else:
            model = keras_mtl.SharedBottom(
                feats, task_names=("ctr",), bottom_units=(16,), tower_units=(8,)
            )
        model.compile(optimizer=tf.keras.optimizers.Adam(1e-3))
        train = keras_mtl.data.df_to_dataset(
            train_df, feats, ["ctr"], batch_size=64, shuffle=True, seed=0
        )
        if way == "fit":
            model.fit(train, epochs=4, verbose=0)
        else:
            MAMDR(model, "domain", num_domains=2, seed=0).fit(train, epochs=4, verbose=0)
        valid = keras_mtl.data.df_to_dataset(valid_df, feats, ["ctr"], batch_size=512)
        aucs[way] = keras_mtl.evaluation.evaluate_by_domain(model, valid, "domain")["ctr_auc"]
    assert aucs["fit"]["all"] > 0.75  # both trained
    for domain in (0, 1, "all"):
        assert aucs["mamdr"][domain] >= aucs["fit"][domain] - 0.005, (domain, aucs)
