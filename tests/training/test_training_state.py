"""TrainingState, Reporting and FitHooks: what compile builds and every step reads;
StepOutputs and StepContext: what passes between the step's functions."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.training import MultiTaskModel
from keras_mtl.training import Reporting
from keras_mtl.training import StepContext
from keras_mtl.training import StepOutputs
from keras_mtl.training import TrainingState
from keras_mtl.training import step
from keras_mtl.weighting import FixedWeights
from tests.models import builder_cases


@pytest.fixture(scope="module")
def feats():
    return builder_cases.features(builder_cases.frame())


def _mmoe(feats):
    return keras_mtl.MMoE(
        feats, task_names=("ctr", "cvr"), num_experts=2, expert_units=(4,), tower_units=(2,)
    )


def test_compile_builds_the_training_state(feats):
    model = _mmoe(feats)
    assert model.training_state is None and model.weighting is None
    sgd = tf.keras.optimizers.SGD(0.1)
    model.compile(
        optimizer={"shared": sgd, "towers": "adam"},
        loss={"cvr": "mse"},
        loss_weights={"ctr": 1.0, "cvr": 0.5},
    )
    state = model.training_state
    assert isinstance(state, TrainingState)
    assert state.task_names == ("ctr", "cvr") and state.weighting is model.weighting
    assert state.shared_optimizer is sgd and state.optimizer is model.optimizer
    assert state.loss_fns["cvr"] is tf.keras.losses.get("mse")
    # the shared group is exactly what lies below the declared shared layer
    experts = model.get_layer("experts").trainable_variables
    shared = model.shared_variables
    assert {id(v) for v in experts} <= {id(v) for v in shared}
    assert not {id(v) for v in model.get_layer("gate_ctr").trainable_variables} & {
        id(v) for v in shared
    }
    assert {id(v) for v in shared} == set(state.shared_ids)
    assert set(state.last_shared_ids) == {id(v) for v in experts}
    for v in model.trainable_variables:
        assert state.optimizer_of(v) is (sgd if state.is_shared(v) else model.optimizer)


def test_apply_gradients_sends_each_variable_to_its_group():
    a, b = tf.Variable([1.0, 2.0]), tf.Variable([3.0])
    shared_sgd, towers_sgd = tf.keras.optimizers.SGD(0.5), tf.keras.optimizers.SGD(0.1)
    state = TrainingState(
        {"t": "binary"},
        {},
        FixedWeights(),
        None,
        towers_sgd,
        shared_optimizer=shared_sgd,
        shared_ids={id(a)},
    )
    state.build_optimizers([a, b])
    state.apply_gradients([tf.constant([1.0, 1.0]), tf.constant([2.0])], [a, b], replicas=2)
    np.testing.assert_allclose(a.numpy(), [1.0 - 0.5 * 0.5, 2.0 - 0.5 * 0.5])
    np.testing.assert_allclose(b.numpy(), [3.0 - 0.1 * 1.0])
    # IndexedSlices (embedding rows) stay sparse and are scaled too
    rows = tf.IndexedSlices(tf.constant([[4.0]]), tf.constant([0]), tf.constant([2, 1]))
    table = tf.Variable([[0.0], [0.0]])
    state = TrainingState(
        {"t": "binary"},
        {},
        FixedWeights(),
        None,
        tf.keras.optimizers.SGD(0.1),
        shared_optimizer=tf.keras.optimizers.SGD(0.5),
    )
    state.set_shared({id(table)}, set())
    state.build_optimizers([table, b])
    state.apply_gradients([rows, None], [table, b], replicas=2)
    np.testing.assert_allclose(table.numpy(), [[-0.5 * 2.0], [0.0]])


def test_optimizer_groups_need_shared_variables():
    state = TrainingState(
        {"t": "binary"},
        {},
        FixedWeights(),
        None,
        tf.keras.optimizers.SGD(),
        shared_optimizer=tf.keras.optimizers.SGD(),
    )
    with pytest.raises(ValueError, match="optimizer groups need shared variables"):
        state.build_optimizers([tf.Variable(1.0)])


def test_reporting_weights_epoch_figures_by_rows_and_labelled_rows():
    reporting = Reporting({"a": "binary", "b": "regression"}, auxiliary_names=("aux",))
    assert [m.name for m in reporting.metrics] == [
        "loss",
        "regularization_loss",
        "a_loss",
        "b_loss",
        "weight_a",
        "weight_b",
        "aux",
        "a_auc",
        "a_logloss",
        "b_mse",
        "b_mae",
    ]
    batches = [  # (rows, labelled a, labelled b, loss a, loss b, regularization)
        (3.0, 2.0, 3.0, 0.5, 2.0, 0.25),
        (1.0, 1.0, 0.0, 1.0, 0.0, 0.25),
    ]
    for rows, la, lb, a, b, reg in batches:
        out = StepOutputs(
            rows=tf.constant(rows),
            task_losses={"a": tf.constant(a), "b": tf.constant(b)},
            labelled={"a": tf.constant(la), "b": tf.constant(lb)},
            regularization=tf.constant(reg),
            auxiliary={"aux": tf.constant(rows)},
            labels={"a": tf.zeros((int(rows), 1)), "b": tf.zeros((int(rows), 1))},
            y_pred={"a": tf.fill((int(rows), 1), 0.5), "b": tf.zeros((int(rows), 1))},
            row_weights={"a": tf.ones((int(rows),)), "b": tf.ones((int(rows),))},
        )
        reporting.update(tf.constant(a + b + reg), {"a": 1.0, "b": 2.0}, out)
    result = {m.name: float(m.result()) for m in reporting.metrics}
    assert result["loss"] == pytest.approx((3 * 2.75 + 1 * 1.25) / 4)
    assert result["a_loss"] == pytest.approx((2 * 0.5 + 1 * 1.0) / 3)
    assert result["b_loss"] == pytest.approx(2.0)  # the batch without b labels counts 0
    assert result["regularization_loss"] == pytest.approx(0.25)
    assert result["aux"] == pytest.approx((3 * 3 + 1 * 1) / 4)
    assert result["weight_b"] == 2.0


def test_auxiliary_names_must_not_clash_with_logs():
    with pytest.raises(ValueError, match="regularization_loss"):
        Reporting({"a": "binary"}, auxiliary_names=("regularization_loss",))


def test_checkpoints_hold_the_strategy_state(feats, tmp_path):
    model = _mmoe(feats)
    model.compile(optimizer="sgd", weighting=keras_mtl.weighting.DWA())
    assert model.checkpoint_extras() == {"weighting": model.weighting}
    model.weighting.last_losses.assign([0.5, 0.25])
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "ckpt"))
    model.weighting.last_losses.assign([0.0, 0.0])
    tf.train.Checkpoint(model=model).restore(path).expect_partial()
    np.testing.assert_allclose(model.weighting.last_losses.numpy(), [0.5, 0.25])


def _head_model(regularizer=None):
    x = tf.keras.Input(shape=(2,), name="x")
    head = keras_mtl.layers.TaskHead(
        "binary", kernel_initializer="ones", kernel_regularizer=regularizer, name="ctr"
    )
    return MultiTaskModel(x, {"ctr": head(x)})


def test_step_outputs_of_losses_computed_elsewhere():
    model = _head_model(tf.keras.regularizers.L2(0.5))
    out = step.outputs(
        model, tf.constant(4.0), {"ctr": tf.constant(0.5)}, auxiliary={"aux": tf.constant(0.25)}
    )
    assert isinstance(out, StepOutputs)
    assert float(out.regularization) == pytest.approx(0.5 * (1.0 + 1.0))  # 0.5 · Σ w², w = 1
    assert float(out.extra) == pytest.approx(1.0 + 0.25)  # regularization + auxiliary
    assert float(out.labelled["ctr"]) == 4.0  # every row counts for every task
    assert out.y_pred is None and out.representation is None and out.space_rows == {}
    plain = step.outputs(_head_model(), tf.constant(4.0), {"ctr": tf.constant(0.5)})
    assert plain.regularization is None and plain.extra is None and plain.auxiliary == {}


class _RecordingWeights(FixedWeights):
    """FixedWeights that keeps the context `descend` hands it."""

    def gradients(self, tape, total, weights, task_losses, variables, context):
        self.seen = (context, list(variables))
        return super().gradients(tape, total, weights, task_losses, variables, context)


def test_descend_tells_the_strategy_a_step_context(feats):
    model = _mmoe(feats)
    strategy = _RecordingWeights()
    model.compile(optimizer="sgd", weighting=strategy, run_eagerly=True)
    data = keras_mtl.data.df_to_dataset(builder_cases.frame(), feats, ["ctr", "cvr"], batch_size=16)
    model.train_on_batch(*next(iter(data)))
    context, variables = strategy.seen
    assert isinstance(context, StepContext)
    state = model.training_state
    assert context.shared == [state.is_shared(v) for v in variables]
    assert sum(context.shared) == len(model.shared_variables) > 0
    experts = {id(v) for v in model.get_layer("experts").trainable_variables}
    assert context.last_shared == [id(v) in experts for v in variables]
    assert context.representation is None and context.extra_loss is None
    assert context.step is model.optimizer.iterations
