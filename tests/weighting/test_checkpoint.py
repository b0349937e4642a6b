"""Strategy state goes into tf.train.Checkpoint (what BackupAndRestore uses)."""

import numpy as np
import tensorflow as tf

from keras_mtl.weighting import DWA
from keras_mtl.weighting import UncertaintyWeighting
from tests.weighting import toy


def test_checkpoint_restores_strategy_state(tmp_path):
    model = toy.model(("binary", "regression"))
    model.compile(optimizer="sgd", weighting=UncertaintyWeighting())
    model.fit(toy.dataset(), epochs=2, verbose=0)
    saved = {t: float(v.numpy()) for t, v in model.weighting.log_variances.items()}
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "ckpt"))

    fresh = toy.model(("binary", "regression"))
    fresh.compile(optimizer="sgd", weighting=UncertaintyWeighting())
    tf.train.Checkpoint(model=fresh).restore(path).assert_existing_objects_matched()
    restored = {t: float(v.numpy()) for t, v in fresh.weighting.log_variances.items()}
    assert restored == saved
    for a, b in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_export_does_not_carry_strategy_state(tmp_path):
    model = toy.model()
    model.compile(optimizer="sgd", weighting=DWA())
    model.fit(toy.dataset(), epochs=1, verbose=0)
    model.export(str(tmp_path / "export"))
    loaded = tf.saved_model.load(str(tmp_path / "export"))
    names = [v.name for v in loaded.variables]
    assert not any("task_weights" in n or "losses" in n for n in names), names
