"""Optimizer groups: under "adam" a stack of embedding tables over DENSE_TABLE_MAX_ROWS
rows gets LazyAdam, smaller ones the compiled Adam; dict groups; save/restore."""

import os

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.optimizers import LazyAdam
from keras_mtl.training import OptimizerGroups
from keras_mtl.training.optimizer_groups import DENSE_TABLE_MAX_ROWS
from tests.models import builder_cases
from tests.weighting import strategy_cases


@pytest.fixture(scope="module")
def frame():
    return builder_cases.frame()


@pytest.fixture(scope="module")
def feats(frame):
    return builder_cases.features(frame)


@pytest.fixture(scope="module")
def data(frame, feats):
    return keras_mtl.data.df_to_dataset(frame, feats, ["ctr", "cvr"], batch_size=16)


#: The extra feature of `big`: its table (one row more, out of vocabulary) puts
#: the stack of width 3 over DENSE_TABLE_MAX_ROWS; the stack of width 2 (the
#: domain's 4 rows) stays small.
BIG = "big_id"


@pytest.fixture(scope="module")
def big(frame, feats):
    """`(feats, data)` with BIG among the features."""
    ids = np.random.RandomState(1).randint(0, DENSE_TABLE_MAX_ROWS, len(frame))
    frame = frame.assign(**{BIG: ids})
    feats = [
        *feats,
        keras_mtl.SparseFeat(BIG, vocabulary_size=DENSE_TABLE_MAX_ROWS, embedding_dim=3),
    ]
    return feats, keras_mtl.data.df_to_dataset(frame, feats, ["ctr", "cvr"], batch_size=16)


def _mmoe(feats, seed=0):
    tf.keras.utils.set_random_seed(seed)
    return keras_mtl.MMoE(
        feats, task_names=("ctr", "cvr"), num_experts=2, expert_units=(4,), tower_units=(2,)
    )


def _tables(model, min_rows=0):
    """Ids of the stacked table variables of more than `min_rows` rows."""
    return {
        id(v)
        for layer in model.layers
        if isinstance(layer, tf.keras.layers.Embedding) and layer.input_dim > min_rows
        for v in layer.trainable_variables
    }


def _large(model):
    return _tables(model, min_rows=DENSE_TABLE_MAX_ROWS)


@pytest.mark.parametrize("optimizer", ["adam", "adam_instance"])
def test_adam_trains_a_large_stack_with_a_lazy_adam_of_the_same_settings(big, optimizer):
    model = _mmoe(big[0])
    adam = tf.keras.optimizers.Adam(0.02, beta_1=0.8, epsilon=1e-6)
    model.compile(optimizer="adam" if optimizer == "adam" else adam)
    state = model.training_state
    lazy = state.embedding_optimizer
    assert type(lazy) is LazyAdam and type(model.optimizer) is tf.keras.optimizers.Adam
    stacks = {layer.name: layer.input_dim for layer in _stack_layers(model)}
    assert stacks == {"embedding_tables_2": 4, "embedding_tables_3": 48 + DENSE_TABLE_MAX_ROWS + 1}
    # every table is an embedding variable; only the large stack's is LazyAdam's
    assert {id(v) for v in model.embedding_variables} == _tables(model) != _large(model)
    assert len(_large(model)) == 1
    for v in model.trainable_variables:
        assert state.optimizer_of(v) is (lazy if id(v) in _large(model) else model.optimizer)
    settings = ("learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad")
    expected = model.optimizer.get_config()
    assert {k: lazy.get_config()[k] for k in settings} == {k: expected[k] for k in settings}
    # each optimizer is built with exactly its own variables
    slots = [v for v in lazy.variables if len(v.shape) > 0]  # m and v of the large stack
    assert [tuple(v.shape) for v in slots] == [(48 + DENSE_TABLE_MAX_ROWS + 1, 3)] * 2
    assert model.group_optimizers == {"embeddings_optimizer": lazy}


def _stack_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras_mtl.layers.StackedEmbedding)]


