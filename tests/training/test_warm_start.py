"""warm_start: yesterday's rows and optimizer slots, by id, in a model on refreshed vocabularies."""

import numpy as np
import onnxruntime
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl import keras_compat
from keras_mtl.export import saved_model_parity
from keras_mtl.training import warm_start
from tests.embedding_tables import get_table
from tests.embedding_tables import stack_of
from tests.export import feature_options

MMOE = dict(num_experts=2, expert_units=(6,), tower_units=(4,))
BUDGET = 5  # entries per vocabulary table after the refresh


def _trained(feats, df, steps=3):
    model = keras_mtl.MMoE(feats, **MMOE)
    model.compile(optimizer="adam")
    model.fit(_data(df, feats).take(steps), epochs=1, verbose=0)
    return model


def _data(df, feats):
    return keras_mtl.data.df_to_dataset(df, feats, {"ctr": "ctr", "cvr": "cvr"}, batch_size=16)


def _slots(model, table):
    """`{slot name: (rows, width)}` of `table`'s rows in its stack's optimizer slots."""
    layer = stack_of(model, table)
    offset, rows = layer.table_slice(table)
    optimizer = model.training_state.optimizer_of(layer.embeddings)
    slots = keras_compat.slot_variables(optimizer, layer.embeddings)
    return {name: np.asarray(s.numpy())[offset : offset + rows] for name, s in slots.items()}


def _vocabulary(model, feature):
    return next(s.vocabulary for s in model.features if s.name == feature)


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    """Day 1: a model trained and saved; day 2: its features refreshed on new rows
    under a budget, a model built on them, its initial tables, and the warm start."""
    tf.keras.utils.set_random_seed(7)
    df1, df2 = feature_options.frame(seed=0), feature_options.frame(seed=5)
    df2["size"] = df2["size"] + 3  # new sizes arrive, some old ones die
    feats1 = feature_options.features(df1)
    old = _trained(feats1, df1)
    path = str(tmp_path_factory.mktemp("day1") / "model.keras")
    old.save(path)
    loaded = tf.keras.models.load_model(path)
    feats2, report = keras_mtl.features.refresh_vocabularies(
        loaded.features, df2, max_tokens=BUDGET
    )
    new = keras_mtl.MMoE(feats2, **MMOE)
    new.compile(optimizer="adam")
    initial = {t: get_table(new, t).copy() for t in ("color", "size", "query")}
    before = [np.asarray(w.numpy()).copy() for w in loaded.weights]
    summary = warm_start(new, loaded)
    return dict(
        old=old, loaded=loaded, new=new, df2=df2, feats2=feats2, report=report,
        initial=initial, before=before, summary=summary, folder=tmp_path_factory.mktemp("day2"),
    )  # fmt: skip


def test_the_saved_model_keeps_its_features(days):
    assert days["loaded"].features == days["old"].features
    assert days["old"].features[0].name == "color"


def test_the_refresh_admits_and_evicts_under_the_budget(days):
    counts = days["report"].tables["size"]
    assert counts["admitted"] > 0 and counts["evicted"] > 0
    for table in ("color", "size"):
        assert len(_vocabulary(days["new"], table)) <= BUDGET
        assert get_table(days["new"], table).shape[0] <= BUDGET + 1


@pytest.mark.parametrize("table", ["color", "size"])
def test_kept_ids_rows_and_slots_are_bit_identical(days, table):
    old, new = days["loaded"], days["new"]
    old_vocab, new_vocab = _vocabulary(old, table), _vocabulary(new, table)
    kept = [v for v in new_vocab if v in old_vocab]
    assert kept
    dst = [0] + [new_vocab.index(v) + 1 for v in kept]  # the OOV row, then each kept id
    src = [0] + [old_vocab.index(v) + 1 for v in kept]
    np.testing.assert_array_equal(get_table(new, table)[dst], get_table(old, table)[src])
    old_slots, new_slots = _slots(old, table), _slots(new, table)
    assert set(new_slots) == {"_momentums", "_velocities"}
    for name in new_slots:
        assert np.abs(old_slots[name][src]).max() > 0  # trained: the slots moved
        np.testing.assert_array_equal(new_slots[name][dst], old_slots[name][src])


def test_admitted_ids_keep_fresh_rows_and_zero_slots(days):
    old_vocab, new_vocab = _vocabulary(days["loaded"], "size"), _vocabulary(days["new"], "size")
    fresh = [new_vocab.index(v) + 1 for v in new_vocab if v not in old_vocab]
    assert fresh
    np.testing.assert_array_equal(
        get_table(days["new"], "size")[fresh], days["initial"]["size"][fresh]
    )
    for slot in _slots(days["new"], "size").values():
        assert not slot[fresh].any()
    assert days["summary"]["tables"]["size"]["fresh"] == len(fresh)


