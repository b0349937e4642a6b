"""benchmarks/_precision_sweep.py: configurations, ratios and target checks, by hand."""

import os
import sys

import pytest

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "benchmarks")
)
import _precision_sweep as sweep


def _summary(rates):
    """`{key: {"rows_per_cpu_s": rate}}` from `{(lib, model, precision, vocab): rate}`."""
    return {key: {"rows_per_cpu_s": rate} for key, rate in rates.items()}


def test_ids_label():
    assert [sweep.ids_label(n) for n in (1000, 20_000, 1_000_000, 1500, 999)] == [
        "1k",
        "20k",
        "1M",
        "1,500",
        "999",
    ]


def test_configurations_skip_torch_float16_and_peers_above_max_vocab():
    keys, skipped = sweep.configurations(
        ["keras_mtl", "deepctr", "torch_rechub"],
        ["mmoe"],
        ["float32", "float16"],
        [1000, 10**6],
        peer_max_vocab=1000,
    )
    assert keys == [
        ("keras_mtl", "mmoe", "float32", 1000),
        ("deepctr", "mmoe", "float32", 1000),
        ("torch_rechub", "mmoe", "float32", 1000),
        ("keras_mtl", "mmoe", "float16", 1000),
        ("deepctr", "mmoe", "float16", 1000),
        ("keras_mtl", "mmoe", "float32", 10**6),
        ("keras_mtl", "mmoe", "float16", 10**6),
    ]
    assert sorted(skipped) == [
        "deepctr/mmoe/float16/1M",
        "deepctr/mmoe/float32/1M",
        "torch_rechub/mmoe/float16/1M",
        "torch_rechub/mmoe/float16/1k",
        "torch_rechub/mmoe/float32/1M",
    ]
    assert skipped["torch_rechub/mmoe/float16/1k"] == "torch_rechub runs float32 and bfloat16 only"


def test_ratio_and_table_cells():
    summary = _summary(
        {
            ("keras_mtl", "mmoe", "float32", 1000): 30_000.0,
            ("keras_mtl", "mmoe", "bfloat16", 1000): 45_000.0,
            ("keras_mtl", "mmoe", "bfloat16", 10**6): 9_000.0,
            ("deepctr", "mmoe", "bfloat16", 10**6): 4_500.0,
            ("torch_rechub", "mmoe", "bfloat16", 10**6): 3_000.0,
        }
    )
    key = ("keras_mtl", "mmoe", "bfloat16", 10**6)
    assert sweep.ratio(summary, key, ("deepctr", "mmoe", "bfloat16", 10**6)) == 2.0
    assert sweep.ratio(summary, key, ("deepctr", "mmoe", "float32", 10**6)) is None
    # × own float32 (missing at 1M), ÷ deepctr, ÷ torch_rechub, × own 1k (9000 / 45000)
    assert sweep._cells(summary, key, ["deepctr", "torch_rechub"], 1000) == [
        "",
        "2.00×",
        "3.00×",
        "0.20×",
    ]
    # at the smallest vocab the × own smallest cell is empty, × own float32 is 45000 / 30000
    small = ("keras_mtl", "mmoe", "bfloat16", 1000)
    assert sweep._cells(summary, small, ["deepctr"], 1000) == ["1.50×", "", ""]
    # a peer's row does not divide by itself
    peer = ("deepctr", "mmoe", "bfloat16", 10**6)
    assert sweep._cells(summary, peer, ["deepctr", "torch_rechub"], 1000) == ["", "", "1.50×", ""]


def test_target_lines_reached_and_not_reached():
    summary = _summary(
        {
            ("keras_mtl", "mmoe", "float32", 1000): 30_000.0,
            ("keras_mtl", "mmoe", "float32", 10**6): 24_000.0,  # 0.80×: reached (boundary)
            ("keras_mtl+auto", "mmoe", "float32", 1000): 24_000.0,
            ("keras_mtl+auto", "mmoe", "float32", 10**6): 12_000.0,  # 0.50×
            ("deepctr", "mmoe", "float32", 1000): 20_000.0,
        }
    )
    lines = sweep.target_lines(
        summary, ["keras_mtl", "keras_mtl+auto", "deepctr"], ["mmoe"], ["float32"], [10**6, 1000]
    )
    assert lines == [
        "- mmoe float32 at 1k ids: keras_mtl 30,000 rows/CPU-s = 1.50× DeepCTR's under the "
        "same policy; target ≥ 1.25×: reached",
        "- mmoe float32 at 1M ids: keras_mtl 24,000 rows/CPU-s = 0.80× its own at 1k ids; "
        "target ≥ 0.8×: reached",
        "- mmoe float32 at 1k ids: keras_mtl+auto 24,000 rows/CPU-s = 1.20× DeepCTR's under the "
        "same policy; target ≥ 1.25×: not reached",
        "- mmoe float32 at 1M ids: keras_mtl+auto 12,000 rows/CPU-s = 0.50× its own at 1k ids; "
        "target ≥ 0.8×: not reached",
    ]


def test_target_lines_say_when_a_run_is_missing():
    summary = _summary({("keras_mtl", "mmoe", "bfloat16", 10**6): 1.0})
    lines = sweep.target_lines(summary, ["keras_mtl"], ["mmoe"], ["bfloat16"], [1000, 10**6])
    assert lines == [
        "- mmoe bfloat16 at 1k ids: keras_mtl ÷ DeepCTR not measured (one of them did not run)",
        "- mmoe bfloat16 at 1M ids: keras_mtl × own 1k not measured (a run is missing)",
    ]


def test_precision_checks_use_the_best_keras_mtl_variant_per_vocab():
    summary = _summary(
        {
            ("keras_mtl", "mmoe", "float32", 1000): 20_000.0,
            ("keras_mtl+auto", "mmoe", "float32", 1000): 25_000.0,
            ("keras_mtl", "mmoe", "bfloat16", 1000): 40_000.0,
            ("keras_mtl+auto", "mmoe", "bfloat16", 1000): 30_000.0,
            ("deepctr", "mmoe", "bfloat16", 1000): 32_000.0,
        }
    )
    lines = sweep.precision_checks(
        summary,
        ["keras_mtl", "keras_mtl+auto", "deepctr"],
        ["mmoe"],
        ["float32", "bfloat16"],
        [1000],
    )
    assert lines == [
        "- mmoe bfloat16 at 1k ids: keras_mtl (keras_mtl) 40,000 rows/CPU-s = 1.60× its float32 "
        "(keras_mtl+auto, 25,000); target 1.5×: reached",
        "- mmoe bfloat16 at 1k ids: keras_mtl (keras_mtl) = 1.25× DeepCTR's 32,000 rows/CPU-s "
        "under the same policy; target 1.3×: not reached",
    ]


def test_parse_rejects_unknown_precision_and_sorts_vocabs():
    args = type(
        "Args", (), {"precision": "float32,bfloat16", "vocab": "1000000,1000", "libs": None}
    )()
    args.models = None
    assert sweep.parse(args, 1000) == (
        ["float32", "bfloat16"],
        [1000, 1_000_000],
        list(sweep.LIBRARIES),
        ["mmoe", "ple"],
    )
    args.vocab = None
    assert sweep.parse(args, 1000)[1] == [1000]
    args.precision = "int8"
    with pytest.raises(SystemExit, match="Received: \\['int8'\\]"):
        sweep.parse(args, 1000)
