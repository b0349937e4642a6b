"""The funnel examples (AITM, ESM², MetaHeac) run end to end on a small synthetic funnel."""

import os
import runpy

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = ["--rows", "4000", "--epochs", "2", "--batch-size", "256", "--learning-rate", "0.02"]


def _main(name):
    return runpy.run_path(os.path.join(ROOT, "examples", f"{name}.py"))["main"]


def test_aitm_example_learns_the_funnel_and_counts_rows_out_of_order():
    result = _main("aitm_funnel")(SMALL)
    assert result["auc"]["click"] > 0.6  # a constant predictor has AUC 0.5
    assert list(result["out_of_order"]) == ["purchase>click"]
    assert 0 <= result["out_of_order"]["purchase>click"] <= 800


def test_esm2_example_reports_entire_space_and_post_click_aucs():
    aucs = _main("esm2_funnel")(SMALL)
    assert sorted(aucs) == ["ctavr", "ctcvr", "ctr", "cvr_on_clicks"]
    assert aucs["ctr"] > 0.6


@pytest.mark.parametrize("flags", [[], ["--no-meta-learning"]])
def test_metaheac_example_trains_with_and_without_the_meta_step(flags):
    aucs = _main("metaheac_funnel")(SMALL + flags)
    assert aucs["click"] > 0.6
