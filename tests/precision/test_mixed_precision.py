"""Every builder, the gradient-based strategies, loss scaling and export under
the mixed precision policies (`mixed_bfloat16`, `mixed_float16`).

Variables stay float32; the model's outputs, the per-task losses and the
logged weights are float32; under `mixed_float16` one loss scale covers the
whole step (`keras_mtl.training.loss_scaling`). The global policy is restored
after every test.
"""

import numpy as np
import onnxruntime
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.export import precision
from keras_mtl.training import loss_scaling
from tests.export import feature_options
from tests.models import builder_cases
from tests.weighting import strategy_cases

POLICIES = ("mixed_bfloat16", "mixed_float16")
#: Every builder, and of builder_cases' variants the DSelect-k gate (its own
#: arithmetic); the other variants rewire layers whose dtypes are tested here.
BUILDERS = [
    b
    for b in builder_cases.BUILDERS
    if b.__name__ not in builder_cases.VARIANTS or b.__name__ == "MMoE_dselect"
]
IDS = [b.__name__ for b in BUILDERS]


@pytest.fixture(scope="module")
def data():
    df = builder_cases.frame()
    return df, builder_cases.features(df)


@pytest.fixture
def policy(request):
    tf.keras.mixed_precision.set_global_policy(request.param)
    yield request.param
    tf.keras.mixed_precision.set_global_policy("float32")


def _fit(model, labels, data, eager=False, **compile_args):
    df, feats = data
    model.compile(
        **{"optimizer": tf.keras.optimizers.Adam(0.01), "run_eagerly": eager, **compile_args}
    )
    ds = keras_mtl.data.df_to_dataset(df, feats, labels, batch_size=32)  # two steps
    return model.fit(ds, epochs=1, verbose=0).history


def _check_trained(model, labels, history, data):
    for task in labels:
        assert np.isfinite(history[f"{task}_loss"][-1]), (task, history)
        assert np.isfinite(history[f"weight_{task}"][-1])
    assert {tf.as_dtype(v.dtype) for v in model.weights} <= {tf.float32, tf.int64, tf.int32}
    outputs = model(keras_mtl.data.features_to_arrays(data[0].head(8), data[1]))
    assert {k: v.dtype for k, v in outputs.items()} == {k: tf.float32 for k in outputs}
    assert all(np.all(np.isfinite(v.numpy())) for v in outputs.values())


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
@pytest.mark.parametrize("builder", BUILDERS, ids=IDS)
def test_builder_trains_two_steps(builder, policy, data):
    model, labels = builder_cases.build(builder, data[1])
    # eagerly: the same dtype rules at a fifth of the time; the graph step
    # (loss-scale skip in a tf.cond) is trained by the tests below
    history = _fit(model, labels, data, eager=True)
    _check_trained(model, labels, history, data)
    scaled = keras_mtl.keras_compat.is_loss_scale_optimizer(model.optimizer)
    assert scaled == (policy == "mixed_float16")  # Keras' compile wraps for float16 only


#: The strategies that differentiate per task (PCGrad, GradNorm, MGDA).
GRADIENT_STRATEGIES = [n for n in strategy_cases.NAMES if not strategy_cases.loss_only(n)]


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
@pytest.mark.parametrize("name", GRADIENT_STRATEGIES)
def test_gradient_strategy_trains(name, policy, data):
    model, labels = builder_cases.build(keras_mtl.MMoE, data[1])
    history = _fit(model, labels, data, weighting=strategy_cases.make(name))
    _check_trained(model, labels, history, data)
    weights = np.array([history[f"weight_{t}"][-1] for t in labels])
    if name == "MGDA":
        np.testing.assert_allclose(weights.sum(), 1.0, rtol=1e-5)
    if name == "GradNorm":
        np.testing.assert_allclose(weights.sum(), len(labels), rtol=1e-5)


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_scaled_update_matches_float32(policy, data):
    """One SGD step under mixed_float16 moves the weights as float32 does.

    Without unscaling, the update would be 32768 times (the initial scale)
    too small on Keras 3 (its LossScaleOptimizer divides again) or too large.
    """
    df, feats = data
    mixed, labels = builder_cases.build(keras_mtl.SharedBottom, feats)
    tf.keras.mixed_precision.set_global_policy("float32")
    plain, _ = builder_cases.build(keras_mtl.SharedBottom, feats)
    plain.set_weights(mixed.get_weights())
    before = [w.copy() for w in mixed.get_weights()]
    ds = keras_mtl.data.df_to_dataset(df, feats, labels, batch_size=64)  # one step
    moved = []
    for model in (mixed, plain):
        model.compile(optimizer=tf.keras.optimizers.SGD(0.5))
        model.fit(ds, epochs=1, verbose=0)
        moved.append(np.concatenate([(a - b).ravel() for a, b in zip(model.get_weights(), before)]))
    scale = np.abs(moved[1]).max()
    assert scale > 1e-4
    np.testing.assert_allclose(moved[0], moved[1], atol=0.05 * scale)