def test_adam_keeps_training_small_stacks_itself(feats, data):
    model = _mmoe(feats)
    model.compile(optimizer="adam")
    state = model.training_state
    rows = {layer.name: layer.input_dim for layer in _stack_layers(model)}
    assert rows == {"embedding_tables_2": 4, "embedding_tables_3": 48}
    assert {id(v) for v in model.embedding_variables} == _tables(model) != set()
    # no table is large: the compiled Adam trains every variable, no LazyAdam is built
    assert state.optimizer_groups.ids["embeddings"] == frozenset()
    for v in model.trainable_variables:
        assert state.optimizer_of(v) is model.optimizer
    assert model.group_optimizers == {}
    before = {layer.name: layer.embeddings.numpy() for layer in _stack_layers(model)}
    model.fit(data, epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 4
    slots = sorted(tuple(v.shape) for v in model.optimizer.variables if len(v.shape) == 2)
    assert slots.count((48, 3)) == 2  # Adam's m and v of the stack of width 3
    for layer in _stack_layers(model):
        assert not np.allclose(layer.embeddings.numpy(), before[layer.name]), layer.name


@pytest.mark.parametrize(
    "rows, group", [(DENSE_TABLE_MAX_ROWS, "shared"), (DENSE_TABLE_MAX_ROWS + 1, "embeddings")]
)
def test_the_rule_counts_the_rows_of_the_whole_table(rows, group):
    """A table sharded by a parameter-server partitioner is several variables,
    each given the whole table's rows (`structure.embedding_table_ids`): a
    shard's own rows do not decide."""
    groups = OptimizerGroups("adam")
    shards = (1, 2)  # ids of a table's two shards, each of about rows / 2
    groups.set_ids(embeddings=shards, shared=(3,), table_rows={1: rows, 2: rows})
    assert groups.ids[group] >= frozenset(shards)
    other = "embeddings" if group == "shared" else "shared"
    assert not groups.ids[other] & frozenset(shards)
    assert type(groups.optimizer(group)) is (
        LazyAdam if group == "embeddings" else tf.keras.optimizers.Adam
    )
    # without sizes a table counts as large
    groups.set_ids(embeddings=shards, shared=(3,))
    assert groups.ids["embeddings"] == frozenset(shards) and groups.ids["shared"] == {3}


def test_structure_gives_each_table_variable_the_rows_of_its_layer():
    from keras_mtl.training import structure

    layer = tf.keras.layers.Embedding(DENSE_TABLE_MAX_ROWS + 1, 2)
    layer.build((None,))
    dense = tf.keras.layers.Dense(1)
    dense.build((None, 2))
    assert structure.embedding_table_ids([layer, dense]) == {
        id(v): DENSE_TABLE_MAX_ROWS + 1 for v in layer.trainable_variables
    }


@pytest.mark.parametrize("embeddings", ["sgd", "adam"])
def test_an_embeddings_optimizer_trains_every_table_whatever_its_rows(big, embeddings):
    model = _mmoe(big[0])
    given = tf.keras.optimizers.get(embeddings)
    model.compile(optimizer={"embeddings": given, "towers": "adam"})
    state = model.training_state
    assert state.embedding_optimizer is given
    assert state.optimizer_groups.ids["embeddings"] == frozenset(_tables(model))
    for v in model.embedding_variables:  # the large stack and the small one
        assert state.optimizer_of(v) is given
    assert model.group_optimizers == {"embeddings_optimizer": given}


def test_one_line_opt_out_keeps_dense_adam_updates(feats):
    model = _mmoe(feats)
    model.compile(optimizer={"embeddings": "adam", "towers": "adam"})
    state = model.training_state
    assert type(state.embedding_optimizer) is tf.keras.optimizers.Adam
    adam = tf.keras.optimizers.Adam()
    model.compile(optimizer={"embeddings": adam, "towers": adam})  # one Adam for all
    assert model.training_state.embedding_optimizer is model.optimizer is adam
    assert model.group_optimizers == {}


def test_three_explicit_groups(feats, data):
    model = _mmoe(feats)
    sgd, adagrad = tf.keras.optimizers.SGD(0.1), tf.keras.optimizers.Adagrad(0.1)
    model.compile(optimizer={"embeddings": sgd, "shared": adagrad, "towers": "adam"})
    state = model.training_state
    experts = {id(v) for v in model.get_layer("experts").trainable_variables}
    gates = {id(v) for v in model.get_layer("gate_ctr").trainable_variables}
    for v in model.trainable_variables:
        group = state.optimizer_groups.group_of(v)
        assert group == (
            "embeddings"
            if id(v) in _tables(model)
            else "shared"
            if id(v) in experts
            else "towers"
            if id(v) in gates
            else group
        )
        assert (
            state.optimizer_of(v)
            is {"embeddings": sgd, "shared": adagrad, "towers": model.optimizer}[group]
        )
    model.fit(data, epochs=1, verbose=0)
    assert int(sgd.iterations) == int(adagrad.iterations) == int(model.optimizer.iterations) == 4


def test_groups_fall_through_and_adagrad_gets_its_row_wise_twin():
    groups = OptimizerGroups({"shared": "sgd", "towers": "adam"})
    assert groups.optimizer("embeddings") is groups.optimizer("shared")  # SGD: no twin
    groups = OptimizerGroups("adagrad")
    assert type(groups.optimizer("embeddings")) is keras_mtl.optimizers.Adagrad
    assert OptimizerGroups(keras_mtl.optimizers.LazyAdam()).derived is None
    with pytest.raises(ValueError, match=r"expected optimizer groups among .*Received: \['tables'"):
        OptimizerGroups({"tables": "adam", "towers": "adam"})
    with pytest.raises(ValueError, match='"towers" included'):
        OptimizerGroups({"embeddings": "adam"})


def test_the_lazy_twin_follows_learning_rate_changes(big):
    feats, data = big
    model = _mmoe(feats)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01))
    model.fit(data, epochs=1, verbose=0)
    model.optimizer.learning_rate = 0.003  # what ReduceLROnPlateau does
    model.fit(data.take(1), epochs=1, verbose=0)
    lazy = model.training_state.embedding_optimizer
    assert float(lazy.learning_rate) == pytest.approx(0.003)
    schedule = tf.keras.optimizers.schedules.ExponentialDecay(0.01, 2, 0.5)
    model.compile(optimizer=tf.keras.optimizers.Adam(schedule))
    model.fit(data, epochs=1, verbose=0)
    lazy = model.training_state.embedding_optimizer
    # the schedule is copied and runs on the same step count
    assert "ExponentialDecay" in str(lazy.get_config()["learning_rate"])
    assert int(lazy.iterations) == int(model.optimizer.iterations) == 4
    assert float(lazy.learning_rate) == pytest.approx(float(model.optimizer.learning_rate))
    assert float(lazy.learning_rate) < 0.01


