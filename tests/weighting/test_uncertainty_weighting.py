import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.weighting import UncertaintyWeighting
from tests.weighting import toy


def test_total_equals_formula_for_given_log_variances():
    strategy = UncertaintyWeighting()
    strategy.attach({"ctr": "binary", "time": "regression"})
    strategy.log_variances["ctr"].assign(0.7)
    strategy.log_variances["time"].assign(-0.4)
    total, weights = strategy.combine({"ctr": tf.constant(0.3), "time": tf.constant(2.5)})
    expected = np.exp(-0.7) * 0.3 + 0.5 * 0.7 + 0.5 * np.exp(0.4) * 2.5 + 0.5 * -0.4
    assert float(total) == pytest.approx(expected, rel=1e-6)
    assert float(weights["ctr"]) == pytest.approx(np.exp(-0.7), rel=1e-6)
    assert float(weights["time"]) == pytest.approx(0.5 * np.exp(0.4), rel=1e-6)


def test_log_variances_train_with_the_model_and_are_saved(tmp_path):
    model = toy.model(("binary", "regression"))
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1), weighting=UncertaintyWeighting())
    model.fit(toy.dataset(), epochs=2, verbose=0)
    values = {t: float(v) for t, v in model.weighting.log_variances.items()}
    assert all(v != 0.0 for v in values.values())
    # one SGD step on s: ds = -c·exp(-s)·L + 0.5, so s moves (and differently per task)
    assert values["a"] != pytest.approx(values["b"])
    path = str(tmp_path / "uw.keras")
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    assert isinstance(loaded.weighting, UncertaintyWeighting)
    assert {t: float(v) for t, v in loaded.weighting.log_variances.items()} == pytest.approx(values)
