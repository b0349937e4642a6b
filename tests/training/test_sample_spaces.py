"""compile(sample_spaces=...): a task's loss, metrics and row count over its own rows."""

import os

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.layers import TaskHead

X = np.array(
    [
        [1.0, 2.0],
        [0.5, -1.0],
        [-1.0, 0.0],
        [2.0, 1.0],
        [0.0, 1.5],
        [-0.5, -0.5],
        [1.5, -2.0],
        [0.2, 0.3],
    ],
    dtype="float32",
)
CLICK = np.array([1, 0, 1, 1, 0, 1, 1, 0], dtype="float32")
# conversion: defined on clicks; a value (not NaN) off the clicks must not count
BUY = np.array([1, 1, 0, 1, 1, 0, np.nan, 0], dtype="float32")
W = {
    "ctr": (np.array([[0.3], [-0.2]], "float32"), np.array([0.1], "float32")),
    "cvr": (np.array([[0.5], [0.25]], "float32"), np.array([-0.2], "float32")),
}


def model(seen=False):
    """Heads on x; with `seen`, also on an input "seen" through a 0 weight."""
    x = tf.keras.Input(shape=(2,), name="x")
    inputs, h = {"x": x}, x
    if seen:
        inputs["seen"] = tf.keras.Input(shape=(1,), name="seen")
        h = tf.keras.layers.Concatenate()([x, inputs["seen"]])
    heads = {t: TaskHead("binary", name=t) for t in W}
    out = keras_mtl.MultiTaskModel(
        inputs,
        {t: head(h) for t, head in heads.items()},
        task_types={"ctr": "binary", "cvr": "binary"},
    )
    for task, head in heads.items():
        kernel = np.concatenate([W[task][0], np.zeros((1, 1), "float32")]) if seen else W[task][0]
        head.set_weights([kernel, W[task][1]])
    return out


def data(labels=None, features=None, batch=8):
    labels = labels or {"ctr": CLICK, "cvr": BUY}
    return tf.data.Dataset.from_tensor_slices(({"x": X, **(features or {})}, labels)).batch(batch)


def by_hand():
    """cvr's BCE, AUC and gradient over the clicked rows with a label (0, 2, 3, 5)."""
    w, b = W["cvr"]
    p = 1 / (1 + np.exp(-(X @ w + b)[:, 0]))
    rows = (CLICK == 1) & ~np.isnan(BUY)
    y, q = BUY[rows], p[rows]
    bce = -(y * np.log(q) + (1 - y) * np.log(1 - q))
    pos, neg = q[y == 1], q[y == 0]
    auc = np.mean([(a > c) + 0.5 * (a == c) for a in pos for c in neg])
    grad_w = ((q - y)[:, None] * X[rows]).mean(axis=0)
    return bce.mean(), auc, grad_w, int(rows.sum())


def test_space_restricted_loss_auc_and_rows_equal_hand_computation():
    net = model()
    net.compile(optimizer="sgd", sample_spaces={"cvr": "ctr"})
    logs = net.evaluate(data(), return_dict=True, verbose=0)
    loss, auc, _, rows = by_hand()
    assert rows == 4
    assert logs["cvr_loss"] == pytest.approx(loss, rel=1e-5)
    assert logs["cvr_logloss"] == pytest.approx(loss, rel=1e-4)
    assert logs["cvr_auc"] == pytest.approx(auc, abs=1e-3)
    assert logs["cvr_rows"] == rows
    assert "ctr_rows" not in logs  # ctr has no space: every row, logs as before
    # without the space the off-click conversions (rows 1, 4) count and the loss differs
    plain = model()
    plain.compile(optimizer="sgd")
    assert plain.evaluate(data(), return_dict=True, verbose=0)["cvr_loss"] != pytest.approx(loss)