class DenseAdam(tf.keras.optimizers.Adam):
    """Adam of the dense (duplicate-summed) gradient.

    Keras 3's Adam squares each duplicate row of a `tf.IndexedSlices` on its
    own (its second moment sums the squares, not the square of the sum);
    tf_keras 2 sums duplicates first. Densifying gives Adam's rule on both.
    """

    def update_step(self, gradient, variable, *learning_rate):
        return super().update_step(tf.convert_to_tensor(gradient), variable, *learning_rate)


def test_first_step_equals_dense_adam_under_every_strategy(big):
    """From zero moments one LazyAdam step equals Adam's: rows outside the batch
    have no gradient and no moment, so Adam leaves them too. Every strategy (the
    gradient-based ones included) hands both the same gradients.

    The small stack (width 2) is left out: "adam" trains it with Adam itself,
    which differs from DenseAdam on duplicate rows under Keras 3; after one
    step no other variable depends on how it was updated."""
    feats, data = big
    batch = next(iter(data))
    for name in strategy_cases.NAMES:
        weights = []
        for optimizer in ("adam", {"embeddings": DenseAdam(), "towers": "adam"}):
            model = _mmoe(feats, seed=3)
            model.compile(
                optimizer=optimizer, weighting=strategy_cases.make(name), run_eagerly=True
            )  # one step: tracing would cost more
            model.train_on_batch(*batch)
            small = id(model.get_layer("embedding_tables_2").embeddings)
            weights.append([v.numpy() for v in model.weights if id(v) != small])
        assert len(weights[0]) == len(model.weights) - 1
        for lazy, dense in zip(*weights):
            np.testing.assert_allclose(lazy, dense, rtol=1e-6, atol=1e-7, err_msg=name)


def test_keras_file_restores_the_lazy_slots_and_training_continues_equal(big, tmp_path):
    feats, data = big
    model = _mmoe(feats)
    model.compile(optimizer="adam")
    model.fit(data, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    restored = tf.keras.models.load_model(path)
    lazy, back = (
        model.training_state.embedding_optimizer,
        restored.training_state.embedding_optimizer,
    )
    assert type(back) is LazyAdam and int(back.iterations) == int(lazy.iterations) == 4
    for a, b in zip(lazy.variables, back.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    first = model.fit(data, epochs=1, verbose=0).history["loss"]
    second = restored.fit(data, epochs=1, verbose=0).history["loss"]
    np.testing.assert_allclose(first, second, rtol=1e-6)
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_checkpoints_hold_the_lazy_slots(big, tmp_path):
    feats, data = big
    model = _mmoe(feats)
    model.compile(optimizer="adam")
    model.fit(data, epochs=1, verbose=0)
    prefix = tf.train.Checkpoint(model=model).save(os.path.join(tmp_path, "ckpt"))
    other = _mmoe(feats, seed=5)
    other.compile(optimizer="adam")
    other.fit(data.take(1), epochs=1, verbose=0)  # slots exist, with other values
    tf.train.Checkpoint(model=other).restore(prefix).assert_existing_objects_matched()
    mine, theirs = (
        model.training_state.embedding_optimizer,
        other.training_state.embedding_optimizer,
    )
    assert int(theirs.iterations) == 4
    for a, b in zip(mine.variables, theirs.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
