"""Task A's prediction as an input of task B, with the gradient into A stopped."""

import inspect

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from tests.models import builder_cases

#: Every builder of keras_mtl.models.__all__ that takes task_dependencies.
BUILDERS = [getattr(keras_mtl.models, name) for name in keras_mtl.models.__all__]
BUILDERS = [b for b in BUILDERS if "task_dependencies" in inspect.signature(b).parameters]


@pytest.fixture(scope="module")
def data():
    df = builder_cases.frame()
    feats = builder_cases.features(df)
    return feats, keras_mtl.data.features_to_arrays(df.head(16), feats)


@pytest.mark.parametrize("builder", BUILDERS, ids=[b.__name__ for b in BUILDERS])
def test_cvr_reads_ctr_prediction_without_training_it(builder, data, tmp_path):
    feats, inputs = data
    # a fixed start: with another, every ReLU unit of the tiny cvr tower may be
    # dead on these rows, so that no change of the ctr prediction reaches cvr
    tf.keras.utils.set_random_seed(0)
    model, _ = builder_cases.build(
        builder,
        feats,
        task_names=("ctr", "cvr"),
        tower_units=(4,),
        task_dependencies={"cvr": "ctr"},
    )
    assert model.get_layer("tower_input_cvr") is not None
    ctr_head = model.get_layer("ctr")
    with tf.GradientTape(persistent=True) as tape:
        out = model(inputs)
        cvr = tf.reduce_sum(out["cvr"])
        ctr = tf.reduce_sum(out["ctr"])
    assert all(g is None for g in tape.gradient(cvr, ctr_head.trainable_variables))
    assert all(g is not None for g in tape.gradient(ctr, ctr_head.trainable_variables))
    before = model(inputs)["cvr"].numpy()
    kernel, bias = ctr_head.get_weights()
    ctr_head.set_weights([kernel, bias + 3.0])  # moves only the ctr prediction
    assert not np.allclose(model(inputs)["cvr"].numpy(), before)
    path = str(tmp_path / "dep.keras")
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    np.testing.assert_allclose(
        loaded(inputs)["cvr"].numpy(), model(inputs)["cvr"].numpy(), atol=1e-6
    )


def test_dependencies_must_point_to_earlier_known_tasks(data):
    feats, _ = data
    with pytest.raises(ValueError, match="earlier tasks only"):
        keras_mtl.MMoE(feats, task_names=("ctr", "cvr"), task_dependencies={"ctr": "cvr"})
    with pytest.raises(ValueError, match="unknown task 'x'"):
        keras_mtl.MMoE(feats, task_names=("ctr", "cvr"), task_dependencies={"x": "ctr"})
