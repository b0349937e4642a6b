"""benchmarks/_harness.py: the statistics, timers, memory readers, workers and builder table."""

import math
import os
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "benchmarks")
)
import _harness


def test_paired_mean_and_standard_error_by_hand():
    result = _harness.paired([1.0, 2.0, 4.0, 7.0], [0.0, 0.0, 1.0, 3.0])
    # differences 1, 2, 3, 4: mean 2.5, sample variance (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5 / 3
    np.testing.assert_array_equal(result.diffs, [1.0, 2.0, 3.0, 4.0])
    assert result.mean == 2.5
    assert result.se == pytest.approx(math.sqrt(5 / 3) / 2)
    assert result.higher == 4
    assert result.median == 2.5


def test_mean_se_of_one_value_and_per_column():
    assert _harness.mean_se([3.0])[0] == 3.0
    assert math.isnan(_harness.mean_se([3.0])[1])
    assert _harness.mean_se([3.0], single=0.0) == (3.0, 0.0)
    mean, se = _harness.mean_se([[1.0, 10.0], [3.0, 10.0]], axis=0)
    np.testing.assert_allclose(mean, [2.0, 10.0])
    np.testing.assert_allclose(se, [1.0, 0.0])  # sd √2 / √2
    assert _harness.paired([1.0], [0.5], single=0.0).se == 0.0


def _spin(seconds):
    end = __import__("time").process_time() + seconds
    while __import__("time").process_time() < end:
        pass


def test_timer_fields():
    with _harness.Timer(rows=1000) as timer:
        _spin(0.05)
        running = timer.cpu_s
        assert running > 0
    frozen = timer.cpu_s, timer.wall_s
    assert frozen[0] >= running >= 0.05 and frozen[1] > 0
    _spin(0.01)
    assert (timer.cpu_s, timer.wall_s) == frozen  # stopped: no longer moves
    assert timer.rows_per_cpu_s == 1000 / timer.cpu_s
    assert timer.rows_per_s == 1000 / timer.wall_s
    with pytest.raises(RuntimeError, match="never started"):
        _harness.Timer().wall_s  # noqa: B018


def test_fit_timer_times_each_epoch_after_the_skipped_steps():
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    model.compile(loss="mse", optimizer="sgd")
    timer = _harness.fit_timer(skip_steps=2)
    x = np.zeros((10, 2), "float32")
    model.fit(x, x[:, :1], batch_size=2, epochs=2, verbose=0, callbacks=[timer])
    assert len(timer.epochs) == 2 and timer.steps == 5
    assert all(epoch.wall_s > 0 and epoch.cpu_s >= 0 for epoch in timer.epochs)


def test_latencies_run_at_least_the_calls_asked():
    calls = []
    times = _harness.latencies_ms(lambda: calls.append(1), calls=7)
    assert len(times) == len(calls) == 7 and (times >= 0).all()


def test_memory_readers():
    rss, peak = _harness.rss_bytes(), _harness.peak_bytes()
    assert 0 < rss <= peak
    assert _harness.max_rss_bytes() >= 10 * _harness.MIB
    assert _harness.cpu_seconds() > 0
    with _harness.PeakSampler() as sampler:
        block = np.ones(64 * _harness.MIB // 8)
        block.sum()
    del block
    assert sampler.peak - sampler.start >= 48 * _harness.MIB


def test_worker_returns_the_function_result_and_reports_failures(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, sys, time

            def twice(x):
                return {"x": 2 * x, "env": os.environ.get("EXTRA"), "cwd_path": sys.path[0]}

            def fail():
                raise ValueError("broken on purpose")

            def sleep():
                time.sleep(30)
            """
        )
    )
    result = _harness.call(str(script), "twice", {"x": 21}, env={"EXTRA": "yes"})
    assert result["x"] == 42 and result["env"] == "yes"
    with pytest.raises(_harness.WorkerError, match="exit code 1") as failed:
        _harness.call(str(script), "fail")
    assert "ValueError: broken on purpose" in failed.value.tail(1)[0]
    with pytest.raises(_harness.WorkerError, match="timeout of 1 s"):
        _harness.call(str(script), "sleep", timeout=1)
    sleeper = _harness.Worker(str(script), "sleep")
    assert not sleeper.done()
    sleeper.kill()
    assert sleeper.done()


def _tiny_features():
    return [
        keras_mtl.SparseFeat("domain", vocabulary_size=3, embedding_dim=2),
        keras_mtl.SparseFeat("item", vocabulary_size=5, embedding_dim=2),
        keras_mtl.DenseFeat("x"),
    ]


@pytest.mark.parametrize("name", _harness.MODEL_NAMES)
def test_builder_table_builds_every_model(name):
    common = dict(
        tower_units=(2,),
        expert_units=(2,),
        bottom_units=(2,),
        num_experts=2,
        num_levels=1,
        num_shared_experts=1,
        num_specific_experts=1,
        num_task_experts=1,
    )
    model = _harness.build(name, _tiny_features(), **common)
    outputs = model({"domain": tf.constant([0, 2]), "item": tf.constant([1, 4]), "x": tf.ones(2)})
    assert outputs and all(tuple(v.shape) == (2, 1) for v in outputs.values())


def test_build_passes_the_rest_as_given_and_names_the_models():
    model = _harness.build(
        "SharedBottom", _tiny_features(), task_names=("a",), bottom_units=(2,), num_experts=9
    )
    assert list(model.output_names) == ["a"]
    with pytest.raises(TypeError):
        _harness.build("MMoE", _tiny_features(), not_an_argument=1)
    with pytest.raises(ValueError, match="among .*MMoE.*Received: name='MoE'"):
        _harness.build("MoE", _tiny_features())


def test_config_model_is_the_throughput_mmoe():
    model = _harness.config_model("mmoe", _harness.config_features(vocab=10))
    experts = 8 * (136 * 256 + 256 + 256 * 128 + 128)
    assert model.count_params() > experts
