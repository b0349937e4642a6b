"""ParameterServerStrategy: tf_keras 2 trains on a loopback cluster; Keras 3 refuses.

Keras 3 has no ParameterServerStrategy (keras-team/keras#18624), so the tests
depend on the flavour of the run: the tf_keras run (`TF_USE_LEGACY_KERAS=1`,
CI's second pass) trains on a cluster of two workers and two parameter servers
on 127.0.0.1 (tests/training/parameter_server_run.py, one subprocess bounded
by TIMEOUT_S: every builder of keras_mtl.models with one weighting strategy
each, round robin, and MMoE in detail); the Keras 3 run checks that building,
compiling and fitting under the strategy fail at once with an error that says
what to do.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from tests.weighting import strategy_cases

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LEGACY_KERAS = tf.keras.__name__.startswith("tf_keras")
TIMEOUT_S = 900


def run(args, env_legacy, timeout=TIMEOUT_S):
    env = dict(
        os.environ,
        TF_USE_LEGACY_KERAS="1" if env_legacy else "0",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONPATH=ROOT,
    )
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


if not LEGACY_KERAS:
    REFUSAL = textwrap.dedent(
        """
        import json, socket
        import tensorflow as tf
        import keras_mtl

        def port():
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                return s.getsockname()[1]

        spec = tf.train.ClusterSpec({"worker": [f"127.0.0.1:{port()}"],
                                     "ps": [f"127.0.0.1:{port()}"]})
        tf.distribute.Server(spec, job_name="worker", task_index=0, protocol="grpc")
        tf.distribute.Server(spec, job_name="ps", task_index=0, protocol="grpc")
        strategy = tf.distribute.experimental.ParameterServerStrategy(
            tf.distribute.cluster_resolver.SimpleClusterResolver(spec, rpc_layer="grpc"))
        feats = [keras_mtl.SparseFeat("item", vocabulary_size=10), keras_mtl.DenseFeat("price")]
        errors = {}

        def attempt(what, call):
            try:
                call()
            except RuntimeError as error:
                errors[what] = str(error)

        def build():
            with strategy.scope():
                keras_mtl.MMoE(feats, num_experts=2, expert_units=(4,))
        attempt("build", build)
        model = keras_mtl.MMoE(feats, num_experts=2, expert_units=(4,))

        def compile_in_scope():
            with strategy.scope():
                model.compile(optimizer="adam")
        attempt("compile", compile_in_scope)
        model.compile(optimizer="adam")
        x = {"item": tf.constant([1, 2]), "price": tf.constant([0.5, 1.0])}
        y = {"ctr": tf.constant([0.0, 1.0]), "cvr": tf.constant([1.0, 0.0])}

        def fit_in_scope():
            with strategy.scope():
                model.fit(x, y, epochs=1, verbose=0)
        attempt("fit", fit_in_scope)
        print(json.dumps({"errors": errors, "keras": tf.keras.__name__}))
        """
    )

    def test_keras_3_refuses_parameter_servers_and_says_how_to_use_them():
        out = json.loads(run(["-c", REFUSAL], env_legacy=False, timeout=300).splitlines()[-1])
        assert not out["keras"].startswith("tf_keras")
        assert sorted(out["errors"]) == ["build", "compile", "fit"]
        for what, message in out["errors"].items():
            assert message.startswith(
                f"cannot {what} a keras_mtl model under ParameterServerStrategy"
            )
            assert "TF_USE_LEGACY_KERAS=1" in message
            assert "keras-team/keras#18624" in message
            assert keras_mtl.keras_compat.PARAMETER_SERVER_DOC in message

    def test_the_refusal_names_a_section_of_the_distributed_doc():
        anchor = keras_mtl.keras_compat.PARAMETER_SERVER_DOC.split("#")[1]
        with open(os.path.join(ROOT, "docs", "distributed.md")) as f:
            titles = [line.lstrip("#").strip() for line in f if line.startswith("## ")]
        slugs = [
            "".join(c for c in t.lower() if c.isalnum() or c in " -").replace(" ", "-")
            for t in titles
        ]
        assert anchor in slugs

else:
    #: builder name -> the weighting strategy it trains with (round robin)
    RUNS = {
        name: strategy_cases.NAMES[i % len(strategy_cases.NAMES)]
        for i, name in enumerate(keras_mtl.models.__all__)
    }

    @pytest.fixture(scope="module")
    def report(tmp_path_factory):
        out = tmp_path_factory.mktemp("parameter_servers")
        run(
            [
                os.path.join(ROOT, "tests", "training", "parameter_server_run.py"),
                str(out),
                json.dumps(RUNS),
            ],
            env_legacy=True,
        )
        with open(out / "report.json") as f:
            return json.load(f)

    def test_every_builder_trains_under_parameter_servers(report):
        assert sorted(report["builders"]) == sorted(keras_mtl.models.__all__)
        for name, result in report["builders"].items():
            assert result["weighting"] == RUNS[name]
            assert np.isfinite(result["loss"]).all(), (name, result)
            # tiny runs: a variable may stay put (an unreached bias); most move
            assert result["moved"] >= 0.9 * result["variables"], (name, result)

    def test_every_weighting_strategy_ran_under_parameter_servers():
        assert set(RUNS.values()) == set(strategy_cases.NAMES)

    PS_TASKS = [
        "/job:ps/replica:0/task:0/device:CPU:0",
        "/job:ps/replica:0/task:1/device:CPU:0",
    ]

    def test_every_embedding_stack_is_sharded_by_rows_across_both_parameter_servers(report):
        stacks = report["mmoe"]["stacks"]
        # one stack per width: the tiny tables of width 3; the domain's and big_id's of width 2
        assert sorted(stacks) == ["embedding_tables_2", "embedding_tables_3"]
        assert stacks["embedding_tables_2"]["tables"] == {"domain": 4, "big_id": 100_001}
        for name, stack in stacks.items():
            assert stack["type"] == "ShardedVariable", name
            assert stack["rows"] == sum(stack["tables"].values()), name
            shapes = [s["shape"] for s in stack["shards"]]
            # by rows, nearly even, one shard on each PS task: never a whole stack on one
            assert sorted(s["device"] for s in stack["shards"]) == PS_TASKS, name
            assert sum(rows for rows, _ in shapes) == stack["rows"], name
            assert max(r for r, _ in shapes) - min(r for r, _ in shapes) <= 1, name
            width = int(name.rsplit("_", 1)[1])
            assert all(w == width for _, w in shapes), name

    def test_a_sharded_stack_gets_its_optimizer_by_its_whole_rows(report):
        stacks = report["mmoe"]["stacks"]
        threshold = keras_mtl.training.optimizer_groups.DENSE_TABLE_MAX_ROWS
        big, small = stacks["embedding_tables_2"], stacks["embedding_tables_3"]
        # each shard of the big stack is under the threshold: the whole stack counts
        assert big["rows"] > threshold >= max(s["shape"][0] for s in big["shards"])
        assert {(s["group"], s["optimizer"]) for s in big["shards"]} == {("embeddings", "LazyAdam")}
        # the small stack stays with the compiled Adam (the "shared" group's fallback)
        assert small["rows"] <= threshold
        assert report["mmoe"]["compiled_optimizer"] == "Adam"
        assert {(s["group"], s["optimizer"]) for s in small["shards"]} == {("shared", "Adam")}

    def test_a_sharded_model_warm_starts_kept_rows_and_slots_by_id(report):
        warm = report["mmoe"]["warm_start"]
        assert warm["size_counts"]["admitted"] == 3 and warm["size_counts"]["evicted"] == 2
        assert warm["kept"] == 3  # sizes 3 and 4 seen again; 0 first of the unseen by value
        assert warm["row_diff"] == 0.0 and warm["slot_diff"] == 0.0
        assert warm["old_slot_max"] > 0  # the kept rows were trained
        for stack in warm["stacks"].values():
            assert stack["type"] == "ShardedVariable"
            assert sorted(s["device"] for s in stack["shards"]) == PS_TASKS
        assert warm["iterations"][0] == warm["iterations"][1] == warm["new_iterations"] > 0

    def test_loss_falls(report):
        loss = report["mmoe"]["loss"]
        assert np.isfinite(loss).all()
        assert np.mean(loss[-2:]) < loss[0], loss

    def test_the_export_equals_the_coordinators_model(report):
        mmoe = report["mmoe"]
        served = tf.saved_model.load(mmoe["saved_model"]).signatures["serving_default"]
        rows = {name: np.asarray(values) for name, values in mmoe["rows"].items()}
        rows = {
            name: v.astype("float32") if v.dtype == np.float64 else v for name, v in rows.items()
        }
        out = served(**{name: tf.constant(v) for name, v in rows.items()})
        assert sorted(out) == sorted(mmoe["predictions"]) == ["ctr", "cvr"]
        for task, expected in mmoe["predictions"].items():
            np.testing.assert_allclose(
                out[task].numpy().reshape(-1), np.asarray(expected).reshape(-1), atol=1e-6
            )
        assert mmoe["onnx_max_abs_diff"] < 1e-5
        # every stack, sharded, written whole
        assert sorted(mmoe["onnx_tables"]) == [
            "embedding_tables_2/embeddings",
            "embedding_tables_3/embeddings",
        ]
        assert set(mmoe["onnx_tables"].values()) == {0.0}

    def test_checkpoints_hold_whole_tables(report):
        mmoe = report["mmoe"]
        assert mmoe["checkpoint_to_unsharded"] == 0.0
        assert mmoe["checkpoint_to_sharded"] == 0.0
        assert mmoe["checkpoint_steps"] == [24, 24, 24]  # 6 epochs x 4 steps, optimizer restored

    def test_backup_and_restore_resumes_a_stopped_run(report):
        resume = report["mmoe"]["resume"]
        assert resume["first_resumed_epoch"] == 2 and resume["resumed_epochs"] == 2
        assert resume["max_diff_at_resume"] == 0.0
        stopped, resumed = resume["strategy_state"]
        assert stopped == resumed and np.any(np.asarray(stopped) != 0)
        assert np.isfinite(resume["loss"]).all()

    def test_refusals_say_what_to_do(report):
        mmoe = report["mmoe"]
        assert mmoe["export_in_scope"].startswith(
            "RuntimeError: cannot export a sharded model inside ParameterServerStrategy.scope()"
        )
        assert mmoe["mamdr"].startswith("ValueError: MAMDR runs in one process")
