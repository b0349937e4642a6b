"""MetaLearningStep on a one-parameter toy, checked by hand against a plain step."""

import types

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.training import MetaLearningStep
from keras_mtl.training import TrainingProcedure

# Four rows: the first two are the support set, the last two the query set.
X = np.array([[1.0], [2.0], [-1.0], [0.5]], "float32")
Y_A = np.array([2.0, 3.0, -1.0, 1.0], "float32")
Y_B = np.array([1.0, 5.0, -3.0, 0.0], "float32")
W0, SCALE_B, INNER, OUTER = 0.5, 2.0, 0.1, 0.05


def toy(procedure):
    """One shared weight w: a = w·x, b = 2·w·x (fixed head), both regression."""
    x = tf.keras.Input(shape=(1,), name="x")
    shared = tf.keras.layers.Dense(
        1, use_bias=False, name="shared", kernel_initializer=tf.keras.initializers.Constant(W0)
    )(x)
    a = tf.keras.layers.Dense(
        1, use_bias=False, trainable=False, name="a", kernel_initializer="ones"
    )(shared)
    b = tf.keras.layers.Dense(
        1,
        use_bias=False,
        trainable=False,
        name="b",
        kernel_initializer=tf.keras.initializers.Constant(SCALE_B),
    )(shared)
    return keras_mtl.MultiTaskModel(
        {"x": x},
        {"a": a, "b": b},
        task_types={"a": "regression", "b": "regression"},
        shared_layer="shared",
        training_procedure=procedure,
    )


def dataset():
    return tf.data.Dataset.from_tensor_slices(({"x": X}, {"a": Y_A, "b": Y_B})).batch(4)


def grad(w, rows, y, scale):
    """d/dw mean_rows (scale·w·x − y)²."""
    x = X[rows, 0]
    return np.mean(2 * (scale * w * x - y[rows]) * scale * x)


def loss(w, rows, y, scale):
    return np.mean((scale * w * X[rows, 0] - y[rows]) ** 2)


def by_hand(weights):
    support, query = [0, 1], [2, 3]
    meta, query_losses = 0.0, {}
    for task, y, scale in (("a", Y_A, 1.0), ("b", Y_B, SCALE_B)):
        adapted = W0 - INNER * grad(W0, support, y, scale)  # w'_t
        meta += weights[task] * grad(adapted, query, y, scale)  # first order
        query_losses[task] = loss(adapted, query, y, scale)
    everything = [0, 1, 2, 3]
    plain = sum(
        weights[t] * grad(W0, everything, y, s)
        for t, y, s in (("a", Y_A, 1.0), ("b", Y_B, SCALE_B))
    )
    return W0 - OUTER * meta, W0 - OUTER * plain, query_losses


@pytest.mark.parametrize("weights", [{"a": 1.0, "b": 1.0}, {"a": 2.0, "b": 0.5}])
def test_meta_step_updates_shared_weight_as_computed_by_hand(weights):
    meta_w, plain_w, query_losses = by_hand(weights)
    assert abs(meta_w - plain_w) > 1e-2  # the two steps really differ here
    results = {}
    for procedure in (MetaLearningStep(inner_learning_rate=INNER), None):
        model = toy(procedure)
        model.compile(optimizer=tf.keras.optimizers.SGD(OUTER), loss_weights=weights)
        history = model.fit(dataset(), epochs=1, verbose=0).history
        results[procedure is None] = (
            float(model.get_layer("shared").get_weights()[0].item()),
            history,
        )
    (meta, history), (plain, _) = results[False], results[True]
    assert meta == pytest.approx(meta_w, rel=1e-5)
    assert plain == pytest.approx(plain_w, rel=1e-5)
    for task in "ab":  # logged: query losses at the adapted weight
        assert history[f"{task}_loss"][0] == pytest.approx(query_losses[task], rel=1e-5)
    assert history["loss"][0] == pytest.approx(
        sum(weights[t] * query_losses[t] for t in "ab"), rel=1e-5
    )


def test_meta_step_leaves_no_adapted_weight_behind_and_saves(tmp_path):
    model = toy(MetaLearningStep(inner_learning_rate=INNER, support_fraction=0.25))
    model.compile(optimizer=tf.keras.optimizers.SGD(0.0))
    model.fit(dataset(), epochs=1, verbose=0)
    assert float(model.get_layer("shared").get_weights()[0].item()) == pytest.approx(W0)
    path = str(tmp_path / "toy.keras")
    model.save(path)
    procedure = tf.keras.models.load_model(path).training_procedure
    assert isinstance(procedure, MetaLearningStep)
    assert (procedure.inner_learning_rate, procedure.support_fraction) == (INNER, 0.25)


def test_meta_step_refuses_what_it_cannot_run():
    model = toy(MetaLearningStep())
    with pytest.raises(ValueError, match="shared representation that MGDA needs"):
        model.compile(weighting=keras_mtl.weighting.MGDA())
    mirrored = types.SimpleNamespace(
        distribute_strategy=types.SimpleNamespace(num_replicas_in_sync=2)
    )
    with pytest.raises(ValueError, match="runs on one replica.*2 replicas"):
        MetaLearningStep().check(mirrored, keras_mtl.weighting.FixedWeights())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"inner_learning_rate": 0}, "inner_learning_rate=0"),
        ({"support_fraction": 1.0}, "support_fraction=1.0"),
    ],
)
def test_meta_step_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MetaLearningStep(**kwargs)


def test_model_rejects_what_is_not_a_procedure():
    with pytest.raises(TypeError, match="TrainingProcedure"):
        toy("maml")
    with pytest.raises(NotImplementedError, match="train_step"):
        TrainingProcedure().train_step(None, None)
