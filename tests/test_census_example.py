"""The main job: MMoE on the packaged census sample, trained and exported."""

import os
import runpy

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_census_example_trains_beyond_a_constant_predictor_and_exports(tmp_path):
    module = runpy.run_path(os.path.join(ROOT, "examples", "census_income.py"))
    aucs = module["main"](["--epochs", "8", "--export-dir", str(tmp_path / "census")])
    # a constant predictor has AUC 0.5 on both tasks
    assert aucs["income"] > 0.8
    assert aucs["never_married"] > 0.95
    assert os.path.isfile(tmp_path / "census" / "1" / "saved_model.pb")


@pytest.mark.parametrize("flag", ["--epochs", "--batch-size"])
def test_census_example_rejects_non_integer_flags(flag):
    module = runpy.run_path(os.path.join(ROOT, "examples", "census_income.py"))
    with pytest.raises(SystemExit):
        module["parse_args"]([flag, "x"])
