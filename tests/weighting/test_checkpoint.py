"""Strategy state goes into tf.train.Checkpoint (what BackupAndRestore uses)."""

import numpy as np
import pytest
import tensorflow as tf

from tests.weighting import strategy_cases
from tests.weighting import toy


@pytest.mark.parametrize("name", strategy_cases.NAMES)
def test_checkpoint_restores_strategy_state(tmp_path, name):
    model = toy.model(("binary", "regression"))
    model.compile(optimizer="sgd", weighting=strategy_cases.make(name))
    model.fit(toy.dataset(), epochs=2, verbose=0)
    saved = [w.numpy() for w in model.weighting.weights]
    if strategy_cases.case(name).moves:  # its weights come from its state
        assert saved, f"{name} moves its task weights but holds no state to checkpoint"
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "ckpt"))

    fresh = toy.model(("binary", "regression"))
    fresh.compile(optimizer="sgd", weighting=strategy_cases.make(name))
    initial = [w.numpy() for w in fresh.weighting.weights]
    if strategy_cases.case(name).moves:  # training moved the state from its initial values
        assert not all(np.array_equal(a, b) for a, b in zip(saved, initial)), name
    tf.train.Checkpoint(model=fresh).restore(path).assert_existing_objects_matched()
    restored = [w.numpy() for w in fresh.weighting.weights]
    assert len(restored) == len(saved)
    for a, b in zip(saved, restored):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", strategy_cases.NAMES)
def test_export_does_not_carry_strategy_state(tmp_path, name):
    model = toy.model()
    model.compile(optimizer="sgd", weighting=strategy_cases.make(name))
    model.fit(toy.dataset(), epochs=1, verbose=0)
    model.export(str(tmp_path / "export"))
    loaded = tf.saved_model.load(str(tmp_path / "export"))
    names = [v.name for v in loaded.variables]
    state = {w.name.split(":")[0].split("/")[-1] for w in model.weighting.weights}
    assert not any(n.split(":")[0].split("/")[-1] in state for n in names), (names, state)
    assert not any("task_weights" in n or "losses" in n for n in names), names
    assert len(loaded.variables) == len(model.weights)