def test_scaled_tape_returns_true_gradients():
    x = tf.Variable([1.0, -2.0, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        loss = tf.reduce_sum(tf.cast(tf.cast(x, tf.float16) ** 2, tf.float32))
        other = 3.0 * tf.reduce_sum(x)
    scaled = loss_scaling.ScaledTape(tape, tf.constant(1024.0))
    np.testing.assert_allclose(scaled.gradient(loss, x).numpy(), [2.0, -4.0, 6.0])
    both = scaled.gradient(
        [loss, other], [x], output_gradients=[tf.constant(0.5), tf.constant(2.0)]
    )
    np.testing.assert_allclose(both[0].numpy(), [7.0, 4.0, 9.0])  # 0.5·2x + 2·3


def test_loss_scale_skips_non_finite_steps_in_every_group_and_grows():
    towers = tf.keras.mixed_precision.LossScaleOptimizer(
        tf.keras.optimizers.SGD(1.0), initial_scale=8.0, dynamic_growth_steps=2
    )
    shared = tf.keras.mixed_precision.LossScaleOptimizer(tf.keras.optimizers.SGD(1.0))
    a, b = tf.Variable([1.0]), tf.Variable([2.0])
    towers.build([a])
    shared.build([b])
    scale = loss_scaling.LossScale.of([towers, shared, tf.keras.optimizers.SGD()])
    assert scale.optimizers == [towers, shared]

    def step(ga, gb):
        def apply():
            loss_scaling.unwrapped(towers).apply_gradients([(tf.constant([ga]), a)])
            loss_scaling.unwrapped(shared).apply_gradients([(tf.constant([gb]), b)])

        return bool(scale.apply(apply, [tf.constant([ga]), tf.constant([gb])]))

    assert not step(1.0, np.inf)  # one group overflows: neither applies, S halves
    assert (a.numpy()[0], b.numpy()[0], float(scale.value())) == (1.0, 2.0, 4.0)
    assert step(1.0, 1.0) and step(1.0, 1.0)  # two finite steps: S doubles
    assert (a.numpy()[0], b.numpy()[0], float(scale.value())) == (-1.0, 0.0, 8.0)
    for optimizer in (towers, shared):  # every wrapped group holds the same S
        s, _, _ = keras_mtl.keras_compat.loss_scale_state(optimizer)
        assert float(tf.convert_to_tensor(s)) == 8.0


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
def test_optimizer_groups_train(policy, data):
    model, labels = builder_cases.build(keras_mtl.MMoE, data[1])
    optimizer = {
        "embeddings": tf.keras.optimizers.SGD(0.1),
        "shared": tf.keras.optimizers.Adam(0.01),
        "towers": tf.keras.optimizers.Adam(0.01),
    }
    history = _fit(model, labels, data, optimizer=optimizer)
    _check_trained(model, labels, history, data)
    for optimizer in [o for o, _ in model.training_state.optimizer_groups.distinct()]:
        assert int(optimizer.iterations) == 2  # every group stepped twice


@pytest.mark.parametrize("policy", ["mixed_bfloat16"], indirect=True)
def test_mamdr_trains(policy, data):
    df, feats = data
    model, labels = builder_cases.build(keras_mtl.STAR, feats)
    model.compile(optimizer="adam")
    ds = keras_mtl.data.df_to_dataset(df, feats, labels, batch_size=64)
    history = keras_mtl.training.MAMDR(model, "domain", num_domains=3, seed=0).fit(
        ds, epochs=1, verbose=0
    )
    assert all(np.isfinite(history.history[f"{t}_loss"][-1]) for t in labels)
    assert {tf.as_dtype(v.dtype) for v in model.weights} <= {tf.float32, tf.int64, tf.int32}


@pytest.mark.parametrize("policy", ["mixed_bfloat16"], indirect=True)
def test_export_serves_float32(policy, data, tmp_path):
    """SavedModel and ONNX take the raw inputs and return float32 (ONNX from
    the float32 twin), within `MIXED_ATOL` of the bfloat16 Keras model."""
    df, feats = data
    model, labels = builder_cases.build(keras_mtl.MMoE, feats)
    _fit(model, labels, (df, feats))
    rows = keras_mtl.data.features_to_arrays(df.head(16), feats)
    expected = {k: v.numpy() for k, v in model(rows).items()}
    path = keras_mtl.export.export_saved_model(model, str(tmp_path / "sm"), examples=rows)
    served = tf.saved_model.load(path).signatures["serving_default"](
        **{k: tf.constant(v) for k, v in rows.items()}
    )
    limit = precision.MIXED_ATOL  # the SavedModel computes in bfloat16 too
    for task, value in expected.items():
        assert served[task].dtype == tf.float32
        np.testing.assert_allclose(served[task].numpy(), value, atol=limit)
    result = keras_mtl.export.export_onnx(model, str(tmp_path / "m.onnx"), examples=rows)
    assert 0 < max(result.max_abs_diff.values()) < limit
    twin = precision.float32_twin(model)
    assert not precision.is_mixed(twin)
    for task, value in twin(rows).items():
        assert value.dtype == tf.float32
        np.testing.assert_allclose(value.numpy(), expected[task], atol=limit)


@pytest.mark.parametrize("policy", ["mixed_bfloat16"], indirect=True)
@pytest.mark.parametrize("builder", BUILDERS, ids=IDS)
def test_onnx_of_every_builder_is_its_float32_twin(builder, policy, tmp_path):
    """Every feature option under mixed_bfloat16: ONNX (traced from the
    conversion twin, tables fed from the mixed model's float32 variables)
    computes what the model's float32 twin computes."""
    df = feature_options.frame()
    feats = feature_options.features(df)
    model = feature_options.moved(builder_cases.build(builder, feats)[0])
    rows = feature_options.arrays(df, feats)
    result = keras_mtl.export.export_onnx(model, str(tmp_path / "m.onnx"), examples=rows)
    assert max(result.max_abs_diff.values()) < precision.MIXED_ATOL
    session = onnxruntime.InferenceSession(result.path, result.session_options())
    names = [o.name for o in session.get_outputs()]
    served = dict(zip(names, session.run(names, feature_options.onnx_feed(rows))))
    tf.keras.mixed_precision.set_global_policy("float32")
    twin = precision.float32_twin(model)
    for task, value in twin.predict(rows, verbose=0).items():
        np.testing.assert_allclose(served[task].reshape(value.shape), value, atol=1e-5)