def test_one_sgd_step_follows_the_clicked_rows_only_and_rows_sum_over_batches():
    net = model()
    net.compile(optimizer=tf.keras.optimizers.SGD(0.1), sample_spaces={"cvr": "ctr"})
    history = net.fit(data(batch=8), epochs=1, verbose=0).history
    _, _, grad_w, rows = by_hand()
    np.testing.assert_allclose(
        net.get_layer("cvr").get_weights()[0][:, 0], W["cvr"][0][:, 0] - 0.1 * grad_w, rtol=1e-5
    )
    assert history["cvr_rows"] == [rows]
    net = model()
    net.compile(optimizer="sgd", sample_spaces={"cvr": "ctr"})
    logs = net.evaluate(data(batch=3), return_dict=True, verbose=0)
    assert logs["cvr_rows"] == rows  # the epoch's rows, not a batch's
    assert logs["cvr_loss"] == pytest.approx(by_hand()[0], rel=1e-5)


def test_indicator_can_be_an_extra_label_or_a_feature():
    loss = by_hand()[0]
    net = model()
    net.compile(optimizer="sgd", sample_spaces={"cvr": "clicked"})
    logs = net.evaluate(
        data(labels={"ctr": CLICK, "cvr": BUY, "clicked": CLICK}), return_dict=True, verbose=0
    )
    assert logs["cvr_loss"] == pytest.approx(loss, rel=1e-5)
    as_feature = model(seen=True)
    as_feature.compile(optimizer="sgd", sample_spaces={"cvr": "seen"})
    logs = as_feature.evaluate(data(features={"seen": CLICK[:, None]}), return_dict=True, verbose=0)
    assert logs["cvr_loss"] == pytest.approx(loss, rel=1e-5)
    empty = model(seen=True)
    empty.compile(optimizer="sgd", sample_spaces={"cvr": "seen"})
    logs = empty.evaluate(data(features={"seen": 0 * CLICK[:, None]}), return_dict=True, verbose=0)
    assert logs["cvr_rows"] == 0 and logs["cvr_loss"] == 0.0  # an empty space: 0, not NaN


def test_predictions_cover_every_row_and_keras_file_keeps_the_spaces(tmp_path):
    net = model()
    net.compile(optimizer="sgd", sample_spaces={"cvr": "ctr"})
    assert net.predict({"x": X}, verbose=0)["cvr"].shape == (8, 1)
    path = os.path.join(tmp_path, "m.keras")
    net.save(path)
    loaded = tf.keras.models.load_model(path)
    assert loaded.training_state.sample_spaces.spaces == {"cvr": "ctr"}
    logs = loaded.evaluate(data(), return_dict=True, verbose=0)
    assert logs["cvr_loss"] == pytest.approx(by_hand()[0], rel=1e-5)


def test_bad_spaces_are_named():
    net = model()
    with pytest.raises(ValueError, match="unknown task 'buy'"):
        net.compile(sample_spaces={"buy": "ctr"})
    with pytest.raises(ValueError, match="names the task itself"):
        net.compile(sample_spaces={"cvr": "cvr"})
    with pytest.raises(ValueError, match="Received: 3"):
        net.compile(sample_spaces={"cvr": 3})
    net.compile(sample_spaces={"cvr": "is_play"})
    with pytest.raises(KeyError, match="'is_play' is neither a label nor an input"):
        net.evaluate(data(), verbose=0)


def test_builders_and_the_meta_learning_step_train_on_the_space():
    from tests.models import builder_cases

    df = builder_cases.frame()
    feats = builder_cases.features(df)
    data = keras_mtl.data.df_to_dataset(df, feats, ["ctr", "cvr"], batch_size=64)
    clicks = int(df["ctr"].sum())
    for builder in ("SharedBottom", "MetaHeac"):  # MetaHeac: MetaLearningStep
        net = getattr(keras_mtl, builder)(feats, **builder_cases.TINY[builder])
        net.compile(optimizer="sgd", sample_spaces={"cvr": "ctr"})
        logs = net.fit(data, epochs=1, verbose=0).history
        assert np.isfinite(logs["cvr_loss"]).all()
        if builder == "SharedBottom":
            assert logs["cvr_rows"] == [clicks]
        else:  # the outer (query) rows of the meta step that are clicks
            assert 0 < logs["cvr_rows"][0] <= clicks
