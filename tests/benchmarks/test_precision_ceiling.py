"""benchmarks/precision_ceiling.py: the matmuls' shapes and the report's shares, by hand."""

import argparse
import os
import sys

import pytest

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "benchmarks")
)
import _config
import precision_ceiling


@pytest.mark.parametrize("model", ["mmoe", "ple"])
@pytest.mark.parametrize("grouped", [False, True])
def test_the_matmuls_are_the_models_training_flops(model, grouped):
    layers = precision_ceiling.dense_layers(model, grouped)
    # forward, input gradient, kernel gradient: 3 products of 2 FLOPs per multiply-add
    assert 6 * sum(a * b for a, b in layers) == _config.train_flops_per_row(model)


def test_ple_layers_grouped_by_input():
    # level 1: 8 experts (256), 2 task gates (6 experts each), shared gate (8) read x;
    # level 2: each task's 2 experts and gate read its branch, the 4 shared experts theirs
    assert precision_ceiling.dense_layers("ple", grouped=True)[:4] == [
        (136, 8 * 256 + 2 * 6 + 8),
        (128, 2 * 256 + 6),
        (128, 2 * 256 + 6),
        (128, 4 * 256),
    ]
    assert len(precision_ceiling.dense_layers("ple", grouped=False)) == 11 + 2 * 3 + 4 + 16 + 4


def test_report_sets_the_target_against_the_best_raw_step_and_the_matmuls():
    entry = {
        "rows_per_cpu_s": {"float32": 800.0, "float32+chains": 1000.0, "bfloat16": 900.0},
        "flops_per_row": 1e6,
        "best": {"float32": 1000.0, "bfloat16": 900.0},
        "matmuls_only": {"float32": 2000.0, "bfloat16": 1500.0},
        "full": {
            "keras_mtl+auto/float32": {"median": 900.0, "rounds": [900.0]},
            "deepctr/float32": {"median": 640.0, "rounds": [640.0]},
        },
    }
    result = {"models": {"ple": entry}, "machine": "test CPU", "command": "python x.py"}
    args = argparse.Namespace(rounds=1, steps=2, rows=100)
    text = precision_ceiling.markdown(result, args)
    assert "Command: `python x.py`" in text and "Machine: test CPU" in text
    assert "| ple | float32+chains | 1,000 | 1 |" in text  # 1000 rows × 1 MFLOP = 1 GFLOP
    assert "| ple | float32 | keras_mtl+auto | 900 | 90% | 45% |" in text
    # 1.25 × 640 = 800: 80% of the best raw step, 40% of the matmuls alone
    assert "is 800 = **80%** of the best raw step (1,000) and **40%** of the matmuls" in text
    assert "bfloat16 / float32, best raw step of each: **0.90×**; matmuls only: **0.75×**" in text
