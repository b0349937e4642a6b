import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.weighting import DWA
from tests.weighting import toy


def test_weights_after_three_epochs_equal_formula_from_recorded_losses():
    model = toy.model()
    model.compile(optimizer=tf.keras.optimizers.SGD(0.5), weighting=DWA(temperature=2.0))
    history = model.fit(toy.dataset(batch_size=4), epochs=4, verbose=0).history
    assert history["weight_a"][:2] == [1.0, 1.0] and history["weight_b"][:2] == [1.0, 1.0]
    for epoch in (2, 3):
        r = np.array(
            [history[f"{t}_loss"][epoch - 1] / history[f"{t}_loss"][epoch - 2] for t in "ab"]
        )
        expected = 2 * np.exp(r / 2.0) / np.exp(r / 2.0).sum()
        assert history["weight_a"][epoch] == pytest.approx(expected[0], rel=1e-5)
        assert history["weight_b"][epoch] == pytest.approx(expected[1], rel=1e-5)


def test_missing_epoch_losses_raise():
    strategy = DWA()
    strategy.attach({"a": "binary"})
    with pytest.raises(KeyError, match="a_loss"):
        strategy.on_epoch_end(0, {"loss": 1.0})
    with pytest.raises(ValueError, match="temperature=0"):
        DWA(temperature=0)
