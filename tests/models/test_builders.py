"""Every builder: outputs, config round trip, .keras reload, SavedModel export."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from tests.models import builder_cases

IDS = [b.__name__ for b in builder_cases.BUILDERS]


@pytest.fixture(scope="module")
def data():
    df = builder_cases.frame()
    feats = builder_cases.features(df)
    return df, feats, keras_mtl.data.features_to_arrays(df, feats)


def _trained(builder, data, steps=2):
    df, feats, _ = data
    model, labels = builder_cases.build(builder, feats)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01))
    ds = keras_mtl.data.df_to_dataset(df, feats, labels, batch_size=32)
    history = model.fit(ds, epochs=steps, verbose=0)
    return model, labels, history


@pytest.fixture(scope="module")
def trained(data):
    """`trained(builder)`: one tiny model per builder, trained two epochs, shared
    by the tests below, which read it without training it further."""
    models = {}

    def get(builder):
        if builder not in models:
            models[builder] = _trained(builder, data)
        return models[builder]

    return get


def _assert_outputs_equal(a, b, atol=1e-6):
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_allclose(np.asarray(a[key]), np.asarray(b[key]), atol=atol)


@pytest.mark.parametrize("builder", builder_cases.BUILDERS, ids=IDS)
def test_outputs_named_by_task_and_trained_tasks(builder, data, trained):
    model, labels, history = trained(builder)
    expected = builder_cases.OUTPUTS.get(builder_cases.base_name(builder), ["ctr", "cvr"])
    predictions = model.predict(data[2], verbose=0)
    assert sorted(predictions) == expected
    for values in predictions.values():
        assert values.shape == (builder_cases.ROWS, 1)
        assert np.all((values >= 0) & (values <= 1))
    assert list(model.task_names) == labels
    for task in labels:
        assert np.all(np.isfinite(history.history[f"{task}_loss"]))
        assert history.history[f"weight_{task}"] == [1.0, 1.0]
    if builder is keras_mtl.ESMM:
        assert "cvr_loss" not in history.history  # cvr has no direct supervision
        np.testing.assert_allclose(
            predictions["ctcvr"], predictions["ctr"] * predictions["cvr"], rtol=1e-6
        )


@pytest.mark.parametrize("builder", builder_cases.BUILDERS, ids=IDS)
def test_config_round_trip(builder, data, trained):
    model, _, _ = trained(builder)
    config = model.get_config()
    clone = keras_mtl.MultiTaskModel.from_config(config)
    assert isinstance(clone, keras_mtl.MultiTaskModel)
    assert clone.task_types == model.task_types
    assert model.features == clone.features == tuple(data[1])  # builders record their features
    # compared as serialized (JSON) configs: tf_keras mixes lists and tuples
    assert json.dumps(clone.get_config(), sort_keys=True) == json.dumps(config, sort_keys=True)
    clone.set_weights(model.get_weights())
    _assert_outputs_equal(clone(data[2]), model(data[2]))


@pytest.mark.parametrize("builder", builder_cases.BUILDERS, ids=IDS)
def test_keras_file_reload_predicts_and_trains_on(builder, data, trained, tmp_path):
    model, labels, _ = trained(builder)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = tf.keras.models.load_model(path)  # no custom_objects needed
    assert type(loaded) is type(model)
    # eager calls and steps: the traced predict and fit run in the tests above
    _assert_outputs_equal(loaded(data[2]), model(data[2]))
    # compile state comes back: same weighting, and training goes on
    assert isinstance(loaded.weighting, keras_mtl.weighting.FixedWeights)
    ds = keras_mtl.data.df_to_dataset(data[0], data[1], labels, batch_size=32)
    traced, loaded.run_eagerly, model.run_eagerly = model.run_eagerly, True, True
    try:
        logs = loaded.evaluate(ds, return_dict=True, verbose=0)
        expected = model.evaluate(ds, return_dict=True, verbose=0)
    finally:
        model.run_eagerly = traced
    for task in labels:
        assert logs[f"{task}_loss"] == pytest.approx(expected[f"{task}_loss"], rel=1e-5)
    before = [w.numpy() for w in loaded.trainable_weights]
    history = loaded.fit(ds, epochs=1, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    moved = sum(not np.array_equal(a, w.numpy()) for a, w in zip(before, loaded.trainable_weights))
    assert moved >= len(before) // 2, (moved, len(before))


def test_every_builder_has_one_tiny_case():
    missing = [name for name in keras_mtl.models.__all__ if name not in builder_cases.TINY]
    assert not missing, (
        f"keras_mtl.models {missing} have no tiny test case: add one line each to TINY in "
        "tests/models/builder_cases.py"
    )
    stale = sorted(set(builder_cases.TINY) - set(keras_mtl.models.__all__))
    stale += [
        variant
        for variant, (base, _) in builder_cases.VARIANTS.items()
        if base not in builder_cases.TINY
    ]
    assert not stale, f"test cases of no builder in keras_mtl.models.__all__: {stale}"
    names = [builder.__name__ for builder in builder_cases.BUILDERS]
    assert sorted(names) == sorted([*keras_mtl.models.__all__, *builder_cases.VARIANTS])


def test_a_builder_without_a_tiny_case_fails_clearly(data, monkeypatch):
    monkeypatch.delitem(builder_cases.TINY, "MMoE")
    with pytest.raises(KeyError, match="add one line to TINY"):
        builder_cases.build(keras_mtl.MMoE, data[1])


def test_two_experts_start_different(data):
    model, _ = builder_cases.build(keras_mtl.MMoE, data[1])
    experts = model.get_layer("experts")
    first = experts.kernels[0].numpy().reshape(experts.kernels[0].shape[0], 3, 8)
    assert not np.allclose(first[:, 0], first[:, 1])
    second = experts.kernels[1].numpy()
    assert not np.allclose(second[0], second[1])


def test_export_versions_increment(data, tmp_path):
    model, _ = builder_cases.build(keras_mtl.SharedBottom, data[1])
    base = str(tmp_path / "sb")
    first = keras_mtl.export.export_saved_model(model, base)
    second = keras_mtl.export.export_saved_model(model, base)
    assert [os.path.basename(first), os.path.basename(second)] == ["1", "2"]
    with pytest.raises(FileExistsError, match="exists already"):
        keras_mtl.export.export_saved_model(model, base, version=2)


@pytest.mark.parametrize(
    "builder, kwargs, message",
    [
        (keras_mtl.MMoE, {"task_names": ()}, "at least 1 task"),
        (keras_mtl.MMoE, {"task_names": ("a", "a")}, "unique task names"),
        (keras_mtl.MMoE, {"task_names": ("a b",)}, "identifiers"),
        (keras_mtl.MMoE, {"num_experts": 0}, "num_experts=0"),
        (keras_mtl.OMoE, {"task_types": ("binary", "poisson")}, "poisson"),
        (keras_mtl.SharedBottom, {"bottom_units": ()}, "bottom_units"),
        (keras_mtl.SharedBottom, {"l2_reg": -1.0}, "l2_reg=-1.0"),
        (keras_mtl.ESMM, {"task_names": ("ctr", "cvr", "x")}, "two task names"),
    ],
)
def test_builders_reject_bad_arguments(builder, kwargs, message, data):
    with pytest.raises(ValueError, match=message):
        builder(data[1], **kwargs)


def test_builder_rejects_unadapted_features():
    with pytest.raises(ValueError, match="adapt"):
        keras_mtl.MMoE([keras_mtl.SparseFeat("color")])
