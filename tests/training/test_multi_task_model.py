"""MultiTaskModel: losses, masking, weighting, metrics and updates by hand."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.layers import NumericTransform
from keras_mtl.layers import TaskHead

X = np.array([[1.0, 2.0], [0.5, -1.0], [-1.0, 0.0], [2.0, 1.0]], dtype="float32")
Y_A = np.array([1.0, 0.0, np.nan, 1.0], dtype="float32")  # binary, row 2 missing
Y_B = np.array([0.5, np.nan, 1.0, 2.0], dtype="float32")  # regression, row 1 missing
W_A, B_A = np.array([[0.5], [-0.25]], "float32"), np.array([0.1], "float32")
W_B, B_B = np.array([[1.0], [2.0]], "float32"), np.array([0.0], "float32")


def linear_model(regularizer=None):
    """x -> a = sigmoid(x·W_A + B_A) (binary), b = x·W_B + B_B (regression)."""
    x = tf.keras.Input(shape=(2,), name="x")
    h = NumericTransform(name="x_transform")(x)
    a = TaskHead("binary", kernel_regularizer=regularizer, name="a")
    b = TaskHead("regression", name="b")
    model = keras_mtl.MultiTaskModel(
        inputs={"x": x},
        outputs={"a": a(h), "b": b(h)},
        task_types={"a": "binary", "b": "regression"},
    )
    a.set_weights([W_A, B_A])
    b.set_weights([W_B, B_B])
    return model


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def by_hand():
    p = sigmoid(X @ W_A + B_A)[:, 0]
    v = (X @ W_B + B_B)[:, 0]
    ma, mb = ~np.isnan(Y_A), ~np.isnan(Y_B)
    bce = -(Y_A * np.log(p) + (1 - Y_A) * np.log(1 - p))
    loss_a = bce[ma].mean()
    loss_b = ((v - Y_B)[mb] ** 2).mean()
    grad_wa = ((p - Y_A)[ma, None] * X[ma]).mean(axis=0)
    grad_ba = (p - Y_A)[ma].mean()
    grad_wb = (2 * (v - Y_B)[mb, None] * X[mb]).mean(axis=0)
    grad_bb = (2 * (v - Y_B)[mb]).mean()
    return loss_a, loss_b, (grad_wa, grad_ba, grad_wb, grad_bb), v, mb


def dataset(y_a=Y_A, y_b=Y_B, sample_weight=None):
    elements = ({"x": X}, {"a": y_a, "b": y_b})
    if sample_weight is not None:
        elements += (sample_weight,)
    return tf.data.Dataset.from_tensor_slices(elements).batch(4)


def test_masked_losses_metrics_and_weighted_total_equal_hand_computation():
    model = linear_model()
    model.compile(optimizer="sgd", loss_weights={"a": 2.0, "b": 0.5})
    logs = model.evaluate(dataset(), return_dict=True, verbose=0)
    loss_a, loss_b, _, v, mb = by_hand()
    assert logs["a_loss"] == pytest.approx(loss_a, rel=1e-5)
    assert logs["b_loss"] == pytest.approx(loss_b, rel=1e-5)
    assert logs["loss"] == pytest.approx(2.0 * loss_a + 0.5 * loss_b, rel=1e-5)
    assert logs["a_logloss"] == pytest.approx(loss_a, rel=1e-4)
    assert logs["b_mse"] == pytest.approx(loss_b, rel=1e-5)
    assert logs["b_mae"] == pytest.approx(np.abs(v - Y_B)[mb].mean(), rel=1e-5)
    assert logs["weight_a"] == 2.0 and logs["weight_b"] == 0.5
    # rows 0, 1, 3 for task a: scores 0.5+(-0.5)+0.1, 0.25+0.25+0.1, 1-0.25+0.1
    # -> the negative (row 1) ranks between the positives: AUC = 0.5
    assert logs["a_auc"] == pytest.approx(0.5, abs=1e-3)


def test_one_sgd_step_equals_gradient_of_weighted_masked_loss():
    model = linear_model()
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss_weights={"a": 2.0, "b": 0.5})
    model.fit(dataset(), epochs=1, verbose=0)
    _, _, (g_wa, g_ba, g_wb, g_bb), _, _ = by_hand()
    a, b = model.get_layer("a"), model.get_layer("b")
    np.testing.assert_allclose(a.kernel.numpy()[:, 0], W_A[:, 0] - 0.1 * 2.0 * g_wa, atol=1e-6)
    np.testing.assert_allclose(a.bias.numpy(), B_A - 0.1 * 2.0 * g_ba, atol=1e-6)
    np.testing.assert_allclose(b.kernel.numpy()[:, 0], W_B[:, 0] - 0.1 * 0.5 * g_wb, atol=1e-5)
    np.testing.assert_allclose(b.bias.numpy(), B_B - 0.1 * 0.5 * g_bb, atol=1e-5)


def test_missing_labels_are_not_zeros():
    model = linear_model()
    model.compile(optimizer="sgd")
    masked = model.evaluate(dataset(), return_dict=True, verbose=0)
    zeros = model.evaluate(
        dataset(np.nan_to_num(Y_A), np.nan_to_num(Y_B)), return_dict=True, verbose=0
    )
    assert masked["a_loss"] != pytest.approx(zeros["a_loss"], rel=1e-3)
    assert masked["b_loss"] != pytest.approx(zeros["b_loss"], rel=1e-3)


def test_all_labels_missing_gives_zero_loss_not_nan():
    model = linear_model()
    model.compile(optimizer="sgd")
    nan = np.full(4, np.nan, "float32")
    logs = model.evaluate(dataset(y_a=nan), return_dict=True, verbose=0)
    assert logs["a_loss"] == 0.0
    assert np.isfinite(logs["loss"])
    model.fit(dataset(y_a=nan), epochs=1, verbose=0)
    assert np.all(np.isfinite(model.get_layer("a").kernel.numpy()))
    np.testing.assert_allclose(model.get_layer("a").kernel.numpy(), W_A)  # no gradient


def test_sample_weights_weigh_rows():
    model = linear_model()
    model.compile(optimizer="sgd")
    weights = np.array([1.0, 3.0, 1.0, 0.0], "float32")
    logs = model.evaluate(dataset(sample_weight=weights), return_dict=True, verbose=0)
    p = sigmoid(X @ W_A + B_A)[:, 0]
    bce = -(Y_A * np.log(p) + (1 - Y_A) * np.log(1 - p))
    keep = ~np.isnan(Y_A)
    expected = (bce[keep] * weights[keep]).sum() / weights[keep].sum()
    assert logs["a_loss"] == pytest.approx(expected, rel=1e-5)


def test_epoch_losses_are_over_rows_not_a_mean_of_batch_means():
    # batches of 3 and 1 rows: task a has 2 and 1 labelled rows, task b 2 and 1
    model = linear_model()
    model.compile(optimizer="sgd", loss_weights={"a": 2.0, "b": 0.5})
    uneven = tf.data.Dataset.from_tensor_slices(({"x": X}, {"a": Y_A, "b": Y_B})).batch(3)
    logs = model.evaluate(uneven, return_dict=True, verbose=0)
    loss_a, loss_b, _, v, _ = by_hand()
    assert logs["a_loss"] == pytest.approx(loss_a, rel=1e-5)
    assert logs["b_loss"] == pytest.approx(loss_b, rel=1e-5)
    assert logs["b_mse"] == pytest.approx(loss_b, rel=1e-5)
    # the total is per batch (each batch's own weighted sum), weighted by rows
    p = sigmoid(X @ W_A + B_A)[:, 0]
    bce = -(Y_A * np.log(p) + (1 - Y_A) * np.log(1 - p))
    totals = [
        2.0 * np.nanmean(bce[rows]) + 0.5 * np.nanmean(((v - Y_B) ** 2)[rows])
        for rows in (slice(0, 3), slice(3, 4))
    ]
    assert logs["loss"] == pytest.approx((3 * totals[0] + totals[1]) / 4, rel=1e-5)
    # a batch with no label for task b adds nothing to b's loss (not a 0)
    y_b = np.array([np.nan, np.nan, 1.0, 2.0], "float32")
    logs = model.evaluate(dataset(y_b=y_b).unbatch().batch(2), return_dict=True, verbose=0)
    assert logs["b_loss"] == pytest.approx(((v - y_b)[2:] ** 2).mean(), rel=1e-5)
    # training logs alike (a zero learning rate keeps the hand-computed losses)
    model.compile(optimizer=tf.keras.optimizers.SGD(0.0))
    history = model.fit(uneven, epochs=1, verbose=0).history
    assert history["a_loss"][0] == pytest.approx(loss_a, rel=1e-5)
    assert history["b_loss"][0] == pytest.approx(loss_b, rel=1e-5)


def test_regularization_is_added_to_total():
    model = linear_model(regularizer=tf.keras.regularizers.L2(0.1))
    model.compile(optimizer="sgd")
    logs = model.evaluate(dataset(), return_dict=True, verbose=0)
    loss_a, loss_b, _, _, _ = by_hand()
    expected = loss_a + loss_b + 0.1 * float((W_A**2).sum())
    assert logs["loss"] == pytest.approx(expected, rel=1e-5)
    assert logs["regularization_loss"] == pytest.approx(0.1 * float((W_A**2).sum()), rel=1e-5)
    assert linear_model().compile(optimizer="sgd") is None


def test_per_task_loss_and_extra_metrics():
    model = linear_model()
    model.compile(optimizer="sgd", loss={"b": "mean_absolute_error"}, metrics={"a": ["accuracy"]})
    logs = model.evaluate(dataset(), return_dict=True, verbose=0)
    _, _, _, v, mb = by_hand()
    assert logs["b_loss"] == pytest.approx(np.abs(v - Y_B)[mb].mean(), rel=1e-5)
    p = sigmoid(X @ W_A + B_A)[:, 0]
    keep = ~np.isnan(Y_A)
    accuracy = ((p[keep] > 0.5) == (Y_A[keep] == 1)).mean()
    assert logs["a_accuracy"] == pytest.approx(accuracy, rel=1e-6)


def test_history_callbacks_and_progress_bar():
    model = linear_model()
    model.compile(optimizer=tf.keras.optimizers.SGD(0.05))
    seen = []
    callback = tf.keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(sorted(logs))
    )
    history = model.fit(
        dataset(), validation_data=dataset(), epochs=3, verbose=1, callbacks=[callback]
    )
    for key in (
        "loss",
        "a_loss",
        "b_loss",
        "weight_a",
        "a_auc",
        "a_logloss",
        "b_mse",
        "b_mae",
        "val_loss",
        "val_a_auc",
    ):
        assert len(history.history[key]) == 3, key
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert "val_b_mae" in seen[0]


def test_label_and_compile_errors_name_the_problem():
    model = linear_model()
    model.compile(optimizer="sgd")
    only_a = tf.data.Dataset.from_tensor_slices(({"x": X}, {"a": Y_A})).batch(4)
    with pytest.raises(KeyError, match=r"\['b'\] are missing"):
        model.evaluate(only_a, verbose=0)
    with pytest.raises(ValueError, match="unknown tasks"):
        model.compile(loss={"c": "mse"})
    with pytest.raises(ValueError, match="not both"):
        model.compile(loss_weights={"a": 1.0}, weighting=keras_mtl.weighting.FixedWeights())
    with pytest.raises(TypeError, match="WeightingStrategy"):
        model.compile(weighting={"a": 1.0})
    with pytest.raises(ValueError, match="unknown loss"):
        model.compile(loss="no_such_loss")


def test_task_types_are_validated():
    x = tf.keras.Input(shape=(2,), name="x")
    head = TaskHead("binary", name="a")(x)
    with pytest.raises(ValueError, match="not an output"):
        keras_mtl.MultiTaskModel(inputs={"x": x}, outputs={"a": head}, task_types={"z": "binary"})
    with pytest.raises(ValueError, match="poisson"):
        keras_mtl.MultiTaskModel(inputs={"x": x}, outputs={"a": head}, task_types={"a": "poisson"})
    with pytest.raises(ValueError, match="dict keyed by task name"):
        keras_mtl.MultiTaskModel(inputs={"x": x}, outputs=[head])


def test_fixed_weights_strategy():
    strategy = keras_mtl.weighting.FixedWeights({"a": 3.0}, default=0.5)
    strategy.attach({"a": "binary", "b": "binary"})
    total, weights = strategy.combine({"a": tf.constant(2.0), "b": tf.constant(4.0)})
    assert float(total) == pytest.approx(3.0 * 2.0 + 0.5 * 4.0)
    assert {k: float(v) for k, v in weights.items()} == {"a": 3.0, "b": 0.5}
    with pytest.raises(ValueError, match="unknown tasks"):
        keras_mtl.weighting.FixedWeights({"c": 1.0}).attach({"a": "binary"})
    with pytest.raises(ValueError, match="a=-1"):
        keras_mtl.weighting.FixedWeights({"a": -1.0})