def test_hashed_tables_and_dense_variables_are_copied_whole(days):
    np.testing.assert_array_equal(
        get_table(days["new"], "query"), get_table(days["loaded"], "query")
    )
    new, old = days["new"].get_layer("experts").weights, days["loaded"].get_layer("experts").weights
    assert len(new) == len(old) == 2
    for weight, before in zip(new, old):
        np.testing.assert_array_equal(weight.numpy(), before.numpy())


def test_the_step_count_continues(days):
    assert days["summary"]["iterations"] == 3
    assert int(days["new"].optimizer.iterations.numpy()) == 3


def test_the_previous_model_is_not_modified(days):
    for weight, value in zip(days["loaded"].weights, days["before"]):
        np.testing.assert_array_equal(weight.numpy(), value)


def test_evicted_ids_go_to_the_oov_row(days):
    old_vocab, new_vocab = _vocabulary(days["loaded"], "size"), _vocabulary(days["new"], "size")
    evicted = [v for v in old_vocab if v not in new_vocab]
    assert evicted
    x = feature_options.arrays(days["df2"].head(4), days["feats2"])
    unknown = dict(x, size=np.full(4, -12345, "int64"))
    gone = dict(x, size=np.full(4, evicted[0], "int64"))
    np.testing.assert_array_equal(
        days["new"].predict(gone, verbose=0)["ctr"], days["new"].predict(unknown, verbose=0)["ctr"]
    )


def test_the_warm_started_model_trains_and_serves_equal_to_keras(days):
    new, df2, feats2 = days["new"], days["df2"], days["feats2"]
    new.fit(_data(df2, feats2).take(1), epochs=1, verbose=0)
    rows = feature_options.arrays(df2.head(12), feats2)
    version = keras_mtl.export.export_saved_model(new, str(days["folder"] / "serving"))
    assert max(saved_model_parity.max_abs_diff(new, str(version), rows).values()) < 1e-5
    export = keras_mtl.export.export_onnx(new, str(days["folder"] / "m.onnx"), examples=rows)
    session = onnxruntime.InferenceSession(export.path, export.session_options())
    names = [o.name for o in session.get_outputs()]
    served = dict(zip(names, session.run(names, feature_options.onnx_feed(rows))))
    keras_out = new.predict(rows, verbose=0)
    for task in ("ctr", "cvr"):
        np.testing.assert_allclose(served[task], keras_out[task], atol=1e-5)


def _compiled(feats, **options):
    model = keras_mtl.MMoE(feats, **{**MMOE, **options})
    model.compile(optimizer="adam")
    return model


@pytest.fixture(scope="module")
def small():
    df = feature_options.frame(seed=0)
    feats = keras_mtl.features.adapt(
        [keras_mtl.SparseFeat("color", embedding_dim=3), keras_mtl.DenseFeat("vec", dimension=2)],
        df,
    )
    return feats


def test_another_architecture_fails_before_anything_is_copied(small):
    old, new = _compiled(small), _compiled(small, num_experts=3)
    before = [np.asarray(w.numpy()).copy() for w in new.weights]
    with pytest.raises(ValueError, match="shape"):
        warm_start(new, old)
    for weight, value in zip(new.weights, before):
        np.testing.assert_array_equal(weight.numpy(), value)


def test_other_embedding_widths_or_features_are_named(small):
    old = _compiled(small)
    wider = [small[0].replace(embedding_dim=4), small[1]]
    with pytest.raises(ValueError, match="feature 'color' differs in embedding_dim: 4"):
        warm_start(_compiled(wider), old)
    renamed = [small[0].replace(name="colour", embedding_name="colour"), small[1]]
    with pytest.raises(ValueError, match=r"features differ: \['colour', 'vec'\]"):
        warm_start(_compiled(renamed), old)
    hashed = [keras_mtl.SparseFeat("color", hash_bins=4, embedding_dim=3), small[1]]
    with pytest.raises(ValueError, match="differs in encoding: 'hash_bins'"):
        warm_start(_compiled(hashed), old)


def test_an_uncompiled_model_is_refused(small):
    with pytest.raises(ValueError, match="compiled"):
        warm_start(keras_mtl.MMoE(small, **MMOE), _compiled(small))
